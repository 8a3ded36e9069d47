"""Telling a job's owner it ended, when they were not watching it end."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs.engine.joblog import job_event
from jobs.engine.registry import kind_label
from jobs.models import Job

logger = logging.getLogger(__name__)

ENDINGS = {
    Job.Status.SUCCEEDED: "is ready",
    Job.Status.FAILED: "failed",
}


def notify_ended(job_ids) -> int:
    """E-mail the owners of these ended jobs who were not watching them end and did not
    opt out; how many were sent. A burst of endings costs two queries and one mail
    server connection, not a query and a connection each."""
    return send(claim(job_ids))


def claim(job_ids) -> list[Job]:
    """The ended jobs whose owners are to be told, marked told: at most once per job,
    whoever else claims (a retried task, two workers)."""
    if not settings.EMAIL_ENABLED or not job_ids:
        return []
    away_since = timezone.now() - timedelta(seconds=settings.JOB_NOTIFY_AWAY_SECONDS)
    with transaction.atomic():
        jobs = list(
            Job.objects.select_related("owner")
            .select_for_update(of=("self",), skip_locked=True)
            .filter(pk__in=list(job_ids), status__in=ENDINGS, notified_at__isnull=True)
            .filter(Q(watched_at__isnull=True) | Q(watched_at__lt=away_since))
            .exclude(owner__email="")
            .filter(
                Q(owner__preferences__isnull=True) | Q(owner__preferences__email_when_done=True)
            )
        )
        if jobs:
            Job.objects.filter(pk__in=[job.pk for job in jobs]).update(notified_at=timezone.now())
    return jobs


def send(jobs: list[Job]) -> int:
    """Send the claimed jobs' e-mails over one connection; how many went. If the mail
    server refuses, none counts as told, so a later ending of theirs may tell them."""
    if not jobs:
        return 0
    messages = [EmailMessage(*message(job), None, [job.owner.email]) for job in jobs]
    try:
        mailers.default.send_messages(messages)
    except Exception:
        # A mail server that is down must never change how the jobs ended.
        logger.exception("job notifications failed ids=%s", ",".join(str(j.pk) for j in jobs))
        Job.objects.filter(pk__in=[job.pk for job in jobs]).update(notified_at=None)
        return 0
    for job in jobs:
        job_event("notified", job, status=job.status)
    return len(jobs)


def message(job: Job) -> tuple[str, str]:
    label = kind_label(job.kind)
    name = f"{label} “{job.title}”" if job.title else label
    subject = f"Your {name} {ENDINGS[job.status]}"
    link = settings.SITE_URL.rstrip("/") + job.get_absolute_url()
    lines = [f"Your {name} {ENDINGS[job.status]}.", ""]
    if job.status == Job.Status.FAILED:
        lines += [job.error, ""]
    lines += [
        f"See it here: {link}",
        "",
        "You get this e-mail because the job ended while its page was not open. "
        f"Turn these e-mails off at {settings.SITE_URL.rstrip('/')}/settings/notifications/",
    ]
    return subject, "\n".join(lines)
