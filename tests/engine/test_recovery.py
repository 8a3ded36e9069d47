"""A running job whose worker died is queued again, then fails as "worker lost"."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from jobs.engine import endings, locking
from jobs.engine.worker import attempts, recovery
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.conftest import Worker, start_profiling, wait_for
from tests.factories import make_job, make_user


def silent_for(job: Job, seconds: float, attempts: int = 1) -> Job:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(seconds=seconds),
    )
    job.refresh_from_db()
    return job


def recovered() -> tuple[int, int]:
    """(requeued, failed) of one sweep."""
    counts = recovery.recover_lost_jobs()
    return counts["requeued"], counts["failed"]


@pytest.mark.django_db
class TestRecover:
    def test_a_silent_running_job_is_queued_again(self, user, settings):
        settings.JOB_STALE_SECONDS = 60
        lost = silent_for(make_job(user), 90)
        alive = silent_for(make_job(user), 5)
        OrmQ.objects.all().delete()

        assert recovered() == (1, 0)

        lost.refresh_from_db()
        alive.refresh_from_db()
        assert lost.status == Job.Status.QUEUED
        assert "queued again (attempt 2)" in lost.message
        assert alive.status == Job.Status.RUNNING
        assert OrmQ.objects.count() == 1, "a fresh task for the lost job"
        event = JobEvent.objects.filter(job=lost).last()
        assert (event.name, event.message[:31]) == ("queued", "Worker lost: no heartbeat for 9")

    def test_a_late_job_whose_worker_still_holds_it_is_left_alone(self, user):
        job = silent_for(make_job(user), 120)
        # Another session holds the job's lock, as a live worker's heartbeat thread does.
        holder = connections.create_connection("default")
        try:
            assert locking.try_lock(holder, job.pk)
            assert locking.held_by_a_live_worker(job.pk)

            assert recovered() == (0, 0)
            job.refresh_from_db()
            assert job.status == Job.Status.RUNNING
        finally:
            holder.close()

        # The server ends the closed session's backend, and its locks, a moment later.
        wait_for(lambda: not locking.held_by_a_live_worker(job.pk), timeout=5, what="release")
        assert recovered() == (1, 0)

    def test_out_of_attempts_it_fails_as_worker_lost(self, user, settings):
        settings.MAX_JOB_RETRIES = 2
        job = silent_for(make_job(user), 120, attempts=3)

        assert recovered() == (0, 1)

        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.error.startswith("Worker lost: its worker stopped answering 3 times")
        assert job.finished_at

    def test_a_worker_that_lost_its_job_to_another_attempt_cannot_end_it(self, user):
        job = silent_for(make_job(user), 90, attempts=1)
        recovery.recover_lost_jobs()
        # The old worker still holds its copy of attempt 1 while attempt 2 runs.
        stale = Job.objects.get(pk=job.pk)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=2)

        assert not endings.finish(stale, Job.Status.CANCELLED)
        assert not attempts.retry_later(stale, "lost the database")

        job.refresh_from_db()
        assert (job.status, job.attempts) == (Job.Status.RUNNING, 2)

    def test_migrate_removes_the_old_once_a_minute_sweep(self, db):
        # One sweep: each worker process's thread. A deploy's migrate drops the schedule
        # earlier versions kept beside it.
        Schedule.objects.create(
            name="recover-lost-jobs",
            func="jobs.engine.tasks.recover_lost_jobs",
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
        )

        call_command("migrate", verbosity=0)

        assert not Schedule.objects.filter(name="recover-lost-jobs").exists()
        assert Schedule.objects.filter(name="prune-old-jobs").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_survives_its_worker_being_killed(client, big_table, worker_env, tmp_path, settings):
    settings.JOB_STALE_SECONDS = 3
    env = {**worker_env, "JOB_HEARTBEAT_SECONDS": "0.5"}
    first = Worker(tmp_path / "first.log", env).start()
    try:
        job = start_profiling(client, make_user("survivor"), big_table)
        started = Job.objects.get(pk=job.pk).heartbeat_at
        wait_for(
            lambda: Job.objects.get(pk=job.pk).heartbeat_at > started,
            timeout=5,
            what="a heartbeat",
        )
        # The heartbeat thread takes the job's lock before its first beat.
        assert locking.held_by_a_live_worker(job.pk)
        wait_for(
            lambda: JobCheckpoint.objects.filter(job=job, key__startswith="profiled|").exists(),
            timeout=20,
            what="a first column to be profiled",
        )
    finally:
        # SIGKILL to the whole cluster: no chance to clean up, as when a machine dies.
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(5)

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING, "nothing marks it: the worker is gone"
    wait_for(
        lambda: not locking.held_by_a_live_worker(job.pk),
        timeout=10,
        what="PostgreSQL to release the dead worker's lock",
    )
    wait_for(
        lambda: recovery.recover_lost_jobs()["requeued"] == 1,
        timeout=15,
        interval=1,
        what="the job to count as lost",
    )
    second = Worker(tmp_path / "second.log", env).start()
    try:
        wait_for(
            lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED,
            timeout=90,
            what="the second worker to finish the job",
        )
    finally:
        second.stop()
    job.refresh_from_db()
    assert job.attempts == 2
    assert job.result["summary"]["rows"] > 0
    # Attempt 2 resumed: it kept the columns attempt 1 had profiled and did the rest.
    steps = dict(JobCheckpoint.objects.filter(job=job).values_list("key", "attempt"))
    assert 1 in steps.values() and 2 in steps.values()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_job_runs_again_within_half_a_minute(
    client, big_table, worker_env, tmp_path
):
    """With the default heartbeat and sweep: no manual sweep, the restarted worker finds
    the job whose lock went with its dead worker's connections."""
    env = {k: v for k, v in worker_env.items() if not k.startswith("JOB_HEARTBEAT")}
    first = Worker(tmp_path / "first.log", env).start()
    try:
        job = start_profiling(client, make_user("restarted"), big_table)
        wait_for(lambda: locking.held_by_a_live_worker(job.pk), timeout=10, what="the lock")
    finally:
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(5)
    killed = time.monotonic()
    second = Worker(tmp_path / "second.log", env).start()
    try:
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, attempts=2).exists(),
            timeout=45,
            interval=0.5,
            what="the job's second attempt",
        )
        again = time.monotonic() - killed
    finally:
        second.stop()

    assert again < 30, f"started again {again:.0f} s after the kill"
    event = JobEvent.objects.filter(job=job, name="queued").last()
    assert event.message.startswith("Worker lost: no heartbeat for")
