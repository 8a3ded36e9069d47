"""Commits that need not wait for the disk: for writes whose loss in a crash of the
database server itself costs little (a hint such as who is watching a job, a resume
point that only saves redoing a step).

PostgreSQL normally answers a commit only once its log is flushed to disk. In a burst,
hundreds of such commits a second queue for that flush, and every request that writes
waits in line: a burst of 400 jobs spent more time waiting for the log's flush than in
its own work (docs/benchmarks.md, 6.3). With `synchronous_commit` off for one
transaction, the commit is visible to everyone at once and reaches the disk within a
fraction of a second; only a crash of the database server (not of this process) in that
fraction can lose it, and never half of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

# Sent in front of the statement, in the same query string: PostgreSQL runs a string of
# several statements as one transaction, so the setting holds for that one alone.
_OFF = "SET LOCAL synchronous_commit TO OFF; "


@contextmanager
def not_waiting_for_disk(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The block's one write statement, committed without waiting for the disk.

    The setting goes to the server with the statement, in one round trip: a watch mark
    used to take four (BEGIN, SET LOCAL, the UPDATE, COMMIT), each a wait for a
    PostgreSQL backend just when a burst keeps them busy. Inside a transaction the caller
    opened, nothing changes: how durable that transaction is stays the caller's choice
    (a statement the ORM wraps in a transaction of its own, as bulk_create does, still
    gets the setting, for that transaction). Databases other than PostgreSQL (SQLite in
    development) commit as usual. A second statement in the block is refused: it would
    be a transaction of its own, not one with the first."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not _autocommitting(connection):
        yield
        return
    statements = 0

    def setting_first(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        if statements > 1 or many:
            raise RuntimeError("not_waiting_for_disk() is for one statement.")
        return execute(_OFF + sql, params, many, context)

    with connection.execute_wrapper(setting_first):
        yield


def _autocommitting(connection) -> bool:
    # Outside any transaction the caller opened, with atomic() or by turning autocommit
    # off itself.
    return not connection.in_atomic_block and connection.get_autocommit()
