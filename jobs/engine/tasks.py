"""Entry points for the django-q2 worker: they take ids and call domain code."""

from jobs.engine import retention
from jobs.engine.worker import process, recovery


def start_next_job(*label) -> str:
    """Start the jobs the dispatcher picks, in threads of this worker process. The
    argument, when there is one, is the id of the job whose submission queued this task:
    a label for the admin, no more."""
    return "started" if process.current().take() else "idle"


def recover_lost_jobs() -> dict[str, int]:
    """A task path that schedules stored before the sweep became each worker's thread;
    a row still queued under it runs one sweep."""
    return recovery.recover_lost_jobs()


def prune_old_jobs() -> dict[str, int]:
    return retention.prune()
