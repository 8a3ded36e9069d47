"""Personal API tokens: making them, checking them, revoking them.

A key is `lj_` and a random secret; only its SHA-256 hash is stored, with its first
characters in clear so the owner can tell their keys apart. The secret has 256 bits, so
an unsalted fast hash is enough: nothing short of the key itself matches the hash.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from jobs.models import ApiToken

KEY_PREFIX = "lj_"
VISIBLE_CHARS = len(KEY_PREFIX) + 6
# last_used_at is a hint for the settings page, not an audit log: one write a minute
# per token at most, however often a script polls.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`, and its key: the only time the key is known."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:VISIBLE_CHARS], key_hash=hash_key(key)
    )
    return token, key


def user_for_key(key: str):
    """The active user whose token this key is, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_key(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke(user, token_id: int) -> bool:
    """Delete one of `user`'s tokens. False when they have no such token."""
    deleted, _ = ApiToken.objects.for_user(user).filter(pk=token_id).delete()
    return bool(deleted)
