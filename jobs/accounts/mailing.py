"""The account e-mails, sent by a worker (jobs/engine/deferred.py), never in the request:
a request that asks for one answers the same, in the same time, whether or not an
account has the address. Each task takes the address or the account's id, makes the
link there (a token made in the request would sit in the queue's table) and sends."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model

from jobs.accounts import email_change
from jobs.accounts.forms import QuietPasswordResetForm
from jobs.engine import deferred

logger = logging.getLogger(__name__)
GROUP = "account-mail"


def later(function, *args) -> None:
    deferred.call_later(f"{__name__}.{function.__name__}", *args, group=GROUP)


def send_password_reset(email: str) -> int:
    """Mail a reset link to each active account with this address (none for an address
    no account has, or an account past its limit). How many were sent."""
    form = QuietPasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
        extra_email_context={"site_url": settings.SITE_URL.rstrip("/")},
    )
    return form.sent


def send_email_confirmation(user_id: int, new_email: str) -> bool:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user is not None and email_change.send_confirmation(user, new_email)


def send_old_address_notice(user_id: int, old_email: str) -> None:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None:
        email_change.tell_old_address(user, old_email)
