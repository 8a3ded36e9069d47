"""Telling a lost database connection from a bug: the first is an outage that passes."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

MESSAGE = "The database is unavailable right now. Your jobs are safe; try again in a minute."
# Words of a lost or refused connection, as opposed to a bad query (a bug: stays a 500).
OUTAGE_MARKERS = (
    "connection", "could not connect", "server closed", "terminating", "shutting down",
    "the database system is", "timeout", "timed out",
)  # fmt: skip


def is_outage(exception: BaseException | None) -> bool:
    if isinstance(exception, InterfaceError):
        return True
    if isinstance(exception, OperationalError):
        return any(marker in str(exception).lower() for marker in OUTAGE_MARKERS)
    return False
