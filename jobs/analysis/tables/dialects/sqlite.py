"""SQLite files, opened read-only."""

from __future__ import annotations

import time

from sqlalchemy import text

# As Django names its backend, which the profiling code asks.
VENDOR = "sqlite"
SCHEMES = {"sqlite"}
DRIVER = "sqlite+pysqlite"
SYSTEM_SCHEMAS: set[str] = set()
# The file is opened read-only by the app (`read_only`): no option of the URL is taken.
SAFE_OPTIONS: set[str] = set()
# SQLite calls the progress handler every this many virtual-machine instructions.
PROGRESS_STEPS = 10_000


def connect_args(timeout: float) -> dict:
    return {"timeout": 10}


def read_only(url):
    """The file opened as a read-only SQLite URI: nothing the app runs can change it."""
    return url.set(database=f"file:{url.database}", query={"mode": "ro", "uri": "true"})


def begin(connection, timeout: float) -> None:
    """Read-only, and cut off at the timeout: SQLite has no statement timeout, so a
    progress handler interrupts whatever runs past it (the connection is opened for
    this use alone: NullPool)."""
    connection.execute(text("PRAGMA query_only = ON"))
    deadline = time.monotonic() + timeout
    connection.connection.driver_connection.set_progress_handler(
        lambda: time.monotonic() > deadline, PROGRESS_STEPS
    )


def row_estimates(connection, schema: str) -> dict[str, int]:
    # No catalog estimate without ANALYZE: counting is cheap on the files SQLite holds.
    names = [
        row[0]
        for row in connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
    ]
    counts = {}
    for name in names:
        quoted = name.replace('"', '""')
        counts[name] = connection.execute(text(f'SELECT COUNT(*) FROM "{quoted}"')).scalar_one()
    return counts
