"""Writing how a job ended: its history, its status, what it finished, and the owner told."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from jobs.engine.registry import get_kind
from jobs.models import Job, JobCheckpoint, JobEvent

logger = logging.getLogger(__name__)


def record(job: Job, status: str, message: str = "") -> None:
    JobEvent.objects.create(
        job=job, type=JobEvent.Type.STATUS, name=status, message=message, attempt=job.attempts
    )


def ending(
    status: str,
    *,
    result: dict | None = None,
    error: str = "",
    retryable: bool = True,
    report: dict | None = None,
) -> dict:
    """The fields that end a job. `report`, its last progress report not written yet
    (stage, message), goes with them."""
    fields = {
        **(report or {}),
        "status": status,
        "finished_at": timezone.now(),
        "error": error,
        "retryable": retryable,
    }
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress"] = 1.0
        fields["message"] = "Done."
    return fields


def status_event(job: Job, status: str, message: str = "") -> JobEvent:
    return JobEvent(
        job_id=job.pk, type=JobEvent.Type.STATUS, name=status, message=message,
        attempt=job.attempts,
    )  # fmt: skip


def finish(job: Job, status: str, **ending_fields) -> bool:
    """End a running job, alone (a worker ends its jobs in batches: Keeper.end). False
    when it had already left the running state."""
    fields = ending(status, **ending_fields)
    error = fields["error"]
    with transaction.atomic():
        # This attempt's: a worker that lost the job to another (after an outage it could
        # not report through) must not end the other's attempt.
        updated = Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
        ).update(**fields)
        if updated:
            record(job, status, error)
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
