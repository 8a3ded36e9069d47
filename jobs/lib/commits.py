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

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def not_waiting_for_disk(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The block's writes in one transaction whose commit does not wait for the disk.

    Inside a transaction the caller opened, nothing changes: how durable that
    transaction is stays the caller's choice. Databases other than PostgreSQL (SQLite in
    development) commit as usual."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            # For this transaction only: the setting ends with it.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
