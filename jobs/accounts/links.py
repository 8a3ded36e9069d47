"""Single-use links for e-mails: a random token, the SHA-256 hash kept in the database,
and the absolute URL on SITE_URL."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.urls import reverse


def new_token() -> tuple[str, str]:
    """A token for a link, and the hash to store: the token itself is never stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def absolute_url(name: str, *args) -> str:
    return absolute(reverse(name, args=args))
