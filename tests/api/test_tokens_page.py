"""The settings page for API tokens, and `manage.py create_api_token`."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from jobs.api import tokens
from jobs.models import ApiToken
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PAGE = "/settings/tokens/"


def shown_key(response) -> str | None:
    match = re.search(rb'<code id="new-token" data-new-token>([^<]+)</code>', response.content)
    return match.group(1).decode() if match else None


def works(key: str) -> bool:
    return Client().get("/api/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200


class TestPage:
    def test_it_needs_a_login(self, client):
        response = client.get(PAGE)

        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_the_nav_links_to_it(self, alice_client):
        assert f'href="{PAGE}"'.encode() in alice_client.get("/jobs/").content

    def test_a_new_token_is_shown_once_and_works(self, alice_client, user):
        response = alice_client.post(PAGE, {"name": "nightly export"})

        key = shown_key(response)
        assert response.status_code == 200
        assert key and works(key)
        assert "no-store" in response["Cache-Control"]
        # A Copy button for the token, shown by static/js/copy.js (hidden without it).
        assert b'data-copy-target="#new-token" aria-live="polite" hidden>Copy</button>' in (
            response.content
        )
        assert b"js/copy.js" in response.content
        token = ApiToken.objects.get()
        assert (token.user, token.name) == (user, "nightly export")
        again = alice_client.get(PAGE)
        assert shown_key(again) is None
        assert key.encode() not in again.content
        assert b"nightly export" in again.content
        assert token.prefix.encode() in again.content

    def test_the_list_shows_last_use(self, alice_client, user):
        _, key = tokens.create(user, "script")

        assert b"never" in alice_client.get(PAGE).content
        works(key)
        assert b"never" not in alice_client.get(PAGE).content

    @pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}])
    def test_a_bad_name_is_refused(self, alice_client, data):
        response = alice_client.post(PAGE, data)

        assert response.status_code == 400
        assert b"errorlist" in response.content
        assert shown_key(response) is None
        assert not ApiToken.objects.exists()

    def test_revoking_stops_the_token_at_once(self, alice_client, user):
        token, key = tokens.create(user, "script")
        assert works(key)

        response = alice_client.post(f"{PAGE}{token.pk}/revoke/")

        assert response.status_code == 302
        assert not works(key)
        assert not ApiToken.objects.exists()
        assert b"data-token=" not in alice_client.get(PAGE).content

    def test_another_users_token_cannot_be_revoked_or_seen(self, alice_client):
        theirs, key = tokens.create(make_user(), "theirs")

        response = alice_client.post(f"{PAGE}{theirs.pk}/revoke/")

        assert response.status_code == 404
        assert works(key)
        assert b"theirs" not in alice_client.get(PAGE).content

    def test_revoking_needs_a_post(self, alice_client, user):
        token, key = tokens.create(user, "script")

        assert alice_client.get(f"{PAGE}{token.pk}/revoke/").status_code == 405
        assert works(key)

    def test_posts_need_the_csrf_token(self, user):
        token, key = tokens.create(user, "script")
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)

        created = client.post(PAGE, {"name": "sneaky"})
        revoked = client.post(f"{PAGE}{token.pk}/revoke/")

        assert created.status_code == revoked.status_code == 403
        assert ApiToken.objects.count() == 1
        assert works(key)


class TestCommand:
    def test_it_prints_a_working_token(self, user):
        out = StringIO()

        call_command("create_api_token", user.username, "--name", "ci", stdout=out)

        key = out.getvalue().strip()
        assert works(key)
        assert ApiToken.objects.get().name == "ci"

    def test_the_name_has_a_default(self, user):
        call_command("create_api_token", user.username, stdout=StringIO())

        assert ApiToken.objects.get().name == "Command line"

    def test_an_unknown_user_is_an_error(self, user):
        with pytest.raises(CommandError, match="No user 'nobody'"):
            call_command("create_api_token", "nobody", stdout=StringIO())
        assert not ApiToken.objects.exists()

    def test_an_inactive_user_is_an_error(self):
        make_user("gone", is_active=False)

        with pytest.raises(CommandError, match="inactive"):
            call_command("create_api_token", "gone", stdout=StringIO())
        assert not ApiToken.objects.exists()
