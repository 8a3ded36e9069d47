"""Submitting jobs and running them: the only code that knows about the task queue."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from jobs.context import JobCancelled, JobContext, JobError
from jobs.kinds import JobKind, get_kind
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)

RUN_TASK = "jobs.tasks.run_job"


def submit(*, owner, kind: JobKind, params: dict, idempotency_key: str = "") -> Job:
    """Create the job and its queue entry in one transaction: both exist or neither.

    A key already used by this owner gives back that job instead of a second one.
    """
    if idempotency_key:
        existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing:
            return existing
    try:
        return _create(owner, kind, params, idempotency_key)
    except IntegrityError:
        # Two submissions with one key raced; the other one won.
        return Job.objects.get(owner=owner, idempotency_key=idempotency_key)


def _create(owner, kind: JobKind, params: dict, idempotency_key: str) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner,
            kind=kind.slug,
            params=params,
            title=kind.title(params)[:200],
            idempotency_key=idempotency_key,
        )
        job.task_id = async_task(RUN_TASK, str(job.pk), task_name=f"job-{job.pk}")
        job.save(update_fields=["task_id"])
        record(job, Job.Status.QUEUED)
    logger.info("job queued id=%s kind=%s owner=%s", job.pk, job.kind, owner.pk)
    return job


def record(job: Job, status: str, message: str = "") -> None:
    JobEvent.objects.create(
        job=job, type=JobEvent.Type.STATUS, name=status, message=message, attempt=job.attempts
    )


def claim(job_id: str) -> Job | None:
    """Move a queued job to running. None when it is not queued (cancelled or taken)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return None
        now = timezone.now()
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.progress_at = now
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "progress_at", "error"])
        record(job, Job.Status.RUNNING)
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


def cancel(job: Job) -> bool:
    """Cancel a queued or running job. False when it had already ended: twice is harmless.

    A queued job's task finds it no longer queued and does nothing; a running one stops
    at its next progress write, which finds the job no longer running.
    """
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE_STATUSES).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), message="Cancelled."
        )
        if updated:
            record(job, Job.Status.CANCELLED, "Cancelled by its owner.")
    if updated:
        logger.info("job cancelled id=%s kind=%s", job.pk, job.kind)
    return bool(updated)


def run_job(job_id: str) -> str:
    job = claim(job_id)
    if job is None:
        logger.info("job skipped id=%s: not queued", job_id)
        return "skipped"
    kind = get_kind(job.kind)
    started = timezone.now()
    if kind is None:
        finish(job, Job.Status.FAILED, error=f"Unknown job kind {job.kind!r}.")
        return Job.Status.FAILED
    context = JobContext(job, kind)
    try:
        result = kind.run(context, job.params)
    except JobCancelled:
        status, error, result = Job.Status.CANCELLED, "", None
    except JobError as exc:
        status, error, result = Job.Status.FAILED, str(exc), None
    except Exception as exc:
        logger.exception("job crashed id=%s kind=%s", job.pk, job.kind)
        status, result = Job.Status.FAILED, None
        error = f"The job stopped on an unexpected error ({type(exc).__name__}: {exc})."
    else:
        status, error = Job.Status.SUCCEEDED, ""
    finish(job, status, result=result, error=error)
    logger.info(
        "job finished id=%s kind=%s attempt=%s status=%s duration=%.2fs",
        job.pk,
        job.kind,
        job.attempts,
        status,
        (timezone.now() - started).total_seconds(),
    )
    return status
