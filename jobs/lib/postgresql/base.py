"""Django's PostgreSQL backend, its health check made free while the connection is quiet.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before the first query
of every request with a `SELECT 1`: a round trip to the server on every page load and
every form post, beside their three to five queries. A connection the server ended
(restarted, a backend terminated, an idle timeout in between) has something to read on
its socket (the server's last message, or its end), while a quiet healthy one has none.
So the check first looks at the socket without waiting: nothing there and no
transaction left open means the connection is as it was left, usable, and only when
something is there (or the driver holds it closed or mid-transaction) does it ask the
server with Django's `SELECT 1`. A connection dropped without a word (a cable pulled)
hangs the `SELECT 1` as it would hang the first query; neither check can see it.

A thread that is done with the database for a while (a job waiting on its model) can
`park()` its connection instead of closing it: the session stays open for the next thread
of the process that connects (parking.py).
"""

from __future__ import annotations

import hashlib
import select
import time

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from jobs.lib.postgresql.parking import Parked, lot


class DatabaseWrapper(base.DatabaseWrapper):
    # When this connection's session was opened, and the key of the settings it was
    # opened with: park() puts it back under that key without working it out again.
    _born = 0.0
    _parking_key = ""

    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        if quiet(self.connection):
            return True
        return super().is_usable()

    def get_new_connection(self, conn_params):
        # Django's connect() then sets autocommit and the time zone as for a new session:
        # no round trip when the parked one has them already.
        self._parking_key = parking_key(self.alias, conn_params)
        parked = lot.take(
            self._parking_key, max_age=self.settings_dict["CONN_MAX_AGE"], usable=quiet
        )
        if parked is not None:
            self.isolation_level, self._born = parked.isolation_level, parked.born
            return parked.connection
        self._born = time.monotonic()
        return super().get_new_connection(conn_params)

    def park(self, most: int) -> None:
        """Close this thread's connection, leaving its session open for the next thread
        of this process that connects, when fewer than `most` are parked and the session
        is as a new one would be; else close it as close() does."""
        connection = self.connection
        if connection is None or self.in_atomic_block or not self.get_autocommit():
            self.close()
            return
        self.validate_thread_sharing()
        parked = Parked(connection, self.isolation_level, self._born, time.monotonic())
        if not quiet(connection) or not lot.park(self._parking_key, parked, most):
            self.close()
            return
        # What close() leaves behind, without closing the session.
        self.run_on_commit = []
        self.connection = None


def quiet(connection) -> bool:
    """Open, outside any transaction, and nothing arrived from the server unasked."""
    if connection.closed or connection.info.transaction_status != TRANSACTION_STATUS_IDLE:
        return False
    watch = select.poll()
    try:
        watch.register(connection.fileno(), select.POLLIN)
        return not watch.poll(0)
    except (OSError, ValueError):
        return False


def parking_key(alias: str, conn_params: dict) -> str:
    """Sessions are taken up only by a connection of the same settings; a digest, so that
    no password sits in the lot's keys."""
    return hashlib.sha256(repr((alias, sorted(conn_params.items()))).encode()).hexdigest()
