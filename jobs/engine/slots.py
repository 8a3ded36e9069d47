"""How many of a worker process's jobs use the database at once, and how many CPU-bound
steps run at once on the machine.

A job thread holds one of JOB_DB_CONNECTIONS_PER_WORKER database slots while it works,
and gives it back, its connection closed, while it waits on a model: hundreds of waiting
jobs cost a handful of connections. A CPU-bound step (profiling a table, ranking, reading
a long document) takes one of JOB_CPU_SLOTS slots, which are file locks in a folder that
every process on the machine shares; the kernel releases a dead process's locks, so a
killed worker never keeps a slot.
"""

from __future__ import annotations

import fcntl
import os
import random
import threading
import time
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
            if conn is not self._keep:
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


@contextmanager
def cpu_slot(*, before_wait=None) -> Iterator[None]:
    """Hold one of the machine's CPU slots while the block runs.

    `before_wait`, a context manager, is entered only if every slot is taken, for as
    long as the wait lasts (a job thread gives its database slot back meanwhile).
    """
    directory = _slot_dir()
    descriptor = _try_cpu_slot(directory)
    if descriptor is None:
        with before_wait or _nothing():
            delay = 0.01
            while descriptor is None:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
                descriptor = _try_cpu_slot(directory)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
