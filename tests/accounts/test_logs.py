"""No e-mail address and no token (invitation, reset, confirmation, API) ever reaches a
log line, through every account flow, failures included."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from jobs.accounts import invitations
from jobs.api import tokens
from jobs.lib.redaction import RedactAccountLinks, redact
from tests.accounts.conftest import link_in_last_email, path_of, run_account_mail
from tests.factories import make_user


def secrets_in(link: str) -> list[str]:
    return [part for part in path_of(link).split("/") if len(part) > 12]


def test_no_address_or_token_is_logged_in_any_account_flow(throttled, caplog, settings, db):
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = ["boss@example.com", "alice@example.com", "alice.new@example.com"]

    # Invitation by command, accepted.
    settings.EMAIL_ENABLED = False
    invitation, link = invitations.invite("boss@example.com", is_staff=True)
    secrets += secrets_in(link)
    client = Client()
    opened = client.get(path_of(link))
    client.post(opened["Location"], {"username": "boss", "password1": "plum-orchard-velvet-9",
                                     "password2": "plum-orchard-velvet-9"})  # fmt: skip
    settings.EMAIL_ENABLED = True

    # E-mail change, confirmed; password reset, used; with a mail server that fails too.
    alice = make_user("alice", email="alice@example.com")
    alice_client = Client()
    alice_client.force_login(alice)
    alice_client.post(reverse("accounts:profile_email"), {"email": "alice.new@example.com"})
    link = link_in_last_email("alice.new@example.com")
    secrets += secrets_in(link)
    alice_client.post(path_of(link))
    Client().post(reverse("password_reset"), {"email": "alice.new@example.com"})
    link = link_in_last_email("alice.new@example.com")
    secrets += secrets_in(link)
    reset = Client()
    form = reset.get(path_of(link), follow=True)
    reset.post(form.redirect_chain[-1][0], {"new_password1": "x-y-z-long-9", "new_password2": "x"})
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.test_logs.BrokenMailer"}}
    alice_client.post(reverse("accounts:profile_email"), {"email": "alice@example.com"})
    Client().post(reverse("password_reset"), {"email": "alice.new@example.com"})
    run_account_mail()  # the worker's part, where the mail server fails
    invitations.send(invitations.invite("boss2@example.com")[0], "http://x/accounts/invitation/t/")
    secrets.append("boss2@example.com")

    # Failed logins with an address for a username, up to the lock; bad and good tokens.
    for _ in range(4):
        Client().post(reverse("login"), {"username": "alice@example.com", "password": "no"})
    _, key = tokens.create(alice, "script")
    secrets.append(key)
    Client().get("/api/jobs", headers={"Authorization": f"Bearer {key}"})
    Client().get("/api/jobs", headers={"Authorization": "Bearer lj_notavalidkeyatall123"})
    secrets.append("lj_notavalidkeyatall123")

    # The flows did log, their failures included: the check below proves something.
    assert "invitation accepted" in caplog.text and "e-mail address changed" in caplog.text
    assert "e-mail confirmation failed" in caplog.text
    assert "invitation e-mail failed" in caplog.text
    assert "Failed to send password reset email" in caplog.text
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    for secret in secrets:
        assert secret not in logged


class BrokenMailer:
    """A mail backend whose server refuses every message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.parametrize(
    "line",
    [
        '"GET /accounts/reset/MQ/ck2x1-0a1b2c3d4e5f/ HTTP/1.1" 302 0',
        '"GET /accounts/invitation/Zk3_abc-DEF123456789/ HTTP/1.1" 302 0',
        '"GET /accounts/email/confirm/Zk3_abc-DEF123456789/ HTTP/1.1" 200 512',
        '"GET /accounts/login/?next=/accounts/email/confirm/Zk3_abc-DEF1234/ HTTP/1.1" 302 0',
    ],
)
def test_request_lines_lose_the_link_tokens(line):
    cleaned = redact(line)
    assert "[redacted]" in cleaned
    assert not re.search(r"ck2x1|Zk3_abc", cleaned)
    record = logging.LogRecord("django.server", logging.INFO, "", 0, "%s", (line,), None)
    RedactAccountLinks().filter(record)
    assert record.getMessage() == cleaned


def test_the_configured_handler_cuts_tokens_out_of_djangos_own_lines(db, client):
    """Django logs the path of every 404 ("Not Found: /accounts/invitation/<token>/"):
    the app's console handler prints it without the token."""
    import io

    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    original = handler.setStream(stream)
    try:
        response = client.get("/accounts/invitation/secret-token-1234567890/")
    finally:
        handler.setStream(original)

    assert response.status_code == 404
    printed = stream.getvalue()
    assert "Not Found: /accounts/invitation/[redacted]/" in printed
    assert "secret-token-1234567890" not in printed
