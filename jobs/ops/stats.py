"""Figures about everyone's jobs, for staff: how many, how well, how long, how busy.

Each is one small query, or a bounded one: durations are computed in Python over the
succeeded jobs of a recent window, so the page costs the same at any history size and
works alike on PostgreSQL and SQLite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Min
from django.db.models.functions import TruncHour
from django.utils import timezone

from jobs.engine.registry import get_kind
from jobs.models import Job

WINDOW_DAYS = 30
WINDOW_JOBS = 10_000
HOURS = 24


@dataclass(frozen=True)
class KindDurations:
    kind: str
    label: str
    count: int
    median: timedelta
    p95: timedelta


def status_counts() -> dict[str, int]:
    counts = dict.fromkeys(Job.Status.values, 0)
    counts.update(Job.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return counts


def success_rate(counts: dict[str, int]) -> float | None:
    """Succeeded over succeeded and failed, as the API's stats count it: a job cancelled
    by its owner says nothing about how well jobs run."""
    ended = counts[Job.Status.SUCCEEDED] + counts[Job.Status.FAILED]
    return counts[Job.Status.SUCCEEDED] / ended if ended else None


def percentile(ordered: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def durations_by_kind(
    now: datetime, *, days: int = WINDOW_DAYS, limit: int = WINDOW_JOBS
) -> list[KindDurations]:
    """Median and 95th percentile of finished − started, per kind, over the succeeded jobs
    created in the last `days` days (the newest `limit` of them)."""
    rows = (
        Job.objects.filter(
            status=Job.Status.SUCCEEDED,
            created_at__gte=now - timedelta(days=days),
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-created_at")
        .values_list("kind", "started_at", "finished_at")[:limit]
    )
    seconds: dict[str, list[float]] = {}
    for kind, started_at, finished_at in rows:
        seconds.setdefault(kind, []).append((finished_at - started_at).total_seconds())
    result = []
    for kind, values in sorted(seconds.items()):
        values.sort()
        job_kind = get_kind(kind)
        result.append(
            KindDurations(
                kind=kind,
                label=job_kind.label if job_kind else kind,
                count=len(values),
                median=timedelta(seconds=percentile(values, 0.5)),
                p95=timedelta(seconds=percentile(values, 0.95)),
            )
        )
    return result


def queue_summary(now: datetime) -> dict:
    """How many jobs wait, and for how long the oldest of them has (since it was submitted)."""
    queued = Job.objects.filter(status=Job.Status.QUEUED).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    oldest = queued["oldest"]
    return {
        "queued": queued["n"],
        "oldest_queued_seconds": round(max((now - oldest).total_seconds(), 0.0), 1)
        if oldest
        else None,
    }


def created_per_hour(now: datetime, *, hours: int = HOURS) -> list[tuple[datetime, int]]:
    """Jobs submitted in each of the last `hours` clock hours, oldest first; the last hour
    is the current one, so far."""
    zone = timezone.get_current_timezone()
    current = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    # Stepped back in UTC: wall-clock arithmetic would skip or repeat an hour at DST.
    starts = [
        (current.astimezone(UTC) - timedelta(hours=back)).astimezone(zone)
        for back in range(hours - 1, -1, -1)
    ]
    rows = (
        Job.objects.filter(created_at__gte=starts[0])
        .annotate(hour=TruncHour("created_at"))
        .order_by()
        .values_list("hour")
        .annotate(n=Count("pk"))
    )
    # Keyed in UTC: two local hours with one name (when clocks go back) stay apart.
    counts = {hour.astimezone(UTC): n for hour, n in rows}
    return [(start, counts.get(start.astimezone(UTC), 0)) for start in starts]


def summary(now: datetime | None = None) -> dict:
    """Everything the stats page shows."""
    now = now or timezone.now()
    counts = status_counts()
    queue = queue_summary(now)
    oldest = queue["oldest_queued_seconds"]
    return {
        "now": now,
        "counts": counts,
        "by_status": [(status.label, counts.get(status, 0)) for status in Job.Status],
        "total": sum(counts.values()),
        "success_rate": success_rate(counts),
        "durations": durations_by_kind(now),
        "window_days": WINDOW_DAYS,
        "window_jobs": WINDOW_JOBS,
        "queued": queue["queued"],
        "oldest_queued_age": timedelta(seconds=oldest) if oldest is not None else None,
        "per_hour": created_per_hour(now),
    }
