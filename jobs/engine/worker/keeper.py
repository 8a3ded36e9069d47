"""One thread per worker process that speaks to the database for all its running jobs.

A job's progress reports land here instead of on the job's own connection. The keeper
writes what changed in one statement every JOB_PROGRESS_WRITE_SECONDS, marks every job
alive in one UPDATE every JOB_HEARTBEAT_SECONDS, and holds each job's advisory lock on
its one connection for as long as the job runs (a session holds any number of them).
So a worker process with hundreds of jobs waiting on a model uses one connection for
all their reports, and its death releases every lock at once. Each cycle it also looks
for its jobs that are no longer running (cancelled, or taken over) and tells them: they
stop at their next report.

A statement the database refuses (a report it cannot store) is tried again, alone, on
the next cycles and dropped with a log line after REPORT_TRIES refusals; it never costs
the other jobs their writes or their locks. Only a lost connection drops the locks, and
the keeper takes them again once the database answers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from jobs.engine import locking
from jobs.engine.outage import is_outage
from jobs.engine.worker.claiming import top_up
from jobs.engine.worker.supervision import SideThread
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)

# Rows per UPDATE ... FROM (VALUES ...): well under PostgreSQL's 65,535 parameters.
BATCH_ROWS = 1000
# How many times a statement the database refuses is tried before it is dropped.
REPORT_TRIES = 3


class KeeperGone(Exception):
    """The keeper did not answer: its thread died, or the database stayed away too long."""


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
    requests: list[tuple[str, str, Future, object]] = field(default_factory=list)


class Keeper(SideThread):
    """`share`, when given, is a connection the keeper uses instead of one of its own
    and never closes (a batch run in its caller's transaction), holding `turn` around
    each cycle: the threads sharing it take turns. `on_ended(ids)` is called in the
    keeper's thread with the jobs each batch of endings ended."""

    def __init__(
        self,
        on_death=None,
        *,
        share: BaseDatabaseWrapper | None = None,
        turn: Callable[[], AbstractContextManager] = nullcontext,
        on_ended: Callable[[set[str]], None] | None = None,
    ):
        super().__init__("job-keeper", on_death or _log_death)
        self._share = share
        self._on_ended = on_ended
        self._turn = turn
        self.owns_connection = share is None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending = Pending()
        self._attached: dict[str, Attached] = {}
        self._locked: set[str] = set()
        self._next_beat = 0.0
        # Refusals so far of a report (by job id) or of an event (by its object's id).
        self._refusals: dict[object, int] = {}
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

    def detach(self, job_id) -> dict:
        """Stop reporting for the job (it is about to write its ending); keep its lock.
        What it reported that is not written yet, for its ending to write."""
        job_id = str(job_id)
        with self._lock:
            self._attached.pop(job_id, None)
            return self._pending.reports.pop(job_id, {})

    def release(self, job_id) -> None:
        """Give up the job's lock, once its ending is written."""
        self._ask("unlock", str(job_id))

    def end(self, job: Job, fields: dict, event: JobEvent) -> bool:
        """Write the job's ending (its fields and status event) with every other ending
        of the keeper's cycle: one UPDATE and one INSERT for a burst of endings, not a
        transaction each. False when the job had already left the running state."""
        return self._ask("end", str(job.pk), (job.attempts, fields, event))

    def report(
        self, job_id, fields: dict, *, event: JobEvent | None = None, at_once: bool = True
    ) -> None:
        """The job's latest progress; a stage change (with its event) is written at once,
        an event that can wait (a message for the log) with the next cycle's batch."""
        job_id = str(job_id)
        with self._lock:
            if fields:
                self._pending.reports.setdefault(job_id, {}).update(fields)
            if event is not None:
                self._pending.events.append(event)
        if event is not None and at_once:
            self._wake.set()

    def _ask(self, action: str, job_id: str, payload=None) -> bool:
        """Have the keeper's thread do `action` and answer; never waits forever: a keeper
        that died or stays silent past the longest database outage raises KeeperGone."""
        future: Future = Future()
        with self._lock:
            self._pending.requests.append((action, job_id, future, payload))
        self._wake.set()
        deadline = time.monotonic() + settings.JOB_OUTAGE_WAIT_SECONDS + 30
        while True:
            try:
                return future.result(timeout=1.0)
            except TimeoutError:
                if not self.is_alive():
                    raise KeeperGone(f"the job keeper is not running ({action} {job_id})") from None
                if time.monotonic() > deadline:
                    raise KeeperGone(f"the job keeper did not answer ({action} {job_id})") from None

    # --- The keeper's own thread ---------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def work(self) -> None:
        if self._share is not None:
            connections[self._share.alias] = self._share
        delay = 0.5
        while not self.stopping.is_set():
            self._wake.wait(settings.JOB_PROGRESS_WRITE_SECONDS)
            self._wake.clear()
            delay = self._cycle_or_wait(delay)
        # What is pending when told to stop is written first.
        self._cycle_or_wait(delay)

    def cleanup(self) -> None:
        # Every lock goes with the connection (a worker process that exits drops it anyway).
        if self.owns_connection:
            connection.close()

    def _cycle_or_wait(self, delay: float) -> float:
        """One cycle; after a failure, a pause that doubles up to 5 s."""
        try:
            with self._turn():
                self._cycle()
            # With DEBUG on (development), Django keeps every query's text, here statements
            # of hundreds of rows, until a request ends; this thread's never does.
            connection.queries_log.clear()
            return 0.5
        except Exception as exc:
            logger.warning("job keeper: %s; trying again in %.1f s", exc, delay)
            if is_outage(exc):
                # The database went away, and with the connection every lock this process
                # held: the next cycle takes them again. Any other failure keeps them.
                self._locked.clear()
                if self.owns_connection:
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
            stopped = self._stopped(attached)
            # Written before the requests are served: a job whose lock is given back has
            # its history written (its stage events) by then.
            again = self._write(pending, stopped)
            self._serve(pending.requests)
            if time.monotonic() >= self._next_beat:
                self._beat(set(attached) - stopped)
        except Exception:
            self._put_back(pending)
            raise
        if again.reports or again.events:
            self._put_back(again)
        self._tell(attached, stopped)

    def _put_back(self, pending: Pending) -> None:
        """Nothing is lost: what was not written goes back, older under newer."""
        with self._lock:
            for job_id, fields in pending.reports.items():
                self._pending.reports[job_id] = {
                    **fields,
                    **self._pending.reports.get(job_id, {}),
                }
            # An event written before a lost connection has its id: not twice.
            self._pending.events[:0] = [e for e in pending.events if e.pk is None]
            self._pending.requests[:0] = [r for r in pending.requests if not r[2].done()]

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

    def _serve(self, requests: list[tuple[str, str, Future, object]]) -> None:
        endings = [r for r in requests if r[0] == "end" and not r[2].done()]
        if endings:
            self._end(endings)
        for action, job_id, future, _ in requests:
            if future.done() or action == "end":
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

    def _end(self, endings: list[tuple[str, str, Future, object]]) -> None:
        """Every ending asked for in this cycle, in one statement; then the tasks their
        freed slots call for, once."""
        rows = [(job_id, *payload) for _, job_id, _, payload in endings]
        try:
            with transaction.atomic():
                ended = _end_all(rows)
        except Exception as exc:
            if is_outage(exc):
                raise
            # One the database refuses (a result it cannot store) fails alone, in its
            # job's thread, as its own write would have.
            ended = set()
            for row, (_, _, future, _) in zip(rows, endings, strict=True):
                try:
                    with transaction.atomic():
                        ended |= _end_all([row])
                except Exception as refused:
                    if is_outage(refused):
                        raise
                    future.set_exception(refused)
        for _, job_id, future, _ in endings:
            if not future.done():
                future.set_result(job_id in ended)
        if ended:
            top_up()
            if self._on_ended:
                try:
                    self._on_ended(ended)
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    # Telling owners is a courtesy: the jobs have ended whatever happens.
                    logger.exception("job keeper: telling the owners of %d jobs failed", len(ended))

    def _stopped(self, attached: dict[str, Attached]) -> set[str]:
        """The attached jobs that are no longer running (or no longer exist)."""
        if not attached:
            return set()
        if connection.vendor == "postgresql":
            return _not_running(list(attached))
        running = {
            str(pk)
            for pk in Job.objects.filter(pk__in=list(attached), status=Job.Status.RUNNING)
            .values_list("pk", flat=True)
            .iterator()
        }
        return set(attached) - running

    def _write(self, pending: Pending, stopped: set[str]) -> Pending:
        """Write the events and reports; what the database refused, to try again."""
        again = Pending()
        # The events first: a page that sees a job's new stage also sees when it began.
        if pending.events:
            again.events = self._refusable(
                pending.events,
                JobEvent.objects.bulk_create,
                lambda event: event.save(),
                key=id,
                name=lambda event: f"the {event.name} event of job {event.job_id}",
            )
        reports = [
            (job_id, fields) for job_id, fields in pending.reports.items() if job_id not in stopped
        ]
        if reports:
            refused = self._refusable(
                reports,
                _update_all,
                lambda item: _update_all([item]),
                key=lambda item: item[0],
                name=lambda item: f"the progress of job {item[0]}",
            )
            again.reports = dict(refused)
        return again

    def _refusable[T](self, items: list[T], write_all, write_one, *, key, name) -> list[T]:
        """`write_all(items)`; if the database refuses it, each item alone, so that one
        bad row costs no other. The items refused, fewer than REPORT_TRIES times so far."""
        try:
            with _alone():
                write_all(items)
            for item in items:
                self._refusals.pop(key(item), None)
            return []
        except Exception as exc:  # refused: a statement it rejects, or a value it cannot store
            if is_outage(exc):
                raise
        again = []
        for item in items:
            try:
                with _alone():
                    write_one(item)
            except Exception as exc:
                if is_outage(exc):
                    raise
                tries = self._refusals.get(key(item), 0) + 1
                if tries < REPORT_TRIES:
                    self._refusals[key(item)] = tries
                    again.append(item)
                    continue
                logger.error("job keeper: dropped %s, refused %d times: %s", name(item), tries, exc)
            self._refusals.pop(key(item), None)
        return again

    def _beat(self, job_ids: set[str]) -> None:
        self._next_beat = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS
        if job_ids:
            Job.objects.filter(pk__in=list(job_ids), status=Job.Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )

    def _tell(self, attached: dict[str, Attached], stopped: set[str]) -> None:
        for job_id in stopped:
            attached[job_id].tell()


def _alone() -> AbstractContextManager:
    """Around a statement the database may refuse: in autocommit, a statement is its
    own transaction and a refusal harms nothing else; inside a transaction (a batch in
    its caller's), a savepoint keeps the refusal from aborting the rest."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _log_death(thread: SideThread, error: BaseException | None) -> None:
    logger.error("the job keeper stopped: %s", error)


def _update_all(items: list[tuple[str, dict]]) -> None:
    if connection.vendor == "postgresql":
        for start in range(0, len(items), BATCH_ROWS):
            _update_many(items[start : start + BATCH_ROWS])
    else:
        for job_id, fields in items:
            Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**fields)


ENDING_COLUMNS = {
    # column: its SQL type, and whether a missing value keeps the row's
    "status": ("varchar", False),
    "finished_at": ("timestamptz", False),
    "error": ("text", False),
    "retryable": ("boolean", False),
    "result": ("jsonb", True),
    "progress": ("double precision", True),
    "message": ("varchar", True),
    "stage": ("varchar", True),
    "progress_at": ("timestamptz", True),
}


def _end_all(rows: list[tuple[str, int, dict, JobEvent]]) -> set[str]:
    """End these running jobs, each only from the attempt that ends it; their status
    events for those that were. The ids of the jobs ended."""
    if connection.vendor != "postgresql":
        ended = set()
        for job_id, attempts, fields, event in rows:
            if Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, attempts=attempts).update(
                **fields
            ):
                ended.add(job_id)
                event.save()
        return ended
    table = connection.ops.quote_name(Job._meta.db_table)
    casts = ", ".join(f"%s::{kind}" for kind, _ in ENDING_COLUMNS.values())
    values, params = [], []
    for job_id, attempts, fields, _ in rows:
        values.append(f"(%s::uuid, %s::integer, {casts})")
        params += [job_id, attempts]
        for column in ENDING_COLUMNS:
            value = fields.get(column)
            params.append(json.dumps(value) if column == "result" and value is not None else value)
    sets = ", ".join(
        f"{column} = COALESCE(v.{column}, j.{column})" if keep else f"{column} = v.{column}"
        for column, (_, keep) in ENDING_COLUMNS.items()
    )
    params.append(Job.Status.RUNNING)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS j SET {sets}"
            f" FROM (VALUES {', '.join(values)}) AS v(id, attempts, {', '.join(ENDING_COLUMNS)})"
            " WHERE j.id = v.id AND j.attempts = v.attempts AND j.status = %s RETURNING j.id",
            params,
        )
        ended = {str(row[0]) for row in cursor.fetchall()}
    events = [event for job_id, _, _, event in rows if job_id in ended]
    if events:
        JobEvent.objects.bulk_create(events)
    return ended


def _not_running(job_ids: list[str]) -> set[str]:
    """Of these jobs, those not running, in one statement whose one parameter is the
    array of ids: a cycle of a worker with hundreds of jobs then neither builds an IN
    list of hundreds of parameters nor reads back the rows of the jobs still running,
    which are nearly all of them."""
    table = connection.ops.quote_name(Job._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id::text FROM unnest(%s::uuid[]) AS a(id)"
            f" LEFT JOIN {table} AS j ON j.id = a.id"
            " WHERE j.status IS DISTINCT FROM %s",
            [job_ids, Job.Status.RUNNING],
        )
        return {row[0] for row in cursor.fetchall()}


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
