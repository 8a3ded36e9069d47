"""How many account e-mails one address or one account may cause: at most
ACCOUNT_MAIL_LIMIT in ACCOUNT_MAIL_WINDOW_MINUTES each, counted in the database so every
web and worker process counts the same ones. Keys are hashed: the table holds no
address."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import MailAttempt


def address_key(purpose: str, email: str) -> str:
    return f"{purpose}:address:{email.strip().lower()}"


def account_key(purpose: str, user) -> str:
    return f"{purpose}:account:{user.pk}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def allow(*keys: str) -> bool:
    """Whether one more e-mail is allowed for every key; counted against each when it is."""
    since = timezone.now() - timedelta(minutes=settings.ACCOUNT_MAIL_WINDOW_MINUTES)
    hashes = [_hash(key) for key in keys]
    with transaction.atomic():
        MailAttempt.objects.filter(key__in=hashes, at__lte=since).delete()
        for key_hash in hashes:
            if MailAttempt.objects.filter(key=key_hash).count() >= settings.ACCOUNT_MAIL_LIMIT:
                return False
        MailAttempt.objects.bulk_create(MailAttempt(key=key_hash) for key_hash in hashes)
    return True
