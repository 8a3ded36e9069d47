"""PostgreSQL advisory locks that say "a live worker holds this job".

The heartbeat thread takes the job's lock on its own connection and keeps it for the
whole run. If the worker dies, PostgreSQL drops the connection and with it the lock,
so a lock that is still held proves the worker lives, however late its heartbeat.
SQLite (the quick start) has no such locks; there the heartbeat alone decides.
"""

from __future__ import annotations

import uuid

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper


def lock_key(job_id) -> int:
    # A signed 64-bit key from the job's UUID: advisory locks take a bigint.
    return (uuid.UUID(str(job_id)).int & (2**64 - 1)) - 2**63


def supported(connection: BaseDatabaseWrapper = default_connection) -> bool:
    return connection.vendor == "postgresql"


def try_lock(connection: BaseDatabaseWrapper, job_id) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(job_id)])
        return bool(cursor.fetchone()[0])


def unlock(connection: BaseDatabaseWrapper, job_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(job_id)])


def held_by_a_live_worker(job_id) -> bool:
    """True while another session holds the job's lock, that is, its worker lives."""
    if not supported():
        return False
    if try_lock(default_connection, job_id):
        unlock(default_connection, job_id)
        return False
    return True
