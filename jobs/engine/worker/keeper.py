"""One thread per worker process that speaks to the database for all its running jobs.

A job's progress reports land here instead of on the job's own connection. The keeper
writes what changed in one statement every JOB_PROGRESS_WRITE_SECONDS, marks every job
alive in one UPDATE every JOB_HEARTBEAT_SECONDS, and holds each job's advisory lock on
its one connection for as long as the job runs (a session holds any number of them).
So a worker process with hundreds of jobs waiting on a model uses one connection for
all their reports, and its death releases every lock at once. Each cycle it also looks
for its jobs that are no longer running (cancelled, or taken over) and tells them: they
stop at their next report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from jobs.engine import locking
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)

# Rows per UPDATE ... FROM (VALUES ...): well under PostgreSQL's 65,535 parameters.
BATCH_ROWS = 1000


@dataclass
class Attached:
    on_stop: Callable[[], None]
    told: bool = False

    def tell(self) -> None:
        """Tell the job, once, that it is no longer its worker's to run."""
        if not self.told:
            self.told = True
            self.on_stop()


@dataclass
class Pending:
    """What the keeper has yet to write."""

    reports: dict[str, dict] = field(default_factory=dict)
    events: list[JobEvent] = field(default_factory=list)
    requests: list[tuple[str, str, Future]] = field(default_factory=list)


class Keeper(threading.Thread):
    def __init__(self):
        # A daemon: at a worker's exit it must not outlive the job threads it serves,
        # which each write their own ending before they stop.
        super().__init__(name="job-keeper", daemon=True)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending = Pending()
        self._attached: dict[str, Attached] = {}
        self._locked: set[str] = set()
        self._next_beat = 0.0
        self._stopping = threading.Event()
        self.cycles = 0

    # --- Called from job threads -----------------------------------------------------

    def attach(self, job_id, on_stop: Callable[[], None]) -> bool:
        """Take the job's lock and look after it; False if another session holds it."""
        job_id = str(job_id)
        with self._lock:
            self._attached[job_id] = Attached(on_stop)
        if self._ask("lock", job_id):
            return True
        with self._lock:
            self._attached.pop(job_id, None)
        return False

    def detach(self, job_id) -> None:
        """Stop reporting for the job (it is about to write its ending); keep its lock."""
        job_id = str(job_id)
        with self._lock:
            self._attached.pop(job_id, None)
            self._pending.reports.pop(job_id, None)

    def release(self, job_id) -> None:
        """Give up the job's lock, once its ending is written."""
        self._ask("unlock", str(job_id))

    def report(self, job_id, fields: dict, *, event: JobEvent | None = None) -> None:
        """The job's latest progress; a stage change (with its event) is written at once."""
        job_id = str(job_id)
        with self._lock:
            merged = self._pending.reports.setdefault(job_id, {})
            merged.update(fields)
            if event is not None:
                self._pending.events.append(event)
        if event is not None:
            self._wake.set()

    def _ask(self, action: str, job_id: str) -> bool:
        future: Future = Future()
        with self._lock:
            self._pending.requests.append((action, job_id, future))
        self._wake.set()
        return future.result()

    # --- The keeper's own thread ---------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending and end the thread, its connection closed and with it
        every lock (tests; a worker process that exits drops its connection anyway)."""
        self._stopping.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        delay = 0.5
        try:
            while not self._stopping.is_set():
                self._wake.wait(settings.JOB_PROGRESS_WRITE_SECONDS)
                self._wake.clear()
                delay = self._cycle_or_wait(delay)
            self._cycle_or_wait(delay)
        finally:
            connection.close()

    def _cycle_or_wait(self, delay: float) -> float:
        """One cycle; after a failure, a pause that doubles up to 5 s."""
        try:
            self._cycle()
            # With DEBUG on (development), Django keeps every query's text, here statements
            # of hundreds of rows, until a request ends; this thread's never does.
            connection.queries_log.clear()
            return 0.5
        except Exception as exc:
            # Most likely the database went away, and with the connection every lock this
            # process held: the next cycle takes them again.
            logger.warning("job keeper: %s; trying again in %.1f s", exc, delay)
            self._locked.clear()
            connection.close()
            time.sleep(delay)
            return min(delay * 2, 5.0)

    def _cycle(self) -> None:
        self.cycles += 1
        with self._lock:
            pending, self._pending = self._pending, Pending()
            attached = dict(self._attached)
        try:
            self._relock(attached)
            self._serve(pending.requests)
            stopped = self._stopped(attached)
            self._write(pending, stopped)
            if time.monotonic() >= self._next_beat:
                self._beat(set(attached) - stopped)
        except Exception:
            with self._lock:
                # Nothing is lost: what was not written goes back, older under newer.
                for job_id, fields in pending.reports.items():
                    self._pending.reports[job_id] = {
                        **fields,
                        **self._pending.reports.get(job_id, {}),
                    }
                self._pending.events[:0] = pending.events
                self._pending.requests[:0] = [r for r in pending.requests if not r[2].done()]
            raise
        self._tell(attached, stopped)

    def _relock(self, attached: dict[str, Attached]) -> None:
        """After a lost connection, take again the locks of the jobs still running here."""
        if not locking.supported(connection):
            return
        for job_id, entry in attached.items():
            if job_id in self._locked or entry.told:
                continue
            if locking.try_lock(connection, job_id):
                self._locked.add(job_id)
            else:
                # Another worker took the job over while this one could not say it lived.
                logger.warning("job %s is held elsewhere; stopping it here", job_id)
                entry.tell()

    def _serve(self, requests: list[tuple[str, str, Future]]) -> None:
        for action, job_id, future in requests:
            if future.done():
                continue
            if not locking.supported(connection):
                future.set_result(True)
            elif action == "lock":
                taken = job_id in self._locked or locking.try_lock(connection, job_id)
                if taken:
                    self._locked.add(job_id)
                future.set_result(taken)
            else:
                if job_id in self._locked:
                    locking.unlock(connection, job_id)
                    self._locked.discard(job_id)
                future.set_result(True)

    def _stopped(self, attached: dict[str, Attached]) -> set[str]:
        if not attached:
            return set()
        running = {
            str(pk)
            for pk in Job.objects.filter(pk__in=list(attached), status=Job.Status.RUNNING)
            .values_list("pk", flat=True)
            .iterator()
        }
        return set(attached) - running

    def _write(self, pending: Pending, stopped: set[str]) -> None:
        # The events first: a page that sees a job's new stage also sees when it began.
        if pending.events:
            JobEvent.objects.bulk_create(pending.events)
        reports = {
            job_id: fields for job_id, fields in pending.reports.items() if job_id not in stopped
        }
        if reports:
            if connection.vendor == "postgresql":
                items = list(reports.items())
                for start in range(0, len(items), BATCH_ROWS):
                    _update_many(items[start : start + BATCH_ROWS])
            else:
                for job_id, fields in reports.items():
                    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**fields)

    def _beat(self, job_ids: set[str]) -> None:
        self._next_beat = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS
        if job_ids:
            Job.objects.filter(pk__in=list(job_ids), status=Job.Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )

    def _tell(self, attached: dict[str, Attached], stopped: set[str]) -> None:
        for job_id in stopped:
            attached[job_id].tell()


def _update_many(items: list[tuple[str, dict]]) -> None:
    """One UPDATE for many jobs' progress, message, time and stage (PostgreSQL)."""
    table = connection.ops.quote_name(Job._meta.db_table)
    rows = []
    params: list = []
    for job_id, fields in items:
        rows.append("(%s::uuid, %s::double precision, %s::varchar, %s::timestamptz, %s::varchar)")
        params += [
            job_id,
            fields.get("progress"),
            fields.get("message"),
            fields.get("progress_at"),
            fields.get("stage"),
        ]
    params.append(Job.Status.RUNNING)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS j SET"
            " progress = COALESCE(v.progress, j.progress),"
            " message = COALESCE(v.message, j.message),"
            " progress_at = COALESCE(v.progress_at, j.progress_at),"
            " stage = COALESCE(v.stage, j.stage)"
            f" FROM (VALUES {', '.join(rows)}) AS v(id, progress, message, progress_at, stage)"
            " WHERE j.id = v.id AND j.status = %s",
            params,
        )
