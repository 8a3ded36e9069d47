from __future__ import annotations

import re

import pytest
from django.core import mail

LINK = re.compile(r"https?://\S+")


def link_in_last_email(to: str) -> str:
    """The one link in the last e-mail sent to `to`."""
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
