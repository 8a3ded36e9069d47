"""Finding the running jobs whose worker died, and queueing them again.

On PostgreSQL a live worker holds each of its jobs' advisory locks from the job's start
(jobs/engine/locking.py), and a dead one's locks go with its connections. So a job whose
heartbeat is a little late (JOB_UNLOCKED_STALE_SECONDS) and whose lock nobody holds is
lost; one whose lock is held is not, however late. Without locks (SQLite), only a long
silence (JOB_STALE_SECONDS) counts. Every worker process looks every JOB_SWEEP_SECONDS
(its Worker's sweep thread), with one query while nothing is late, so a killed worker's
jobs run again within about half a minute. The same sweep tops up the tasks that start
queued jobs, so a job whose task went to a worker that died is not left waiting for that
task's lease to run out.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.engine import locking, notifications, queue
from jobs.engine.endings import keep_partial, record
from jobs.engine.joblog import job_event
from jobs.engine.worker.attempts import has_retries_left
from jobs.engine.worker.claiming import top_up
from jobs.models import Job

logger = logging.getLogger(__name__)


def recover_lost_jobs() -> dict[str, int]:
    """Queue again the running jobs whose worker died; fail those out of attempts."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    late = stale
    if locking.supported():
        late = max(stale, now - timedelta(seconds=settings.JOB_UNLOCKED_STALE_SECONDS))
    counts = {"requeued": 0, "failed": 0}
    failed = []
    with transaction.atomic():
        lost = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.RUNNING, heartbeat_at__lt=late)
            .order_by("heartbeat_at")
        )
        for job in lost:
            if locking.held_by_a_live_worker(job.pk):
                # Late heartbeats, but its worker still holds it: running it again would
                # run it twice at once.
                if job.heartbeat_at < stale:
                    job_event("silent-but-held", job, level=logging.WARNING)
                continue
            silent = (timezone.now() - job.heartbeat_at).total_seconds()
            if has_retries_left(job):
                job.status = Job.Status.QUEUED
                job.message = f"The worker was lost; queued again (attempt {job.attempts + 1})."
                queue.enqueue(job)
                job.save(update_fields=["status", "message", "task_id"])
                record(job, Job.Status.QUEUED, f"Worker lost: no heartbeat for {silent:.0f} s.")
                counts["requeued"] += 1
            else:
                error = (
                    f"Worker lost: its worker stopped answering {job.attempts} times "
                    f"(no heartbeat for {silent:.0f} s the last time)."
                )
                Job.objects.filter(pk=job.pk).update(
                    status=Job.Status.FAILED, error=error, finished_at=timezone.now()
                )
                record(job, Job.Status.FAILED, error)
                keep_partial(job, Job.Status.FAILED)
                failed.append(job.pk)
                counts["failed"] += 1
            job_event("worker-lost", job, level=logging.WARNING, silent_s=round(silent))
        if failed:
            transaction.on_commit(lambda: _tell_owners(failed))
    counts["topped_up"] = top_up()
    return counts


def _tell_owners(job_ids: list) -> None:
    try:
        notifications.notify_ended(job_ids)
    except Exception:
        # Telling the owners is a courtesy; the jobs have ended whatever happens here.
        logger.exception("job notifications failed")
