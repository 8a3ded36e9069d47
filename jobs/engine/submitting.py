"""What owners and staff do to jobs: submit, cancel, retry."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from jobs.engine import queue
from jobs.engine.endings import keep_partial, record
from jobs.engine.joblog import job_event
from jobs.engine.registry import JobKind
from jobs.models import Job


class SubmitRefused(Exception):
    """A submission the app will not take now, with a message for the user."""


def valid_idempotency_key(key: str) -> str:
    """The key a form or an API client sent; anything that is not a short token is ignored."""
    return key if re.fullmatch(r"[A-Za-z0-9_.:-]{8,100}", key or "") else ""


def submit(*, owner, kind: JobKind, params: dict, idempotency_key: str = "") -> Job:
    """Create the job and its queue entry in one transaction: both exist or neither.

    A key already used by this owner for the same kind and params gives back that job
    instead of a second one; used for another request, it is refused (KeyReused).
    """
    try:
        check_active_limit(owner)
        return _create(owner, kind, params, idempotency_key)
    except (SubmitRefused, IntegrityError):
        # A key sent again is rare (a double click, a retried POST, two racing): it is
        # looked up when the limit or the unique constraint refuses, not on every
        # submission. Its job is given back even at the limit.
        existing = idempotency_key and (
            Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        )
        if existing:
            return _same_request(existing, kind, params)
        raise


class KeyReused(Exception):
    """An idempotency key sent again with another request than the job it made."""

    def __init__(self, job: Job):
        super().__init__(
            f"This idempotency key was already used for another request (job {job.pk}). "
            "Send the same request to get that job back, or a new key for a new job."
        )
        self.job = job


def _same_request(existing: Job, kind: JobKind, params: dict) -> Job:
    # Compared as stored: the JSON column gives back lists for tuples, and so on.
    stored = json.loads(json.dumps(params))
    if existing.kind != kind.slug or existing.params != stored:
        raise KeyReused(existing)
    return existing


def check_active_limit(owner) -> None:
    active = Job.objects.for_user(owner).active().count()
    if active >= settings.MAX_ACTIVE_JOBS_PER_USER:
        raise SubmitRefused(
            f"You already have {active} jobs queued or running, the most allowed at once. "
            "Wait for one to finish, or cancel one, then start this one."
        )


def _create(owner, kind: JobKind, params: dict, idempotency_key: str) -> Job:
    job = Job(
        owner=owner,
        kind=kind.slug,
        params=params,
        title=kind.title(params)[:200],
        idempotency_key=idempotency_key,
    )
    with transaction.atomic():
        # The job's id is made here, so its task is queued first and the job's INSERT
        # carries the task's id: no UPDATE after it.
        queue.enqueue(job)
        job.save(force_insert=True)
        record(job, Job.Status.QUEUED)
    job_event("queued", job, owner=owner.pk)
    return job


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
            retryable=True,
            result=None,
            message="Queued again.",
        )
        if updated:
            job.refresh_from_db()
            queue.enqueue(job)
            job.save(update_fields=["task_id"])
            record(job, Job.Status.QUEUED, f"Retried by {by}.")
    if updated:
        job_event("retried", job, by=by)
    return bool(updated)
