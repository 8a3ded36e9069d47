"""The account forms, each field sent missing, oversized, with a NUL byte or odd
unicode: a 4xx with the form's errors, and nothing changed."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jobs.accounts import invitations
from jobs.models import EmailChange
from tests.accounts.conftest import path_of
from tests.factories import PASSWORD
from tests.test_bad_input import NUL, OVERSIZED, TEXT, variants

NEW = "plum-orchard-velvet-9"


def refused(response) -> bool:
    return 400 <= response.status_code < 500 and 'class="errorlist' in response.text


def test_every_profile_form_field(alice_client, user):
    cases = [
        ("/accounts/profile/email/", {"email": "new@example.com"}),
        (
            "/accounts/profile/password/",
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        ),
    ]
    failures = []
    for url, valid in cases:
        for field in valid:
            for how, data in variants(valid, field, TEXT):
                if not refused(alice_client.post(url, data)):
                    failures.append(f"{url} {field} {how}")
    for field in ("first_name", "last_name"):
        for how, value in [("oversized", OVERSIZED), ("NUL", NUL)]:
            if not refused(alice_client.post("/accounts/profile/name/", {field: value})):
                failures.append(f"name {field} {how}")

    assert failures == []
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and user.email == "" and user.first_name == ""
    assert not EmailChange.objects.exists()


@pytest.mark.django_db
def test_every_invitation_form_field(settings):
    settings.EMAIL_ENABLED = False
    _, link = invitations.invite("new@example.com")
    client = Client()
    form_url = client.get(path_of(link))["Location"]
    valid = {"username": "newbie", "password1": NEW, "password2": NEW}

    failures = [
        f"{field} {how}"
        for field in valid
        for how, data in variants(valid, field, TEXT)
        if not refused(client.post(form_url, data))
    ]

    assert failures == []
    assert not get_user_model().objects.filter(email="new@example.com").exists()
