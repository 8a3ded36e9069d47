"""Which jobs their owners are watching, the renewals written in batches.

A job whose page stops polling before it ends ended with its owner away, and they get an
e-mail (jobs/engine/notifications.py). Renewing the mark from the poll itself cost a fourth SQL
query on one poll in two; instead each web process remembers which jobs were polled and
a thread of its own writes them all in one UPDATE every JOB_WATCH_FLUSH_SECONDS, so a
poll stays at three queries (session, user, job) whatever the number of pages open.
Only the first mark after an absence (the page's first load, a phone coming back after
the away time) is written in the request, so that it counts at once. Neither waits for
the database's disk (jobs/lib/commits.py): a mark is a hint the next poll renews. Nor
does either wait for a job's row that another transaction is writing (its worker
reporting its progress, claiming or ending it): such a row is skipped, its mark left to
the batch (a first mark) or to the next poll (a renewal). Waiting for it made a page
load wait for a claim in a burst, and two many-row UPDATEs of the job table taking
their rows in different orders deadlocked: the worker's progress reports against this
batch, a second lost each time (docs/benchmarks.md, 6.6).

A process that dies loses at most one interval of renewals, which the next poll makes
again: the mark lapses only if no renewal lands for the rest of the away time.
JOB_WATCH_FLUSH_SECONDS=0 writes every mark in its request, for a server that must not
start threads of its own.
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from jobs.lib import commits
from jobs.models import Job

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_pending: dict[str, datetime] = {}
_stop = threading.Event()
_writer: threading.Thread | None = None


def mark(job: Job) -> None:
    """Note that the owner's page is open on this active job.

    An owner who was away (no mark for the whole away time) is marked at once, so a job
    that ends in the next seconds sends no e-mail to someone watching it. Renewing a
    mark that still holds waits for the batch: it has the rest of the away time to land.
    A mark under a third of the away time old needs no renewal yet.
    """
    now = timezone.now()
    away = timedelta(seconds=settings.JOB_NOTIFY_AWAY_SECONDS)
    if not job.is_active or (job.watched_at and now - job.watched_at <= away / 3):
        return
    batched = settings.JOB_WATCH_FLUSH_SECONDS > 0
    if batched and job.watched_at and now - job.watched_at < away:
        _pend(job, now)
    elif not _write([job.pk], now) and batched:
        # Its row is being written (its worker reporting, claiming or ending it): the
        # batch marks it in a moment.
        _pend(job, now)
    job.watched_at = now


def _pend(job: Job, at: datetime) -> None:
    with _lock:
        _pending[str(job.pk)] = at
    _ensure_writer()


# The rows no other transaction is writing, locked as they are marked: one statement,
# which the ORM would not run outside a transaction of its own (select_for_update), and
# a transaction of its own is three more round trips.
_MARK = (
    f"UPDATE {Job._meta.db_table} SET watched_at = %s WHERE id IN ("
    f" SELECT id FROM {Job._meta.db_table} WHERE id = ANY(%s::uuid[]) AND status = ANY(%s)"
    " FOR UPDATE SKIP LOCKED)"
)


def _write(job_ids, at: datetime) -> int:
    """Mark those of the jobs that are active and whose rows no other transaction is
    writing now, in one UPDATE; how many were marked."""
    if connection.vendor != "postgresql":
        # No row locks to skip (SQLite, in development).
        active = Job.objects.filter(pk__in=job_ids, status__in=Job.ACTIVE_STATUSES)
        return active.update(watched_at=at)
    ids = [str(job_id) for job_id in job_ids]
    with commits.not_waiting_for_disk(), connection.cursor() as cursor:
        cursor.execute(_MARK, [at, ids, [str(status) for status in Job.ACTIVE_STATUSES]])
        return cursor.rowcount


def flush() -> int:
    """Write every pending mark in one UPDATE; returns how many jobs were marked. A job
    whose row is being written is skipped: its page's next poll marks it again."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return 0
    try:
        # One time for the batch: the latest poll, no more than an interval off for any.
        return _write(list(batch), max(batch.values()))
    except DatabaseError:
        logger.warning("Could not write %d watch marks; trying again later.", len(batch))
        with _lock:
            for job_id, at in batch.items():
                _pending.setdefault(job_id, at)
        return 0


def _ensure_writer() -> None:
    """Start this process's writer thread unless it runs (a forked child starts its own)."""
    global _writer
    if _writer is not None and _writer.is_alive():
        return
    with _lock:
        if _writer is not None and _writer.is_alive():
            return
        _stop.clear()
        _writer = threading.Thread(target=_write_until_stopped, name="watch-marks", daemon=True)
        _writer.start()


def stop_writer(timeout: float = 5.0) -> None:
    """Write what is pending and end the writer thread: at exit, and after tests."""
    global _writer
    if _writer is None:
        return
    _stop.set()
    _writer.join(timeout)
    if _writer.is_alive():
        # Still stuck writing: leave it the stop signal, and no second writer beside it.
        logger.warning("The watch-mark writer did not stop within %s s.", timeout)
        return
    _writer = None
    _stop.clear()


def _write_until_stopped() -> None:
    try:
        while not _stop.wait(settings.JOB_WATCH_FLUSH_SECONDS):
            _flush_logging_errors()
            # As at a request's end: drop a connection that broke or outlived its age.
            connection.close_if_unusable_or_obsolete()
        _flush_logging_errors()
    finally:
        connection.close()


def _flush_logging_errors() -> None:
    try:
        flush()
    except Exception:
        # The thread must outlive any error, or marks would pile up unwritten.
        logger.exception("Writing watch marks failed.")


atexit.register(stop_writer)
