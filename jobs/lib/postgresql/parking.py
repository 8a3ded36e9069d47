"""Open PostgreSQL sessions a thread let go of, for the next thread of the process that
connects.

A worker's job threads hold a database connection only while they use it and give it
back while they wait on a model (jobs/engine/slots.py), so hundreds of waiting jobs cost
a handful of connections. Closed each time, that made a new session at every turn: a
400-job burst opened 30 to 40 a second, each a server process forked, its catalog caches
filled and its time zone set, in the PostgreSQL that also answers the web's pages
(docs/benchmarks.md, 6.10). Parked here instead, a session is taken up by the next thread
that connects, and the connection count stays what the slots allow.

Only a session left as a new one would be is parked: outside any transaction, in
autocommit, nothing unread from the server. The threads that park run their statements
through the ORM, in autocommit or atomic blocks; nothing they do sets a session-level
setting or lock (the keeper holds the jobs' advisory locks on its own connection, which
is never parked). A parked session idle for IDLE_SECONDS, or older than CONN_MAX_AGE, is
closed instead of taken up. Before the process forks, every parked session is closed: a
child must never share the parent's socket.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import NamedTuple

from psycopg2.extensions import connection as Connection

# A worker whose jobs stopped using the database lets its sessions go within this time
# (at the next park or take: a process with no job thread at all keeps at most the
# slots' number, as the web's threads keep theirs between requests).
IDLE_SECONDS = 60.0


class Parked(NamedTuple):
    connection: Connection
    isolation_level: object
    born: float  # time.monotonic() when the session was opened
    parked_at: float


class Lot:
    """Parked sessions by connection settings, newest last. Every method is safe to call
    from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._parked: dict[str, deque[Parked]] = {}

    def park(self, key: str, parked: Parked, most: int) -> bool:
        """Keep `parked` for the next `take(key)`; False (and nothing kept) when `most`
        sessions of `key` are parked already."""
        with self._lock:
            spaces = self._parked.setdefault(key, deque())
            stale = self._stale(spaces, parked.parked_at, max_age=None)
            full = len(spaces) >= most
            if not full:
                spaces.append(parked)
        _close(stale)
        return not full

    def take(self, key: str, *, max_age: float | None, usable) -> Parked | None:
        """The session parked last under `key` that `usable(connection)` accepts, or None.
        Sessions past their age, idle too long or not usable are closed on the way."""
        now = time.monotonic()
        found, dropped = None, []
        with self._lock:
            spaces = self._parked.get(key)
            if spaces:
                dropped = self._stale(spaces, now, max_age)
                while spaces and found is None:
                    candidate = spaces.pop()
                    if usable(candidate.connection):
                        found = candidate
                    else:
                        dropped.append(candidate)
        _close(dropped)
        return found

    def close_all(self) -> None:
        with self._lock:
            every = [parked for spaces in self._parked.values() for parked in spaces]
            self._parked.clear()
        _close(every)

    def count(self) -> int:
        with self._lock:
            return sum(len(spaces) for spaces in self._parked.values())

    @staticmethod
    def _stale(spaces: deque[Parked], now: float, max_age: float | None) -> list[Parked]:
        # Oldest first: the idle ones sit at the left, taken sessions come off the right.
        stale = []
        while spaces and now - spaces[0].parked_at > IDLE_SECONDS:
            stale.append(spaces.popleft())
        if max_age is not None:
            old = [parked for parked in spaces if now - parked.born > max_age]
            for parked in old:
                spaces.remove(parked)
            stale.extend(old)
        return stale


def _close(parked: list[Parked]) -> None:
    # Outside the lock: closing says goodbye to the server, a write on the socket.
    for each in parked:
        each.connection.close()


lot = Lot()
os.register_at_fork(before=lot.close_all)
