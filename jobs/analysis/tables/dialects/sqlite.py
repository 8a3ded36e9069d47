"""SQLite files, opened read-only."""

from __future__ import annotations

from sqlalchemy import text

# As Django names its backend, which the profiling code asks.
VENDOR = "sqlite"
SCHEMES = {"sqlite"}
DRIVER = "sqlite+pysqlite"
SYSTEM_SCHEMAS: set[str] = set()


def connect_args(timeout: float) -> dict:
    return {"timeout": 10}


def read_only(url):
    """The file opened as a read-only SQLite URI: nothing the app runs can change it."""
    return url.set(database=f"file:{url.database}", query={"mode": "ro", "uri": "true"})


def begin(connection, timeout: float) -> None:
    connection.execute(text("PRAGMA query_only = ON"))


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
