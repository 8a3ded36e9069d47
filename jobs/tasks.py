"""Entry points for the django-q2 worker: they take ids and call domain code."""

from jobs import engine


def run_job(job_id: str) -> str:
    return engine.run_job(job_id)


def recover_lost_jobs() -> dict[str, int]:
    return engine.recover_lost_jobs()
