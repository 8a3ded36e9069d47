"""Submitting jobs and running them: the only code that knows about the task queue."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from jobs import dispatch, locking, notifications
from jobs.context import JobCancelled, JobContext, JobError
from jobs.errors import is_outage
from jobs.joblog import job_event
from jobs.kinds import JobKind, get_kind
from jobs.models import Job, JobCheckpoint, JobEvent

logger = logging.getLogger(__name__)

RUN_TASK = "jobs.tasks.run_job"


class SubmitRefused(Exception):
    """A submission the app will not take now, with a message for the user."""


def submit(*, owner, kind: JobKind, params: dict, idempotency_key: str = "") -> Job:
    """Create the job and its queue entry in one transaction: both exist or neither.

    A key already used by this owner gives back that job instead of a second one.
    """
    if idempotency_key:
        existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing:
            return existing
    check_active_limit(owner)
    try:
        return _create(owner, kind, params, idempotency_key)
    except IntegrityError:
        # Two submissions with one key raced; the other one won.
        return Job.objects.get(owner=owner, idempotency_key=idempotency_key)


def check_active_limit(owner) -> None:
    active = Job.objects.for_user(owner).active().count()
    if active >= settings.MAX_ACTIVE_JOBS_PER_USER:
        raise SubmitRefused(
            f"You already have {active} jobs queued or running, the most allowed at once. "
            "Wait for one to finish, or cancel one, then start this one."
        )


def _create(owner, kind: JobKind, params: dict, idempotency_key: str) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner,
            kind=kind.slug,
            params=params,
            title=kind.title(params)[:200],
            idempotency_key=idempotency_key,
        )
        enqueue(job)
        record(job, Job.Status.QUEUED)
    job_event("queued", job, owner=owner.pk)
    return job


def enqueue(job: Job) -> None:
    """Queue a task for the job; called inside the transaction that queues the job."""
    job.task_id = async_task(RUN_TASK, str(job.pk), task_name=f"job-{job.pk}")
    job.save(update_fields=["task_id"])


def record(job: Job, status: str, message: str = "") -> None:
    JobEvent.objects.create(
        job=job, type=JobEvent.Type.STATUS, name=status, message=message, attempt=job.attempts
    )


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


def finish(job: Job, status: str, *, result: dict | None = None, error: str = "") -> bool:
    """End a running job. False when it had already left the running state."""
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress"] = 1.0
        fields["message"] = "Done."
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)
        if updated:
            record(job, status, error)
    return bool(updated)


def cancel(job: Job, *, by: str = "its owner") -> bool:
    """Cancel a queued or running job. False when it had already ended: twice is harmless.

    A queued job's task finds it no longer queued and does nothing; a running one stops
    at its next progress write, which finds the job no longer running.
    """
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE_STATUSES).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), message="Cancelled."
        )
        if updated:
            record(job, Job.Status.CANCELLED, f"Cancelled by {by}.")
            # Shown at once; a running job's worker replaces it with what it holds when
            # it notices, which may be one step more.
            keep_partial(job, Job.Status.CANCELLED)
    if updated:
        job_event("cancelled", job, by=by)
    return bool(updated)


def partial_result(job: Job, saved: dict | None = None) -> dict | None:
    """What the job finished before it stopped, as its kind shows it, or None."""
    kind = get_kind(job.kind)
    if saved is None:
        saved = dict(JobCheckpoint.objects.filter(job=job).values_list("key", "value"))
    if kind is None or not saved:
        return None
    try:
        result = kind.partial(job.params, saved)
    except Exception:
        # A partial result is a courtesy: never let it hide why the job stopped.
        logger.exception("partial result failed id=%s kind=%s", job.pk, job.kind)
        return None
    return {**result, "partial": True} if result else None


def keep_partial(job: Job, status: str, saved: dict | None = None) -> None:
    result = partial_result(job, saved)
    if result:
        Job.objects.filter(pk=job.pk, status=status).update(result=result)


def retry(job: Job, *, by: str = "its owner", enforce_limit: bool = True) -> bool:
    """Queue a failed or cancelled job again, by its owner or staff. False if it is not
    ended that way. It starts over from its last completed step, with a fresh set of
    automatic retries. An owner at the active-job limit is refused, as on submitting."""
    if enforce_limit and job.status in (Job.Status.FAILED, Job.Status.CANCELLED):
        check_active_limit(job.owner)
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status__in=(Job.Status.FAILED, Job.Status.CANCELLED)
        ).update(
            status=Job.Status.QUEUED,
            attempt_offset=F("attempts"),
            finished_at=None,
            not_before=None,
            error="",
            result=None,
            message="Queued again.",
        )
        if updated:
            job.refresh_from_db()
            enqueue(job)
            record(job, Job.Status.QUEUED, f"Retried by {by}.")
    if updated:
        job_event("retried", job, by=by)
    return bool(updated)


def top_up() -> int:
    """Queue a task for every startable job that has none waiting, and say how many.

    Tasks are only the signal to start some job, so a surplus costs an idle task, while
    a shortfall would leave a job waiting for the next sweep.
    """
    missing = dispatch.tasks_missing(get_broker())
    for _ in range(max(0, missing)):
        async_task(RUN_TASK, task_name="dispatch")
    return max(0, missing)


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
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.QUEUED,
            not_before=at,
            error=error,
            message=f"Attempt {job.attempts} failed; trying again in {delay:.0f} s.",
        )
        if updated:
            # The broker has no delayed enqueue; a one-off schedule is django-q2's way.
            schedule(
                RUN_TASK,
                str(job.pk),
                name=f"retry-{job.pk}-{job.attempts}",
                schedule_type=Schedule.ONCE,
                next_run=at,
            )
            record(job, "retrying", f"Attempt {job.attempts} failed: {error}")
    return bool(updated)


def run_next_job() -> str:
    """What a worker's task does: start the job the dispatcher picks, and run it."""
    job = claim_next()
    if job is None:
        return "idle"
    try:
        return execute(job)
    finally:
        # A job that could not start while every slot was taken needs a task when one
        # frees up; this is that moment.
        top_up()


def run_job(job_id: str) -> str:
    """Run this job now if it is queued (tests, and jobs started by hand)."""
    job = claim(job_id)
    if job is None:
        logger.info("job skipped id=%s: not queued", job_id)
        return "skipped"
    return execute(job)


def execute(job: Job) -> str:
    kind = get_kind(job.kind)
    started = timezone.now()
    if kind is None:
        finish(job, Job.Status.FAILED, error=f"Unknown job kind {job.kind!r}.")
        return Job.Status.FAILED
    context = JobContext(job, kind)
    heartbeat = Heartbeat(job.pk)
    heartbeat.start()
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
        heartbeat.stop()
    # Recording the outcome needs the database, which may be what just failed.
    status = when_database_answers(
        lambda: conclude(job, context, status, result=result, error=error, retryable=retryable)
    )
    if status in notifications.ENDINGS and notifications.reachable(job.owner):
        notify(job)
    duration = round((timezone.now() - started).total_seconds(), 2)
    job_event("finished", job, status=status, duration=f"{duration}s", duration_s=duration)
    return status


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
    finish(job, status, result=result, error=error)
    return status


def notify(job: Job) -> None:
    try:
        notifications.notify_if_away(job.pk)
    except Exception:
        # Telling the owner is a courtesy; the job has ended whatever happens here.
        logger.exception("job notification failed id=%s", job.pk)


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


def recover_lost_jobs() -> dict[str, int]:
    """Queue again the running jobs whose worker died; fail those out of attempts."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        lost = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
            .order_by("heartbeat_at")
        )
        for job in lost:
            if locking.held_by_a_live_worker(job.pk):
                # Late heartbeats, but its worker still holds it: running it again would
                # run it twice at once.
                job_event("silent-but-held", job, level=logging.WARNING)
                continue
            silent = (timezone.now() - job.heartbeat_at).total_seconds()
            if has_retries_left(job):
                job.status = Job.Status.QUEUED
                job.message = f"The worker was lost; queued again (attempt {job.attempts + 1})."
                job.save(update_fields=["status", "message"])
                enqueue(job)
                record(job, Job.Status.QUEUED, f"Worker lost: no heartbeat for {silent:.0f} s.")
                counts["requeued"] += 1
            else:
                error = (
                    f"Worker lost: its worker stopped answering {job.attempts} times "
                    f"(no heartbeat for {silent:.0f} s the last time)."
                )
                Job.objects.filter(pk=job.pk).update(
                    status=Job.Status.FAILED, error=error, finished_at=timezone.now()
                )
                record(job, Job.Status.FAILED, error)
                keep_partial(job, Job.Status.FAILED)
                transaction.on_commit(lambda job=job: notify(job))
                counts["failed"] += 1
            job_event("worker-lost", job, level=logging.WARNING, silent_s=round(silent))
    counts["topped_up"] = top_up()
    return counts
