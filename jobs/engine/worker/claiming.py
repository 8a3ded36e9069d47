"""Claiming queued jobs for a worker, and topping up the tasks that signal them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from jobs.engine import dispatch, queue
from jobs.engine.endings import status_event
from jobs.engine.joblog import job_event
from jobs.models import Job, JobEvent

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
        _start(job)
        status_event(job, Job.Status.RUNNING).save()
        return job


def claim_next() -> Job | None:
    """Start the job the dispatcher picks. None when none may start now."""
    jobs = claim_several(1)
    return jobs[0] if jobs else None


def claim_several(most: int) -> list[Job]:
    """Start up to `most` jobs, in the dispatcher's order, in one transaction: a burst
    of submissions is claimed several at a time instead of one per task."""
    jobs: list[Job] = []
    with transaction.atomic():
        while len(jobs) < most:
            try:
                job = dispatch.pick_locked()
            except dispatch.Busy as busy:
                logger.info("dispatch deferred: %s", busy)
                break
            if job is None:
                break
            jobs.append(_start(job))
        JobEvent.objects.bulk_create(status_event(job, Job.Status.RUNNING) for job in jobs)
    return jobs


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
    waited = (now - job.created_at).total_seconds()
    job_event("started", job, waited_s=round(waited, 3))
    return job


def top_up() -> int:
    """Queue a task for every startable job that has none coming, and say how many.

    Tasks are only the signal to start some job, so a surplus costs an idle task, while
    a shortfall would leave a job waiting for the next sweep.
    """
    missing = max(0, dispatch.tasks_missing())
    queue.enqueue_anonymous(missing)
    return missing
