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
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        if quiet(self.connection):
            return True
        return super().is_usable()


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
