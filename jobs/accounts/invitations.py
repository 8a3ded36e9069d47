"""Invitations: staff invite someone by e-mail (the admin, `manage.py invite`); the link
lets them choose a username and password once, within INVITATION_DAYS. Without a mail
server the link is handed back to whoever invited, to pass on themselves."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mailers, send_mail
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.db import transaction
from django.utils import timezone

from jobs.accounts import links, throttling
from jobs.models import Invitation

logger = logging.getLogger(__name__)


class InvitationError(Exception):
    """Why an invitation cannot be made; the message is meant for the person inviting."""


def invite(email: str, *, is_staff: bool = False, invited_by=None) -> tuple[Invitation, str]:
    """A new invitation for `email`, and its link: the only time the link is known.
    An earlier invitation to the same address still open stops working."""
    email = get_user_model().objects.normalize_email(email.strip())
    if get_user_model().objects.filter(email__iexact=email).exists():
        raise InvitationError("An account with this e-mail address already exists.")
    keys = [throttling.address_key("invitation", email)]
    if invited_by is not None:
        keys.append(throttling.account_key("invitation", invited_by))
    if not throttling.allow(*keys):
        raise InvitationError(
            "Too many invitations went to this address, or from your account, lately; "
            f"try again within {settings.ACCOUNT_MAIL_WINDOW_MINUTES} minutes."
        )
    token, token_hash = links.new_token()
    with transaction.atomic():
        Invitation.objects.open().filter(email__iexact=email).update(expires_at=timezone.now())
        invitation = Invitation.objects.create(
            email=email,
            is_staff=is_staff,
            token_hash=token_hash,
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
    logger.info("invitation created id=%s staff=%s", invitation.pk, is_staff)
    return invitation, links.absolute_url("accounts:invitation", token)


def mail_goes_out() -> bool:
    """Whether an e-mail reaches anyone: not when e-mail is off, nor through the
    development console, which only prints it (quoted-printable: a long link comes out
    broken across lines, and is no use to whoever must pass it on)."""
    return settings.EMAIL_ENABLED and not isinstance(mailers.default, ConsoleBackend)


def send(invitation: Invitation, link: str) -> bool:
    """E-mail the link to the invitee. False when no e-mail goes out (see
    `mail_goes_out`) or the mail server refused: the link must then be passed on by hand."""
    if not mail_goes_out():
        return False
    days = settings.INVITATION_DAYS
    body = (
        "You are invited to Long jobs.\n\n"
        f"Choose a username and password here (the link works once, for {days} days):\n"
        f"{link}\n"
    )
    try:
        send_mail("Your invitation to Long jobs", body, None, [invitation.email])
    except Exception:
        logger.exception("invitation e-mail failed id=%s", invitation.pk)
        return False
    return True


def find_open(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return Invitation.objects.open().filter(token_hash=links.hash_token(token)).first()


def accept(invitation: Invitation, form) -> object | None:
    """Create the account from the invitee's valid form; None when the invitation was
    used or expired meanwhile (two tabs, two clicks)."""
    with transaction.atomic():
        claimed = (
            Invitation.objects.open().filter(pk=invitation.pk).update(accepted_at=timezone.now())
        )
        if not claimed:
            return None
        user = form.save(commit=False)
        user.email = invitation.email
        user.is_staff = invitation.is_staff
        user.save()
        Invitation.objects.filter(pk=invitation.pk).update(user=user)
    logger.info("invitation accepted id=%s user_id=%s", invitation.pk, user.pk)
    return user
