"""The profile page: name, an e-mail address that changes only through a link sent to
it, and a password change that logs out every other session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from jobs.models import EmailChange
from tests.accounts.conftest import link_in_last_email, path_of, run_account_mail
from tests.factories import PASSWORD, make_user


def test_the_profile_says_there_is_no_address_yet_and_saves_a_name(alice_client, user):
    page = alice_client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert "Your account has no e-mail address yet" in page.text

    response = alice_client.post(
        reverse("accounts:profile_name"), {"first_name": "Alice", "last_name": "Liddell"}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Alice", "Liddell")


def test_the_notification_settings_link_to_the_profile(alice_client):
    page = alice_client.get(reverse("jobs:notification_settings"))
    assert reverse("accounts:profile") + "#email" in page.text


def test_a_new_address_is_taken_only_once_its_link_is_opened(alice_client, user):
    response = alice_client.post(reverse("accounts:profile_email"), {"email": "alice@example.com"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == ""  # not before the link is opened
    link = link_in_last_email("alice@example.com")
    assert "Waiting for you to open the link" in alice_client.get(reverse("accounts:profile")).text

    # Opening the link only asks; confirming is a POST.
    asked = alice_client.get(path_of(link))
    assert asked.status_code == 200 and "Use <strong>alice@example.com</strong>" in asked.text
    user.refresh_from_db()
    assert user.email == ""
    alice_client.post(path_of(link))

    user.refresh_from_db()
    assert user.email == "alice@example.com"
    # Single use: a second time does nothing and says so.
    again = alice_client.post(path_of(link), follow=True)
    assert "This confirmation link is not valid" in again.text


def test_another_users_link_changes_nothing(alice_client, user):
    alice_client.post(reverse("accounts:profile_email"), {"email": "alice@example.com"})
    link = link_in_last_email("alice@example.com")
    mallory = make_user("mallory", email="mallory@example.com")
    other = Client()
    other.force_login(mallory)

    assert other.get(path_of(link)).status_code == 404
    response = other.post(path_of(link), follow=True)

    assert "This confirmation link is not valid" in response.text
    mallory.refresh_from_db()
    user.refresh_from_db()
    assert (mallory.email, user.email) == ("mallory@example.com", "")


def test_an_expired_link_changes_nothing(alice_client, user, settings):
    alice_client.post(reverse("accounts:profile_email"), {"email": "alice@example.com"})
    link = link_in_last_email("alice@example.com")
    EmailChange.objects.update(
        created_at=EmailChange.objects.get().created_at
        - timedelta(hours=settings.EMAIL_CHANGE_HOURS, seconds=1)
    )

    alice_client.post(path_of(link))

    user.refresh_from_db()
    assert user.email == ""


def test_an_address_another_account_uses_is_refused_on_confirmation(alice_client, user):
    alice_client.post(reverse("accounts:profile_email"), {"email": "taken@example.com"})
    link = link_in_last_email("taken@example.com")
    make_user("bob", email="taken@example.com")

    response = alice_client.post(path_of(link), follow=True)

    assert "Another account uses this address already" in response.text
    user.refresh_from_db()
    assert user.email == ""


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b"])
def test_a_bad_address_gets_a_form_error(alice_client, email):
    response = alice_client.post(reverse("accounts:profile_email"), {"email": email})
    assert response.status_code == 400
    assert 'class="errorlist' in response.text
    assert mail.outbox == []


def test_without_a_mail_server_no_address_can_be_confirmed(alice_client, settings):
    settings.EMAIL_ENABLED = False
    response = alice_client.post(reverse("accounts:profile_email"), {"email": "a@example.com"})
    assert response.status_code == 400
    assert "This server sends no e-mail" in response.text
    assert EmailChange.objects.count() == 0


def log_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_password_change_ends_every_other_session(user):
    here, elsewhere = log_in(user.username), log_in(user.username)
    assert elsewhere.get(reverse("jobs:list")).status_code == 200

    wrong = here.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "a-new-long-secret", "new_password2": "x"},
    )
    assert wrong.status_code == 400 and 'class="errorlist' in wrong.text
    response = here.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-secret-42",
            "new_password2": "a-new-long-secret-42",
        },
        follow=True,
    )

    assert "1 other session ended" in response.text
    assert here.get(reverse("jobs:list")).status_code == 200
    assert elsewhere.get(reverse("jobs:list")).status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-secret-42")


def test_the_profile_needs_a_login_and_csrf(user):
    assert Client().get(reverse("accounts:profile")).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(reverse("accounts:profile_name"), {"first_name": "X"})
    assert response.status_code == 403


def test_the_old_address_hears_of_the_change(alice_client, user):
    user.email = "old@example.com"
    user.save()
    alice_client.post(reverse("accounts:profile_email"), {"email": "new@example.com"})
    alice_client.post(path_of(link_in_last_email("new@example.com")))
    run_account_mail()

    (notice,) = [m for m in mail.outbox if m.to == ["old@example.com"]]
    assert notice.subject == "Your e-mail address was changed"
    assert "reset your password" in notice.body
