from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.core import mail

LINK = re.compile(r"https?://\S+")


def run_account_mail() -> list:
    """Run the account e-mails queued for the worker, as a worker would (the tests of
    tests/accounts/test_mail_tasks.py run them in a real cluster), oldest first."""
    from django_q.models import OrmQ

    results = []
    for row in OrmQ.objects.order_by("id"):
        task = row.task
        if task.get("group") != "account-mail":
            continue
        module, _, name = task["func"].rpartition(".")
        function = getattr(import_module(module), name)
        row.delete()
        results.append(function(*task["args"], **task["kwargs"]))
    return results


def link_in_last_email(to: str) -> str:
    """The one link in the last e-mail sent to `to`, once the queued e-mails are sent."""
    run_account_mail()
    sent = [message for message in mail.outbox if message.to == [to]]
    assert sent, f"no e-mail to {to}"
    (link,) = LINK.findall(sent[-1].body)
    return link


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def throttled(settings):
    """django-axes on, as in production (the suite turns it off for the test client)."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return settings
