"""Changing one's e-mail address: the new address gets a link, and the account takes it
only when its owner opens that link, logged in, within EMAIL_CHANGE_HOURS. Until then
notifications keep going to the old one."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from jobs.accounts import links, throttling
from jobs.models import EmailChange

logger = logging.getLogger(__name__)


class EmailChangeError(Exception):
    """Why the address cannot be changed; the message is meant for the user."""


def check_request(user, new_email: str) -> None:
    """Whether a confirmation link may go to `new_email` now: raises EmailChangeError
    when this server sends no e-mail, or the address or the account had its share of
    links (ACCOUNT_MAIL_LIMIT). The link itself goes from a worker (`send_confirmation`,
    through jobs/accounts/mailing.py)."""
    if not settings.EMAIL_ENABLED:
        raise EmailChangeError(
            "This server sends no e-mail (no mail server is set up), so it cannot confirm "
            "a new address."
        )
    keys = (
        throttling.address_key("email-change", new_email),
        throttling.account_key("email-change", user),
    )
    if not throttling.allow(*keys):
        raise EmailChangeError(
            f"Too many confirmation e-mails were asked for this address or this account; "
            f"try again within {settings.ACCOUNT_MAIL_WINDOW_MINUTES} minutes."
        )


def send_confirmation(user, new_email: str) -> bool:
    """Send the confirmation link to `new_email`; False when the mail server refused."""
    token, token_hash = links.new_token()
    change = EmailChange.objects.create(user=user, new_email=new_email, token_hash=token_hash)
    link = links.absolute_url("accounts:email_confirm", token)
    body = (
        f"Someone, hopefully you ({user.get_username()}), asked to use this address for "
        "their Long jobs account.\n\n"
        f"Open this link, logged in, within {settings.EMAIL_CHANGE_HOURS} hours to confirm:\n"
        f"{link}\n\nIf it was not you, ignore this e-mail: nothing changes.\n"
    )
    try:
        send_mail("Confirm your e-mail address", body, None, [new_email])
    except Exception:
        logger.exception("e-mail confirmation failed user_id=%s", user.pk)
        change.delete()
        return False
    logger.info("e-mail change requested user_id=%s", user.pk)
    return True


def pending(user, token: str) -> EmailChange | None:
    """The change the link with `token` asks of `user`, while it may still be confirmed."""
    if not token or len(token) > 100:
        return None
    since = timezone.now() - timedelta(hours=settings.EMAIL_CHANGE_HOURS)
    return EmailChange.objects.filter(
        user=user, token_hash=links.hash_token(token), created_at__gt=since
    ).first()


def confirm(user, token: str) -> str:
    """Give `user` the address the link with `token` was sent to. Raises EmailChangeError
    for a link that is unknown, someone else's, used or expired."""
    if not token or len(token) > 100:
        raise EmailChangeError("This confirmation link is not valid.")
    since = timezone.now() - timedelta(hours=settings.EMAIL_CHANGE_HOURS)
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(user=user, token_hash=links.hash_token(token), created_at__gt=since)
            .first()
        )
        if change is None:
            raise EmailChangeError(
                "This confirmation link is not valid: it was used already, it expired, or "
                "it belongs to another account. Ask for a new one from your profile."
            )
        taken = (
            get_user_model()
            .objects.filter(email__iexact=change.new_email)
            .exclude(pk=user.pk)
            .exists()
        )
        # Used or not, the link is spent.
        EmailChange.objects.filter(user=user).delete()
        if taken:
            raise EmailChangeError("Another account uses this address already.")
        user.email = change.new_email
        user.save(update_fields=["email"])
    logger.info("e-mail address changed user_id=%s", user.pk)
    return user.email


def tell_old_address(user, old_email: str) -> None:
    """The address the account had hears that it no longer has it: if someone else
    changed it, its owner learns at once."""
    body = (
        f"The e-mail address of your Long jobs account {user.get_username()} was changed; "
        "this address no longer receives its e-mails.\n\n"
        "If it was not you, reset your password and tell your administrator.\n"
    )
    try:
        send_mail("Your e-mail address was changed", body, None, [old_email])
    except Exception:
        logger.exception("e-mail change notice failed user_id=%s", user.pk)
