"""One attempt at a job, in a worker's thread: its kind run, and how it ended written."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from jobs.engine import queue
from jobs.engine.context import JobCancelled, JobContext, JobError
from jobs.engine.endings import ending, keep_partial, partial_result, record, status_event
from jobs.engine.joblog import job_event
from jobs.engine.outage import is_outage
from jobs.engine.registry import get_kind
from jobs.models import Job

if TYPE_CHECKING:
    from jobs.engine.worker.process import Worker

logger = logging.getLogger(__name__)


def has_retries_left(job: Job) -> bool:
    return job.attempts_this_round <= settings.MAX_JOB_RETRIES


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter, so retries of many jobs do not arrive together."""
    ceiling = settings.JOB_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_later(job: Job, error: str, report: dict | None = None) -> bool:
    """Queue the failed attempt's job again after a backoff. False if it left running."""
    delay = retry_delay(job.attempts_this_round)
    at = timezone.now() + timedelta(seconds=delay)
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
        ).update(
            **{
                **(report or {}),
                "status": Job.Status.QUEUED,
                "not_before": at,
                "error": error,
                "message": f"Attempt {job.attempts} failed; trying again in {delay:.0f} s.",
            }
        )
        if updated:
            queue.enqueue_at(job, at)
            record(job, "retrying", f"Attempt {job.attempts} failed: {error}")
    return bool(updated)


def execute(job: Job, worker: Worker) -> str:
    """Run the claimed job's kind in this thread, and write how the attempt ended."""
    kind = get_kind(job.kind)
    started = timezone.now()
    stopped = threading.Event()
    # Locked and marked alive before anything else, waiting for a connection included:
    # the sweep must never take a job whose worker is about to run it.
    if not worker.keeper.attach(job.pk, stopped.set):
        # Another live session holds the job: its worker still runs it.
        job_event("held-elsewhere", job, level=logging.WARNING)
        return "skipped"
    try:
        with worker.db_slots.held():
            if kind is None:
                worker.keeper.detach(job.pk)
                error = f"Unknown job kind {job.kind!r}."
                end(worker, job, Job.Status.FAILED, error=error, retryable=False)
                status = Job.Status.FAILED
            else:
                context = JobContext(job, kind, sink=worker, stopped=stopped)
                status = _run_kind(job, kind, context, worker)
    finally:
        # Only now: the sweep must never find the job running with its lock free.
        worker.keeper.release(job.pk)
    duration = round((timezone.now() - started).total_seconds(), 2)
    job_event("finished", job, status=status, duration=f"{duration}s", duration_s=duration)
    return status


def _run_kind(job: Job, kind, context: JobContext, worker: Worker) -> str:
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
        # Its reports stop here, the last ones written with its ending (its log's last
        # message before it); its lock is kept until that ending is written.
        context.finish()
        report = worker.keeper.detach(job.pk)
    # Recording the outcome needs the database, which may be what just failed.
    return when_database_answers(
        lambda: conclude(
            job,
            context,
            status,
            worker,
            result=result,
            error=error,
            retryable=retryable,
            report=report,
        )
    )


def conclude(job, context, status, worker, *, result, error, retryable, report=None) -> str:
    """Write how the attempt ended: retry later, or end the job with what it has.
    `report`, the job's last progress report not written yet, is written with it."""
    report = report or {}
    if status == Job.Status.FAILED and retryable and has_retries_left(job):
        return "retrying" if retry_later(job, error, report) else status
    if status == Job.Status.CANCELLED:
        end(worker, job, status)
        keep_partial(job, status, context.saved)
        return status
    if status == Job.Status.FAILED:
        result = partial_result(job, context.saved)
    # Out of automatic retries, a failure that may pass may still pass by hand later.
    end(
        worker,
        job,
        status,
        result=result,
        error=error,
        retryable=retryable or status != Job.Status.FAILED,
        report=report,
    )
    return status


def end(worker: Worker, job: Job, status: str, **ending_fields) -> bool:
    """End the running job through the worker's keeper, in a batch with the others
    ending now. False when it had already left the running state."""
    fields = ending(status, **ending_fields)
    with worker.db_slots.lent():
        return worker.keeper.end(job, fields, status_event(job, status, fields["error"]))


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
