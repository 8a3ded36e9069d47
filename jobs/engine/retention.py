"""Deleting what is old: ended jobs, django-q2's task records and spent retry schedules.

Rows go in batches, each in a transaction of its own, so a large backlog never holds one
long transaction (and its locks) against the workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.models import Schedule, Task

from jobs.models import Job, JobCheckpoint, JobEvent

BATCH_SIZE = 1_000
RETRY_SCHEDULE_PREFIX = "retry-"


def ended_before(statuses: list[str], days: int, now: datetime) -> Q:
    """Jobs in one of `statuses` that ended more than `days` days ago; nothing for 0 days."""
    if days <= 0:
        return Q(pk__in=[])
    cutoff = now - timedelta(days=days)
    # Every ended job has finished_at; created_at stands in should one lack it.
    return Q(status__in=statuses) & (
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )


def prunable_jobs(now: datetime) -> QuerySet[Job]:
    """Ended jobs past their keeping time. Queued and running jobs are never in it."""
    other_ended = [Job.Status.SUCCEEDED, Job.Status.CANCELLED]
    return Job.objects.filter(
        ended_before(other_ended, settings.JOB_CLEANUP_DAYS, now)
        | ended_before([Job.Status.FAILED], settings.JOB_CLEANUP_FAILED_DAYS, now)
    )


def prunable_tasks(now: datetime) -> QuerySet[Task]:
    """django-q2's records of finished tasks (Success and Failure), by when they stopped."""
    if settings.JOB_CLEANUP_DAYS <= 0:
        return Task.objects.none()
    return Task.objects.filter(stopped__lt=now - timedelta(days=settings.JOB_CLEANUP_DAYS))


def spent_retry_schedules(now: datetime) -> QuerySet[Schedule]:
    """One-off schedules that queued a retry and will not run again.

    django-q2 deletes such a schedule once it ran unless it was given repeats; one that
    has not run yet is a retry still waiting for its backoff, and stays.
    """
    return Schedule.objects.filter(
        name__startswith=RETRY_SCHEDULE_PREFIX, schedule_type=Schedule.ONCE
    ).filter(Q(repeats=0) | Q(next_run__lt=now, task__isnull=False))


def prune(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Delete (or, for a dry run, count) what is past its keeping time; say how many of each."""
    now = now or timezone.now()
    jobs = prunable_jobs(now)
    tasks = prunable_tasks(now)
    schedules = spent_retry_schedules(now)
    if dry_run:
        return {
            "jobs": jobs.count(),
            "events": JobEvent.objects.filter(job__in=jobs).count(),
            "checkpoints": JobCheckpoint.objects.filter(job__in=jobs).count(),
            "tasks": tasks.count(),
            "schedules": schedules.count(),
        }
    deleted = delete_in_batches(jobs, batch_size)
    deleted |= delete_in_batches(tasks, batch_size)
    deleted |= delete_in_batches(schedules, batch_size)
    return {
        "jobs": deleted.get(Job._meta.label, 0),
        "events": deleted.get(JobEvent._meta.label, 0),
        "checkpoints": deleted.get(JobCheckpoint._meta.label, 0),
        # Success and Failure alike: both are proxies of Task.
        "tasks": deleted.get(Task._meta.label, 0),
        "schedules": deleted.get(Schedule._meta.label, 0),
    }


def delete_in_batches(queryset: QuerySet, batch_size: int) -> dict[str, int]:
    """Delete the queryset's rows `batch_size` at a time; the rows deleted, per model.

    Each batch locks its rows first and skips any another transaction holds (a job being
    retried this instant, say): the filter is checked again under the lock, so a row that
    stopped matching is left alone, and a skipped one waits for the next run.
    """
    totals: dict[str, int] = {}
    model = queryset.model
    while True:
        with transaction.atomic():
            ids = list(
                queryset.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            # Only the keys: a batch of jobs need not load a thousand results to delete them.
            _, per_model = model.objects.filter(pk__in=ids).only("pk").delete()
        for label, count in per_model.items():
            totals[label] = totals.get(label, 0) + count
        if len(ids) < batch_size:
            break
    return totals
