"""Account e-mails go from the worker, never from the request: a password reset answers
the same, after the same work, whether or not an account has the address; and resets,
address changes and invitations are limited per address and per account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import OrmQ

from jobs.accounts import invitations, mailing
from tests.accounts.conftest import run_account_mail
from tests.conftest import wait_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def ask_reset(address: str):
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("password_reset"), {"email": address})
    return response, [shape(query["sql"]) for query in queries.captured_queries]


def shape(sql: str) -> str:
    """A statement without its values: what work it is, not for whom."""
    return re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", sql)


def queued() -> int:
    return sum(1 for row in OrmQ.objects.all() if row.task.get("group") == mailing.GROUP)


def test_a_reset_answers_the_same_after_the_same_work_for_any_address():
    make_user("alice", email="alice@example.com")

    known, known_work = ask_reset("alice@example.com")
    unknown, unknown_work = ask_reset("nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] and known.content == unknown.content
    # The same statements, in the same order: no lookup of the address, no mail sent.
    assert known_work == unknown_work
    assert not any("auth_user" in sql for sql in known_work)
    assert mail.outbox == [] and queued() == 2
    assert run_account_mail() == [1, 0]
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]


def test_resets_are_limited_per_address_and_per_account(settings):
    settings.ACCOUNT_MAIL_LIMIT = 2
    make_user("alice", email="alice@example.com")

    answers = [ask_reset(address)[0] for address in ["alice@example.com", "ALICE@example.com",
                                                       "alice@example.com"]]  # fmt: skip
    sent_by_address = run_account_mail()
    # Straight to the task (an address written another way, for the same account).
    sent_by_account = mailing.send_password_reset("alice@example.com")

    assert {answer["Location"] for answer in answers} == {reverse("password_reset_done")}
    assert sent_by_address == [1, 1], "the third ask, past the address's limit, queued nothing"
    assert sent_by_account == 0 and len(mail.outbox) == 2


def test_address_changes_are_limited_per_address_and_per_account(alice_client, settings):
    settings.ACCOUNT_MAIL_LIMIT = 2
    url = reverse("accounts:profile_email")

    first = [alice_client.post(url, {"email": f"new{n}@example.com"}) for n in range(3)]
    bob = Client()
    bob.force_login(make_user("bob"))
    theirs = [bob.post(url, {"email": "new0@example.com"}) for _ in range(2)]

    assert [answer.status_code for answer in first] == [302, 302, 400]
    assert "Too many confirmation e-mails" in first[2].text, "past the account's limit"
    assert [answer.status_code for answer in theirs] == [302, 400], "past the address's limit"
    assert mail.outbox == []
    run_account_mail()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "new0@example.com", "new0@example.com", "new1@example.com",
    ]  # fmt: skip


def test_invitations_are_limited_per_address_and_per_inviter(settings):
    settings.ACCOUNT_MAIL_LIMIT = 2
    boss, other = make_user("boss", is_staff=True), make_user("other", is_staff=True)

    invitations.invite("a@example.com", invited_by=boss)
    invitations.invite("b@example.com", invited_by=boss)
    with pytest.raises(invitations.InvitationError, match="from your account"):
        invitations.invite("c@example.com", invited_by=boss)
    invitations.invite("a@example.com", invited_by=other)
    with pytest.raises(invitations.InvitationError, match="Too many invitations"):
        invitations.invite("a@example.com", invited_by=other)


def test_a_real_worker_sends_the_reset(transactional_db, worker):
    make_user("alice", email="alice@example.com")

    response, _ = ask_reset("alice@example.com")

    assert response.status_code == 302
    wait_for(lambda: queued() == 0, timeout=30, what="the worker taking the mail task")
    # The worker's mail backend in development prints each message to its log.
    wait_for(lambda: "Reset your Long jobs password" in worker.log(), timeout=15,
             what="the reset e-mail in the worker's output")  # fmt: skip
    assert "To: alice@example.com" in worker.log()
