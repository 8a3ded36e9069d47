"""Task paths stored in the database before the code moved still resolve after a deploy."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_q.models import Schedule
from django_q.tasks import async_task

from jobs.engine.registry import get_kind
from jobs.models import Job
from tests.conftest import wait_for
from tests.factories import make_user

OLD_PATHS = ["jobs.tasks.run_job", "jobs.tasks.recover_lost_jobs", "jobs.tasks.prune_old_jobs"]


@pytest.mark.parametrize("path", OLD_PATHS)
def test_every_old_task_path_names_a_callable(path):
    from pydoc import locate

    assert callable(locate(path))


def test_migrate_moves_the_schedules_to_the_new_paths(db):
    # The schedules as a deploy before the move left them.
    call_command("migrate", verbosity=0)
    Schedule.objects.filter(name="prune-old-jobs").update(func="jobs.tasks.prune_old_jobs")

    call_command("migrate", verbosity=0)

    assert Schedule.objects.get(name="prune-old-jobs").func == "jobs.engine.tasks.prune_old_jobs"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_queued_under_the_old_task_path_runs(worker_env, tmp_path, settings):
    from tests.conftest import Worker

    settings.JOB_KIND_MODULES = ["tests.kinds_for_tests"]
    owner = make_user("before-the-move")
    job = Job.objects.create(
        owner=owner, kind="primes", params={"n": 200}, title=get_kind("primes").slug
    )
    # The queue row as the code before the move wrote it.
    async_task("jobs.tasks.run_job", str(job.pk), task_name=f"job-{job.pk}")
    env = {**worker_env, "JOB_EXTRA_KIND_MODULES": "tests.kinds_for_tests"}
    cluster = Worker(tmp_path / "qcluster.log", env).start()
    try:
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).exists(),
            timeout=30,
            what="the job queued under the old path to succeed",
        )
    finally:
        cluster.stop()
