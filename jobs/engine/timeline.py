"""When each stage of a job's current attempt began and ended, from its history."""

from __future__ import annotations

from datetime import datetime

from jobs.models import Job, JobEvent


def stage_times(job: Job) -> dict[str, tuple[datetime, datetime | None]]:
    """Stage key to (entered, left); left is None for the stage the job is in while it
    runs, and the job's end for the last stage of an ended one. One query."""
    if not job.attempts:
        return {}
    entered = list(
        JobEvent.objects.filter(job_id=job.pk, type=JobEvent.Type.STAGE, attempt=job.attempts)
        .order_by("at", "id")
        .values_list("name", "at")
    )
    times: dict[str, tuple[datetime, datetime | None]] = {}
    for index, (key, at) in enumerate(entered):
        if index + 1 < len(entered):
            left = entered[index + 1][1]
        else:
            left = None if job.is_active else job.finished_at
        times[key] = (at, left)
    return times
