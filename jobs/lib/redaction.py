"""Keeps secrets out of the logs: the tokens in account links (password reset,
invitation, e-mail confirmation) are cut out of every log line, the request lines of
the development server and gunicorn's access log among them."""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

# /accounts/reset/<uidb64>/<token>/, /accounts/invitation/<token>/,
# /accounts/email/confirm/<token>/: everything after the link's prefix.
ACCOUNT_LINK = re.compile(r"(/accounts/(?:reset|invitation|email/confirm)/)[^\s\"?]+")


def redact(text: str) -> str:
    return ACCOUNT_LINK.sub(r"\1[redacted]/", text)


class RedactAccountLinks(logging.Filter):
    """A logging filter: the record's message, arguments merged in, without link tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornAccessLogger(GunicornLogger):
    """gunicorn's logger, its access lines without account link tokens (the request line,
    the path, and a Referer that came from such a link)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
