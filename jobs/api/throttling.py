"""Slowing down token guessing: a client address that sent API_BAD_TOKEN_LIMIT unknown
tokens within API_BAD_TOKEN_WINDOW_SECONDS is answered 429 until the oldest of them is
out of the window. The attempts are rows in the database (BadTokenAttempt), so every web
process counts the same ones; a good token from another address is never slowed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import BadTokenAttempt


def retry_after(ip_address: str) -> int | None:
    """Seconds until `ip_address` may try a token again, or None when it may now."""
    limit = settings.API_BAD_TOKEN_LIMIT
    window = timedelta(seconds=settings.API_BAD_TOKEN_WINDOW_SECONDS)
    now = timezone.now()
    recent = (
        BadTokenAttempt.objects.filter(ip_address=ip_address, at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)
    )
    # The limit-th most recent attempt: once it leaves the window, fewer than the limit remain.
    edge = recent[limit - 1 : limit].first()
    if edge is None:
        return None
    return max(1, int((edge + window - now).total_seconds()) + 1)


def record_failure(ip_address: str) -> None:
    now = timezone.now()
    window = timedelta(seconds=settings.API_BAD_TOKEN_WINDOW_SECONDS)
    # This address's attempts that no longer count go as new ones come: the table holds
    # one window's worth per address that is still trying.
    BadTokenAttempt.objects.filter(ip_address=ip_address, at__lte=now - window).delete()
    BadTokenAttempt.objects.create(ip_address=ip_address, at=now)
