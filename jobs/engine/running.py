"""Running one job by hand, in this process, the way a worker runs it (tests, and jobs
started from a shell): the engine's only entry to its worker besides the task."""

from __future__ import annotations

from jobs.engine.worker import claiming, process
from jobs.models import Job


def run_queued_job(job_id: str) -> str:
    """Run this job now if it is queued, in a Worker of its own, and wait for it: how
    the attempt ended ("succeeded", "failed", "cancelled", "retrying"), or "skipped"."""
    return process.run_job(job_id)


def claim(job_id: str) -> Job | None:
    """Mark this queued job running, as a worker does before it runs it, without running
    it (tests that drive a job's context by hand). None when it is not queued."""
    return claiming.claim(job_id)
