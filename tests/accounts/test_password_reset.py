"""A forgotten password comes back by e-mail, through Django's views: one answer for every
address, a link that works once and expires, and every session ended."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import link_in_last_email, path_of, run_account_mail
from tests.factories import PASSWORD, make_user

NEW = "quartz-lantern-meadow-7"


def ask(address: str):
    return Client().post(reverse("password_reset"), {"email": address}, follow=True)


def set_password(link: str, password: str = NEW):
    client = Client()
    form = client.get(path_of(link), follow=True)
    return (
        client,
        form,
        client.post(
            form.redirect_chain[-1][0] if form.redirect_chain else path_of(link),
            {"new_password1": password, "new_password2": password},
            follow=True,
        ),
    )


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(db, settings):
    make_user("alice", email="alice@example.com")

    known, unknown = ask("alice@example.com"), ask("nobody@example.com")
    run_account_mail()

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert "If an account uses that address" in known.text
    assert known.text.replace("alice", "") == unknown.text.replace("nobody", "")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert link_in_last_email("alice@example.com").startswith(
        settings.SITE_URL + "/accounts/reset/"
    )


def test_the_link_sets_a_password_once_and_ends_every_session(db):
    alice = make_user("alice", email="alice@example.com")
    logged_in = Client()
    logged_in.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    ask("alice@example.com")
    link = link_in_last_email("alice@example.com")

    _, form, done = set_password(link)

    assert 'name="new_password1"' in form.text
    assert "Your password was set" in done.text
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert logged_in.get(reverse("jobs:list")).status_code == 302
    _, again, _ = set_password(link, "another-pass-phrase-8")
    assert "This link does not work" in again.text
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_an_expired_link_does_not_work(db, settings, monkeypatch):
    alice = make_user("alice", email="alice@example.com")
    ask("alice@example.com")
    link = link_in_last_email("alice@example.com")
    real_now = PasswordResetTokenGenerator._now
    monkeypatch.setattr(
        PasswordResetTokenGenerator,
        "_now",
        lambda self: (
            real_now(self).replace(microsecond=0)
            + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
        ),
    )

    _, form, _ = set_password(link)

    assert "This link does not work" in form.text
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_weak_password_gets_a_form_error(db):
    make_user("alice", email="alice@example.com")
    ask("alice@example.com")
    _, _, done = set_password(link_in_last_email("alice@example.com"), "12345678")
    assert 'class="errorlist' in done.text and "too common" in done.text


def test_without_a_mail_server_nothing_is_sent_and_the_page_says_so(db, settings):
    settings.EMAIL_ENABLED = False
    make_user("alice", email="alice@example.com")
    page = Client().get(reverse("password_reset"))
    assert "ask staff to reset your password" in page.text
    assert "If an account uses that address" in ask("alice@example.com").text
    assert mail.outbox == []


def test_the_login_page_links_to_the_reset(client, db):
    assert reverse("password_reset") in client.get(reverse("login")).text
