"""How many of a worker process's jobs use the database at once, and how many CPU-bound
steps run at once on the machine.

A job thread holds one of JOB_DB_CONNECTIONS_PER_WORKER database slots while it works,
and gives it back while it waits on a model: hundreds of waiting jobs cost a handful of
connections. On PostgreSQL the connection it gives back is parked, its session left open
for the next job thread of the process that connects, not closed and opened again
(jobs/lib/postgresql/parking.py). A CPU-bound step (profiling a table, ranking, reading
a long document) takes one of JOB_CPU_SLOTS slots, which are file locks in a folder that
every process on the machine shares; the kernel releases a dead process's locks, so a
killed worker never keeps a slot.
"""

from __future__ import annotations

import fcntl
import os
import random
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections


class DatabaseSlots:
    """A worker process's share of database connections, for its job threads."""

    def __init__(self, size: int, *, keep=None):
        """`keep`, a connection shared by every thread (a batch run in its caller's
        transaction), is never closed; the slots then take turns on it."""
        self.size = size
        self._free = threading.BoundedSemaphore(size)
        self._keep = keep

    def _close(self) -> None:
        for conn in connections.all(initialized_only=True):
            if conn is self._keep:
                continue
            if park := getattr(conn, "park", None):
                # At most as many sessions parked as there are slots: no more are open.
                park(self.size)
            else:
                conn.close()

    @contextmanager
    def held(self) -> Iterator[None]:
        """For a job's whole run; its connections close when it ends."""
        self._free.acquire()
        try:
            yield
        finally:
            self._close()
            self._free.release()

    @contextmanager
    def lent(self) -> Iterator[None]:
        """Inside `held`: while the job waits on its worker's keeper. A connection shared
        by every thread is lent to the keeper meanwhile; a job's own stays open."""
        if self._keep is None:
            yield
            return
        self._free.release()
        try:
            yield
        finally:
            self._free.acquire()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Inside `held`: while the job waits on something that is not the database."""
        self._close()
        self._free.release()
        try:
            yield
        finally:
            self._free.acquire()


def _slot_dir() -> Path:
    path = Path(settings.JOB_CPU_SLOT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _try_cpu_slot(directory: Path) -> int | None:
    """The descriptor of a free slot's lock file, locked; None when all are taken."""
    count = max(1, settings.JOB_CPU_SLOTS)
    first = random.randrange(count)
    for offset in range(count):
        descriptor = os.open(directory / f"{(first + offset) % count}.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return descriptor
    return None


class _Waiter:
    def __init__(self):
        self.woken = threading.Event()
        # A slot handed over by the thread that held it: the lock file, still locked.
        self.descriptor: int | None = None


class _Line:
    """This process's threads waiting for a CPU slot, first come first served.

    Only the thread at the head of the line polls the lock files; the others sleep until
    it is their turn. A slot this process gives up while threads of its own wait goes
    straight to the next of them, still locked, so it never stands idle between two
    steps. Hundreds of jobs of a burst each polling on their own held the interpreter
    lock a fifth of the time and left a freed slot idle for up to a poll's delay
    (docs/benchmarks.md, 6.8). A slot is handed over at most HAND_OVERS times in a row,
    and only while it is the process's last: other processes' jobs get their turn too.
    """

    HAND_OVERS = 8
    # The head's polls: soon after it arrives, then less often, never over MAX_DELAY.
    FIRST_DELAY = 0.002
    MAX_DELAY = 0.02

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: deque[_Waiter] = deque()
        self._held = 0
        self._handed = 0

    def take(self, directory: Path, before_wait) -> int:
        with self._lock:
            if not self._waiting:
                descriptor = _try_cpu_slot(directory)
                if descriptor is not None:
                    self._held += 1
                    return descriptor
            me = _Waiter()
            self._waiting.append(me)
        try:
            with before_wait or _nothing():
                return self._wait(me, directory)
        except BaseException:
            self._leave(me)
            raise

    def _wait(self, me: _Waiter, directory: Path) -> int:
        delay = self.FIRST_DELAY
        timed_out = False
        while True:
            with self._lock:
                if me.descriptor is not None:
                    return me.descriptor
                heading = self._waiting[0] is me
                # While the process holds a slot, the head gets it when its step ends;
                # it polls now and then for one another process frees.
                holding = self._held > 0
                if heading and (timed_out or not holding):
                    descriptor = _try_cpu_slot(directory)
                    if descriptor is not None:
                        me.descriptor = descriptor
                        self._waiting.popleft()
                        self._held += 1
                        self._handed = 0
                        self._wake_head()
                        return descriptor
            if heading:
                timed_out = not me.woken.wait(self.MAX_DELAY if holding else delay)
                delay = min(delay * 2, self.MAX_DELAY)
            else:
                me.woken.wait()
            me.woken.clear()

    def give_back(self, descriptor: int) -> None:
        with self._lock:
            if self._waiting and self._held == 1 and self._handed < self.HAND_OVERS:
                waiter = self._waiting.popleft()
                waiter.descriptor = descriptor
                self._handed += 1
                waiter.woken.set()
                self._wake_head()
                return
            self._held -= 1
            self._handed = 0
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    def _leave(self, me: _Waiter) -> None:
        """A waiter that stops waiting (an exception): out of the line, and a slot that
        was handed to it meanwhile passed on."""
        with self._lock:
            if me in self._waiting:
                was_head = self._waiting[0] is me
                self._waiting.remove(me)
                if was_head:
                    self._wake_head()
        if me.descriptor is not None:
            self.give_back(me.descriptor)

    def _wake_head(self) -> None:
        if self._waiting:
            self._waiting[0].woken.set()


_line = _Line()


def _new_line_after_fork() -> None:
    # A forked process (django-q's workers are) holds no slot and has nobody in line.
    global _line
    _line = _Line()


os.register_at_fork(after_in_child=_new_line_after_fork)


@contextmanager
def cpu_slot(*, before_wait=None) -> Iterator[None]:
    """Hold one of the machine's CPU slots while the block runs.

    `before_wait`, a context manager, is entered only if the thread has to wait, for as
    long as the wait lasts (a job thread gives its database slot back meanwhile).
    """
    line = _line
    descriptor = line.take(_slot_dir(), before_wait)
    try:
        yield
    finally:
        line.give_back(descriptor)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
