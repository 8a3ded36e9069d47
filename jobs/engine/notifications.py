"""Telling a job's owner it ended, when they were not watching it end."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
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


def notify_if_away(job_id) -> bool:
    """E-mail the owner that the job ended, unless they watched it end or opted out.

    At most once per job: the `notified_at` claim is a conditional update, so a second
    call (a retried task, two workers) sends nothing.
    """
    if not settings.EMAIL_ENABLED:
        return False
    away_since = timezone.now() - timedelta(seconds=settings.JOB_NOTIFY_AWAY_SECONDS)
    job = (
        Job.objects.select_related("owner", "owner__preferences")
        .filter(pk=job_id, status__in=ENDINGS, notified_at__isnull=True)
        .filter(Q(watched_at__isnull=True) | Q(watched_at__lt=away_since))
        .first()
    )
    if job is None or not reachable(job.owner):
        return False
    if not Job.objects.filter(pk=job.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    ):
        return False
    subject, body = message(job)
    try:
        send_mail(subject, body, None, [job.owner.email])
    except Exception:
        # A mail server that is down must never change how the job ended.
        logger.exception("job notification failed id=%s", job.pk)
        Job.objects.filter(pk=job.pk).update(notified_at=None)
        return False
    job_event("notified", job, status=job.status)
    return True


def reachable(user) -> bool:
    """Whether the user can and wants to hear by e-mail."""
    return bool(user.email) and wants_email(user)


def wants_email(user) -> bool:
    try:
        return user.preferences.email_when_done
    except user._meta.model.preferences.RelatedObjectDoesNotExist:
        return True


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
