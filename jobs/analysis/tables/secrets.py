"""Secrets kept in the database encrypted (a connection's URL, with its password), with a
key from the environment: CONNECTION_KEY, which production requires (site/settings.py)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another key (CONNECTION_KEY changed)."""


def _fernet() -> Fernet:
    # Any string makes a key: Fernet's own 32 bytes, from a hash of it.
    digest = hashlib.sha256(settings.CONNECTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "This connection's credentials cannot be read with the current CONNECTION_KEY; "
            "add the connection again."
        ) from None
