"""Retention: ended jobs, django-q2's task records and spent retry schedules go; the rest stays."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Failure, Schedule, Success, Task
from django_q.tasks import async_task

from jobs.engine import retention, tasks
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.conftest import wait_for
from tests.factories import make_job, make_user

S = Job.Status
DAY = timedelta(days=1)


def ended(owner, status, days_ago: float, **fields) -> Job:
    """A job that ended `days_ago` days ago, with its history and a checkpoint."""
    finished = timezone.now() - days_ago * DAY
    times = {
        "created_at": finished - timedelta(minutes=5),
        "started_at": finished - timedelta(minutes=4),
        "finished_at": finished,
    }
    job = make_job(owner, status=status, **{**times, **fields})
    JobCheckpoint.objects.create(job=job, key="column:a", value={"rows": 1})
    return job


def task_record(days_ago: float, *, success: bool = True) -> Task:
    stopped = timezone.now() - days_ago * DAY
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"task-{uuid.uuid4().hex[:8]}",
        func="jobs.tasks.run_job",
        started=stopped - timedelta(seconds=3),
        stopped=stopped,
        success=success,
    )


def exists(job: Job) -> bool:
    return Job.objects.filter(pk=job.pk).exists()


@pytest.mark.django_db
class TestWhatGoes:
    def test_ended_jobs_go_after_their_days_failed_ones_later_active_ones_never(self, user):
        old_success = ended(user, S.SUCCEEDED, 8)
        old_cancelled = ended(user, S.CANCELLED, 8)
        recent_success = ended(user, S.SUCCEEDED, 6)
        old_failure = ended(user, S.FAILED, 8)
        ancient_failure = ended(user, S.FAILED, 31)
        # Created long ago but still waiting or running: never deleted.
        queued = make_job(user, created_at=timezone.now() - 100 * DAY)
        running = make_job(
            user,
            status=S.RUNNING,
            created_at=timezone.now() - 100 * DAY,
            started_at=timezone.now() - 99 * DAY,
        )
        # Created 9 days ago but ended only yesterday: its 7 days start when it ends.
        late_finish = ended(user, S.SUCCEEDED, 1, created_at=timezone.now() - 9 * DAY)
        gone = [old_success, old_cancelled, ancient_failure]
        events = JobEvent.objects.filter(job__in=gone).count()

        counts = retention.prune()

        assert [exists(job) for job in gone] == [False, False, False]
        kept = [recent_success, old_failure, queued, running, late_finish]
        assert all(exists(job) for job in kept)
        assert counts["jobs"] == 3
        assert counts["events"] == events > 0
        assert counts["checkpoints"] == 3
        assert not JobEvent.objects.filter(job_id__in=[job.pk for job in gone]).exists()
        assert JobCheckpoint.objects.filter(job=old_failure).exists()

    def test_the_days_come_from_the_settings(self, user, settings):
        settings.JOB_CLEANUP_DAYS = 2
        settings.JOB_CLEANUP_FAILED_DAYS = 3
        three_days = ended(user, S.SUCCEEDED, 3)
        failed_two_days = ended(user, S.FAILED, 2)
        failed_four_days = ended(user, S.FAILED, 4)

        retention.prune()

        assert not exists(three_days)
        assert exists(failed_two_days)
        assert not exists(failed_four_days)

    def test_zero_days_keeps_everything(self, user, settings):
        settings.JOB_CLEANUP_DAYS = 0
        settings.JOB_CLEANUP_FAILED_DAYS = 0
        jobs = [ended(user, S.SUCCEEDED, 400), ended(user, S.FAILED, 400)]
        record = task_record(400)

        counts = retention.prune()

        assert all(exists(job) for job in jobs)
        assert Task.objects.filter(pk=record.pk).exists()
        assert counts == dict.fromkeys(["jobs", "events", "checkpoints", "tasks", "schedules"], 0)

    def test_zero_failed_days_keeps_failures_forever_but_prunes_the_rest(self, user, settings):
        settings.JOB_CLEANUP_FAILED_DAYS = 0
        failure = ended(user, S.FAILED, 400)
        success = ended(user, S.SUCCEEDED, 400)

        retention.prune()

        assert exists(failure)
        assert not exists(success)

    def test_django_q_task_records_go_after_the_job_days(self):
        old_success = task_record(8)
        old_failure = task_record(8, success=False)
        recent = task_record(6, success=False)
        assert Success.objects.filter(pk=old_success.pk).exists()
        assert Failure.objects.filter(pk=old_failure.pk).exists()

        counts = retention.prune()

        assert counts["tasks"] == 2
        assert list(Task.objects.values_list("pk", flat=True)) == [recent.pk]

    def test_spent_retry_schedules_go_waiting_ones_stay(self):
        now = timezone.now()

        def retry_schedule(name, **fields):
            return Schedule.objects.create(
                name=name, func="jobs.tasks.run_job", schedule_type=Schedule.ONCE, **fields
            )

        spent = retry_schedule("retry-a-1", repeats=0, next_run=now - DAY, task="t1")
        ran_once = retry_schedule("retry-b-1", repeats=1, next_run=now - DAY, task="t2")
        waiting = retry_schedule("retry-c-1", next_run=now + timedelta(minutes=5))
        # Due but no cluster has run it yet (none was up): it still has a retry to start.
        due = retry_schedule("retry-d-1", next_run=now - timedelta(minutes=5))
        other = Schedule.objects.create(
            name="someone-elses", func="x.y", schedule_type=Schedule.ONCE, repeats=0
        )

        counts = retention.prune()

        names = set(Schedule.objects.values_list("name", flat=True))
        assert counts["schedules"] == 2
        assert spent.name not in names and ran_once.name not in names
        assert {waiting.name, due.name, other.name} <= names


@pytest.mark.django_db
def test_batches_delete_a_backlog_larger_than_one_batch():
    owner = make_user()
    finished = timezone.now() - 30 * DAY
    jobs = Job.objects.bulk_create(
        Job(owner=owner, kind="review", status=S.SUCCEEDED, created_at=finished,
            finished_at=finished)
        for _ in range(25)
    )  # fmt: skip
    JobEvent.objects.bulk_create(JobEvent(job=job, type="status", name="queued") for job in jobs)
    keep = ended(owner, S.SUCCEEDED, 1)

    with CaptureQueriesContext(connection) as queries:
        counts = retention.prune(batch_size=10)

    job_deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "jobs_job" ')]
    assert len(job_deletes) == 3  # 10 + 10 + 5
    assert counts["jobs"] == 25 and counts["events"] == 25
    assert list(Job.objects.values_list("pk", flat=True)) == [keep.pk]


@pytest.mark.django_db
class TestEntryPoints:
    def test_migrate_schedules_a_daily_prune_and_keeps_its_time(self):
        call_command("migrate", verbosity=0)
        schedule = Schedule.objects.get(name="prune-old-jobs")
        later = timezone.now() + timedelta(hours=5)
        Schedule.objects.filter(pk=schedule.pk).update(next_run=later)

        call_command("migrate", verbosity=0)

        schedule.refresh_from_db()
        assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
            "jobs.engine.tasks.prune_old_jobs",
            Schedule.DAILY,
            -1,
        )
        assert schedule.next_run == later
        assert not Schedule.objects.filter(name="recover-lost-jobs").exists(), "one sweep"

    def test_the_task_prunes(self, user):
        job = ended(user, S.SUCCEEDED, 8)

        assert tasks.prune_old_jobs()["jobs"] == 1
        assert not exists(job)

    def test_the_command_dry_run_deletes_nothing_then_the_real_run_does(self, user):
        job = ended(user, S.SUCCEEDED, 8)
        record = task_record(8)
        events = JobEvent.objects.filter(job=job).count()

        dry = StringIO()
        call_command("prune_jobs", "--dry-run", stdout=dry)

        assert dry.getvalue().startswith(
            "Would delete (jobs are kept 7 days after they end, failed ones 30 days):"
        )
        assert "  jobs: 1\n" in dry.getvalue()
        assert f"  events: {events}\n" in dry.getvalue()
        assert "  tasks: 1\n" in dry.getvalue()
        assert exists(job) and Task.objects.filter(pk=record.pk).exists()

        real = StringIO()
        call_command("prune_jobs", stdout=real)

        assert real.getvalue().startswith("Deleted")
        assert "  jobs: 1\n" in real.getvalue()
        assert not exists(job) and not Task.objects.filter(pk=record.pk).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_cluster_runs_the_prune_task(worker):
    owner = make_user()
    old = ended(owner, S.SUCCEEDED, 8)
    recent = ended(owner, S.SUCCEEDED, 1)

    async_task("jobs.engine.tasks.prune_old_jobs", task_name="prune-test")

    wait_for(lambda: not exists(old), timeout=30, what="the cluster to prune the old job")
    record = wait_for(
        lambda: Task.objects.filter(name="prune-test").first(), timeout=10, what="its record"
    )
    assert record.success, record.result
    assert record.result["jobs"] == 1
    assert exists(recent)
