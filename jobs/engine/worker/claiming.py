"""Claiming queued jobs for a worker, and topping up the tasks that signal them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.engine import dispatch, queue
from jobs.engine.endings import status_event
from jobs.engine.joblog import job_event
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)


def claim(job_id: str) -> Job | None:
    """Start this queued job now, whatever else waits. None when it is not queued."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return None
        _start(job)
        status_event(job, Job.Status.RUNNING).save()
        return job


def claim_next() -> Job | None:
    """Start the job the dispatcher picks. None when none may start now."""
    jobs = claim_several(1)
    return jobs[0] if jobs else None


def claim_several(most: int, *, spread: int = 1) -> list[Job]:
    """Start up to `most` jobs, in the dispatcher's order, in one transaction of a few
    statements however many: a burst of submissions is claimed by the batch instead of
    one per task. `spread`: dispatch.pick_locked's."""
    with transaction.atomic():
        try:
            jobs = dispatch.pick_locked(most, spread=spread)
        except dispatch.Busy as busy:
            logger.info("dispatch deferred: %s", busy)
            return []
        if not jobs:
            return []
        now = timezone.now()
        Job.objects.filter(pk__in=[job.pk for job in jobs]).update(
            status=Job.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), Value(now)),
            progress_at=now,
            heartbeat_at=now,
            not_before=None,
            error="",
        )
        for job in jobs:
            _started(job, now)
        JobEvent.objects.bulk_create(status_event(job, Job.Status.RUNNING) for job in jobs)
    return jobs


def _start(job: Job) -> Job:
    _started(job, timezone.now())
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
    return job


def _started(job: Job, now) -> None:
    """The job as claimed at `now`, in memory (what the claim writes), and logged."""
    job.status = Job.Status.RUNNING
    job.attempts += 1
    job.started_at = job.started_at or now
    job.progress_at = job.heartbeat_at = now
    job.not_before = None
    job.error = ""
    waited = (now - job.created_at).total_seconds()
    job_event("started", job, waited_s=round(waited, 3))


def top_up() -> int:
    """Queue a task for every startable job that has none coming, and say how many.

    Tasks are only the signal to start some job, so a surplus costs an idle task, while
    a shortfall would leave a job waiting for the next sweep.
    """
    missing = max(0, dispatch.tasks_missing())
    queue.enqueue_anonymous(missing)
    return missing
