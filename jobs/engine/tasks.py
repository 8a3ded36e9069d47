"""Entry points for the django-q2 worker: they take ids and call domain code."""

from jobs.engine import recovery, retention, runner


def start_next_job(*label) -> str:
    """Start whichever job the dispatcher picks, in a thread of this worker process. The
    argument, when there is one, is the id of the job whose submission queued this task:
    a label for the admin, no more."""
    return runner.start_next_job()


def recover_lost_jobs() -> dict[str, int]:
    return recovery.recover_lost_jobs()


def prune_old_jobs() -> dict[str, int]:
    return retention.prune()
