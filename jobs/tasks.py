"""The task paths that queue rows and schedules stored before the code moved to
jobs/engine/tasks.py: a row queued under an old path still runs after a deploy."""

from jobs.engine.tasks import prune_old_jobs, recover_lost_jobs
from jobs.engine.tasks import start_next_job as run_job

__all__ = ["prune_old_jobs", "recover_lost_jobs", "run_job"]
