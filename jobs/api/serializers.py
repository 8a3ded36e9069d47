"""Jobs, counts and connections as the API shows them: plain dicts shaped like
`schemas.py`."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from jobs.engine import line
from jobs.engine.registry import all_kinds, get_kind, stage_states
from jobs.models import Connection, Job


def job_summary(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "title": job.title,
        "status": job.status,
        "stage": job.stage,
        "progress": max(0.0, min(1.0, job.progress)),
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "status_url": reverse("api:job", args=[job.pk]),
    }


def job_detail(job: Job) -> dict:
    kind = get_kind(job.kind)
    stages = stage_states(kind, job.status, job.stage) if kind else []
    return {
        **job_summary(job),
        "stages": [
            {"key": state.stage.key, "label": state.stage.label, "state": state.state}
            for state in stages
        ],
        "attempts": job.attempts,
        "priority": job.priority,
        "jobs_ahead": line.place_in_line(job),
        "started_at": job.started_at,
        "progress_at": job.progress_at,
        "error": job.error,
        "result_url": reverse("api:job_result", args=[job.pk]),
    }


def user_stats(user) -> dict:
    """Counts of the user's jobs by status and by kind, in two grouped queries."""
    jobs = Job.objects.for_user(user).order_by()
    by_status = dict.fromkeys(Job.Status.values, 0)
    by_status.update(jobs.values_list("status").annotate(n=Count("pk")))
    by_kind = dict.fromkeys(all_kinds(), 0)
    by_kind.update(jobs.values_list("kind").annotate(n=Count("pk")))
    ended = by_status[Job.Status.SUCCEEDED] + by_status[Job.Status.FAILED]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_kind": by_kind,
        "active": sum(by_status[status] for status in Job.ACTIVE_STATUSES),
        "success_rate": by_status[Job.Status.SUCCEEDED] / ended if ended else None,
    }


def connection_summary(connection: Connection) -> dict:
    return {
        "id": connection.pk,
        "name": connection.name,
        "vendor": connection.vendor,
        "location": connection.location,
        "tables_url": reverse("api:connection_tables", args=[connection.pk]),
    }
