"""Running jobs: a worker claims the next job, runs its kind, and writes how it ended."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from jobs.engine import dispatch, locking, notifications, queue
from jobs.engine.context import DirectSink, JobCancelled, JobContext, JobError
from jobs.engine.endings import finish, keep_partial, notify, partial_result, record
from jobs.engine.joblog import job_event
from jobs.engine.outage import is_outage
from jobs.engine.registry import get_kind
from jobs.engine.slots import DatabaseSlots
from jobs.models import Job

logger = logging.getLogger(__name__)


def claim(job_id: str) -> Job | None:
    """Start this queued job now, whatever else waits. None when it is not queued."""
    with transaction.atomic():
        job = (
            Job.objects.select_related("owner__preferences")
            .select_for_update(of=("self",))
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status != Job.Status.QUEUED:
            return None
        return _start(job)


def claim_next() -> Job | None:
    """Start the job the dispatcher picks. None when none may start now."""
    with transaction.atomic():
        try:
            job = dispatch.pick_locked()
        except dispatch.Busy as busy:
            logger.info("dispatch deferred: %s", busy)
            return None
        return _start(job) if job else None


def _start(job: Job) -> Job:
    now = timezone.now()
    job.status = Job.Status.RUNNING
    job.attempts += 1
    job.started_at = job.started_at or now
    job.progress_at = job.heartbeat_at = now
    job.not_before = None
    job.error = ""
    job.save(
        update_fields=[
            "status",
            "attempts",
            "started_at",
            "progress_at",
            "heartbeat_at",
            "not_before",
            "error",
        ]
    )
    record(job, Job.Status.RUNNING)
    waited = (now - job.created_at).total_seconds()
    job_event("started", job, waited_s=round(waited, 3))
    return job


def top_up() -> int:
    """Queue a task for every startable job that has none waiting, and say how many.

    Tasks are only the signal to start some job, so a surplus costs an idle task, while
    a shortfall would leave a job waiting for the next sweep.
    """
    missing = max(0, dispatch.tasks_missing())
    queue.enqueue_anonymous(missing)
    return missing


def has_retries_left(job: Job) -> bool:
    return job.attempts_this_round <= settings.MAX_JOB_RETRIES


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter, so retries of many jobs do not arrive together."""
    ceiling = settings.JOB_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_later(job: Job, error: str) -> bool:
    """Queue the failed attempt's job again after a backoff. False if it left running."""
    delay = retry_delay(job.attempts_this_round)
    at = timezone.now() + timedelta(seconds=delay)
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
        ).update(
            status=Job.Status.QUEUED,
            not_before=at,
            error=error,
            message=f"Attempt {job.attempts} failed; trying again in {delay:.0f} s.",
        )
        if updated:
            queue.enqueue_at(job, at)
            record(job, "retrying", f"Attempt {job.attempts} failed: {error}")
    return bool(updated)


def run_next_job() -> str:
    """Start the job the dispatcher picks, and run it in this thread (tests)."""
    job = claim_next()
    if job is None:
        return "idle"
    try:
        return execute(job)
    finally:
        # A job that could not start while every slot was taken needs a task when one
        # frees up; this is that moment.
        top_up()


def run_queued_job(job_id: str) -> str:
    """Run this job now if it is queued (tests, and jobs started by hand)."""
    job = claim(job_id)
    if job is None:
        logger.info("job skipped id=%s: not queued", job_id)
        return "skipped"
    return execute(job)


class Attendance(Protocol):
    """What runs beside a job: where its reports go (a context's Sink), and what marks it
    alive and holds its lock from `begin` until `release`."""

    write_interval: float | None
    slot: DatabaseSlots | None

    def write(self, job_id, fields: dict) -> bool: ...

    def event(self, event) -> None: ...

    def begin(self, job: Job, on_stop: Callable[[], None]) -> bool: ...

    def working(self) -> AbstractContextManager: ...

    def end(self, job: Job) -> None: ...

    def release(self, job: Job) -> None: ...


class Alone(DirectSink):
    """A job run in the calling thread (tests, a job started by hand): its writes go
    straight to its row, and a heartbeat thread of its own marks it alive."""

    def begin(self, job: Job, on_stop: Callable[[], None]) -> bool:
        self._heartbeat = Heartbeat(job.pk)
        self._heartbeat.start()
        return True

    def working(self) -> AbstractContextManager:
        return nullcontext()

    def end(self, job: Job) -> None:
        self._heartbeat.stop()

    def release(self, job: Job) -> None:
        pass


def execute(job: Job, attendance: Attendance | None = None) -> str:
    attendance = attendance or Alone()
    kind = get_kind(job.kind)
    started = timezone.now()
    if kind is None:
        with attendance.working():
            finish(job, Job.Status.FAILED, error=f"Unknown job kind {job.kind!r}.", retryable=False)
        return Job.Status.FAILED
    stopped = threading.Event()
    # Locked and marked alive before anything else, waiting for a connection included:
    # the sweep must never take a job whose worker is about to run it.
    if not attendance.begin(job, stopped.set):
        # Another live session holds the job: its worker still runs it.
        job_event("held-elsewhere", job, level=logging.WARNING)
        return "skipped"
    try:
        with attendance.working():
            context = JobContext(job, kind, sink=attendance, stopped=stopped)
            status = _run_kind(job, kind, context, attendance)
            if status in notifications.ENDINGS and notifications.reachable(job.owner):
                notify(job)
    finally:
        # Only now: the sweep must never find the job running with its lock free.
        attendance.release(job)
    duration = round((timezone.now() - started).total_seconds(), 2)
    job_event("finished", job, status=status, duration=f"{duration}s", duration_s=duration)
    return status


def _run_kind(job: Job, kind, context: JobContext, attendance: Attendance) -> str:
    """Run the kind, then write how the attempt ended; the status it ended with."""
    try:
        result = kind.run(context, job.params)
    except JobCancelled:
        status, error, result, retryable = Job.Status.CANCELLED, "", None, False
    except JobError as exc:
        status, error, result, retryable = Job.Status.FAILED, str(exc), None, exc.retryable
    except Exception as exc:
        status, result, retryable = Job.Status.FAILED, None, True
        if is_outage(exc):
            job_event("lost-database", job, level=logging.WARNING, error=str(exc)[:200])
            error = "The connection to the database was lost; the job resumes from its last step."
        else:
            logger.exception("job crashed id=%s kind=%s", job.pk, job.kind)
            error = f"The job stopped on an unexpected error ({type(exc).__name__}: {exc})."
    else:
        status, error, retryable = Job.Status.SUCCEEDED, "", False
    finally:
        attendance.end(job)
    # Recording the outcome needs the database, which may be what just failed.
    return when_database_answers(
        lambda: conclude(job, context, status, result=result, error=error, retryable=retryable)
    )


def conclude(job, context, status, *, result, error, retryable) -> str:
    """Write how the attempt ended: retry later, or end the job with what it has."""
    if status == Job.Status.FAILED and retryable and has_retries_left(job):
        return "retrying" if retry_later(job, error) else status
    if status == Job.Status.CANCELLED:
        finish(job, status)
        keep_partial(job, status, context.saved)
        return status
    if status == Job.Status.FAILED:
        result = partial_result(job, context.saved)
    # Out of automatic retries, a failure that may pass may still pass by hand later.
    finish(
        job, status, result=result, error=error, retryable=retryable or status != Job.Status.FAILED
    )
    return status


def when_database_answers[T](action: Callable[[], T]) -> T:
    """Run `action`, trying again while the database is unreachable, for up to
    JOB_OUTAGE_WAIT_SECONDS: a restart of PostgreSQL must not leave a job marked running."""
    deadline = time.monotonic() + settings.JOB_OUTAGE_WAIT_SECONDS
    delay = 0.5
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            if not is_outage(exc) or time.monotonic() + delay > deadline:
                raise
            logger.warning("database unreachable, trying again in %.1f s: %s", delay, exc)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


class Heartbeat(threading.Thread):
    """Marks the job alive every few seconds, even while the job waits on a slow query
    or a slow model, so that only a dead worker goes silent."""

    def __init__(self, job_id):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            # Most jobs end within one beat: they never pay for the extra connection.
            if self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                return
            # Held until this thread's connection closes, by it or by the worker's death;
            # the sweep leaves a job alone while a live session holds it.
            if locking.supported(connection):
                locking.try_lock(connection, self.job_id)
            while True:
                Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
                if self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                    break
        except Exception:
            logger.exception("heartbeat failed id=%s", self.job_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
