from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from jobs.engine import running, submitting
from jobs.engine.context import JobCancelled, JobContext, JobError
from jobs.engine.registry import all_kinds, get_kind, stage_states
from jobs.engine.worker import attempts, claiming
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.factories import make_job, make_user

KINDS = ["jobs.kinds.semantic_model", "tests.kinds_for_tests"]


@pytest.fixture(autouse=True)
def test_kinds(settings):
    settings.JOB_KIND_MODULES = KINDS


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
class TestSubmit:
    def test_job_and_queue_entry_are_written_together(self, user):
        job = make_job(user, kind="primes", params={"n": 10})

        assert job.status == Job.Status.QUEUED
        assert job.task_id
        assert OrmQ.objects.count() == 1
        assert list(job.events.values_list("name", flat=True)) == ["queued"]

    def test_a_rolled_back_submit_leaves_neither_job_nor_queue_entry(self, user):
        with pytest.raises(RuntimeError), transaction.atomic():
            submitting.submit(owner=user, kind=get_kind("primes"), params={"n": 10})
            raise RuntimeError("the request failed after submitting")

        assert not Job.objects.exists()
        assert not OrmQ.objects.exists()


@pytest.mark.django_db
class TestRun:
    def test_success_records_result_stages_and_progress(self, user):
        job = make_job(user, kind="primes", params={"n": 100})

        assert running.run_queued_job(str(job.pk)) == Job.Status.SUCCEEDED

        job.refresh_from_db()
        assert job.result == {"primes": 25}
        assert job.progress == 1.0
        assert job.attempts == 1
        assert job.started_at <= job.finished_at
        events = list(job.events.values_list("type", "name"))
        assert events == [
            ("status", "queued"),
            ("status", "running"),
            ("stage", "counting"),
            ("message", "counting"),  # its last message, "checked 100"
            ("stage", "reporting"),
            ("status", "succeeded"),
        ]

    def test_a_job_error_fails_with_its_message(self, user):
        job = make_job(user, kind="primes", params={"n": 10, "fail": True})

        running.run_queued_job(str(job.pk))

        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.error == "There were too many primes to report."
        assert job.stage == "reporting"
        assert job.result == {"primes": 4, "partial": True}, "what it counted is kept"

    def test_a_crash_fails_with_a_readable_message(self, user, settings):
        settings.MAX_JOB_RETRIES = 0
        job = make_job(user, kind="primes", params={"n": 10, "crash": True})

        running.run_queued_job(str(job.pk))

        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert "unexpected error" in job.error
        assert "ZeroDivisionError: division by zero" in job.error

    def test_a_second_delivery_does_no_work(self, user):
        job = make_job(user, kind="primes", params={"n": 10})
        running.run_queued_job(str(job.pk))

        assert running.run_queued_job(str(job.pk)) == "skipped"

        job.refresh_from_db()
        assert job.attempts == 1
        assert job.events.filter(name="running").count() == 1

    def test_a_job_cancelled_while_running_stops_at_its_next_write(self, user):
        job = make_job(user, kind="primes", params={"n": 10})
        job = claiming.claim(str(job.pk))
        context = JobContext(job, get_kind("primes"), write_interval=0)
        context.stage("counting")
        Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)

        with pytest.raises(JobCancelled):
            context.progress(0.5)

    def test_an_unknown_kind_fails_instead_of_vanishing(self, user):
        job = make_job(user, kind="primes", params={"n": 10})
        Job.objects.filter(pk=job.pk).update(kind="retired_kind")

        running.run_queued_job(str(job.pk))

        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert "retired_kind" in job.error


@pytest.mark.django_db
class TestProgress:
    def test_progress_writes_are_throttled(self):
        job = claiming.claim(str(make_job(kind="primes", params={"n": 10}).pk))
        clock = FakeClock()
        context = JobContext(job, get_kind("primes"), clock=clock, write_interval=1.0)

        context.stage("counting")
        for step in range(10_000):
            context.progress(step / 20_000)
        assert context.writes == 1

        clock.now = 1.5
        context.progress(0.5, "half way")
        assert context.writes == 2
        job.refresh_from_db()
        assert job.message == "half way"
        # counting weighs 3 of 4: half of it is 3/8 of the job.
        assert job.progress == pytest.approx(0.375)

    def test_entering_a_stage_always_writes(self):
        job = claiming.claim(str(make_job(kind="primes", params={"n": 10}).pk))
        context = JobContext(job, get_kind("primes"), clock=FakeClock(), write_interval=60)

        context.stage("counting")
        context.stage("reporting")

        job.refresh_from_db()
        assert context.writes == 2
        assert job.stage == "reporting"
        assert job.progress == pytest.approx(0.75)
        assert JobEvent.objects.filter(job=job, type="stage").count() == 2


def test_stage_states_follow_the_job():
    kind = get_kind("semantic_model")

    running = [s.state for s in stage_states(kind, "running", "sampling")]
    failed = [s.state for s in stage_states(kind, "failed", "sampling")]
    done = {s.state for s in stage_states(kind, "succeeded", "saving")}
    queued = {s.state for s in stage_states(kind, "queued", "")}

    assert running[:4] == ["done", "done", "current", "todo"]
    assert failed[2] == "failed"
    assert done == {"done"}
    assert queued == {"todo"}


def test_each_stage_state_carries_its_own_log():
    kind = get_kind("semantic_model")
    keys = kind.stage_keys()
    log = {keys[0]: ["started", "ended"], keys[2]: ["started"]}

    states = stage_states(kind, "running", keys[2], log=log)

    assert [list(s.log) for s in states[:4]] == [["started", "ended"], [], ["started"], []]
    assert all(s.log == () for s in stage_states(kind, "running", keys[2]))


@pytest.mark.django_db
def test_for_user_and_active_querysets():
    alice, bob = make_user(), make_user()
    mine = make_job(alice, kind="primes", params={"n": 5})
    make_job(alice, kind="primes", params={"n": 5}, status=Job.Status.SUCCEEDED)
    make_job(bob, kind="primes", params={"n": 5})

    assert list(Job.objects.for_user(alice).active()) == [mine]
    assert Job.objects.for_user(alice).count() == 2


@pytest.mark.django_db
class TestRetries:
    def test_a_crash_is_tried_again_later_with_its_error_recorded(self, user, settings):
        settings.MAX_JOB_RETRIES = 2
        settings.JOB_RETRY_BASE_SECONDS = 10
        job = make_job(user, kind="primes", params={"n": 10, "crash": True})

        assert running.run_queued_job(str(job.pk)) == "retrying"

        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED
        assert "ZeroDivisionError" in job.error
        assert job.message.startswith("Attempt 1 failed; trying again in ")
        retry = Schedule.objects.get(name=f"retry-{job.pk}-1")
        assert (
            retry.func == "jobs.engine.tasks.start_next_job"
            and retry.schedule_type == Schedule.ONCE
        )
        wait = (retry.next_run - timezone.now()).total_seconds()
        assert 4 <= wait <= 10

    def test_retries_stop_after_max_job_retries(self, user, settings):
        settings.MAX_JOB_RETRIES = 2
        job = make_job(user, kind="primes", params={"n": 10, "crash": True})

        outcomes = [running.run_queued_job(str(job.pk)) for _ in range(3)]

        assert outcomes == ["retrying", "retrying", Job.Status.FAILED]
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and job.attempts == 3
        history = list(job.events.filter(type="status").values_list("name", "attempt"))
        assert history == [
            ("queued", 0), ("running", 1), ("retrying", 1), ("running", 2),
            ("retrying", 2), ("running", 3), ("failed", 3),
        ]  # fmt: skip

    def test_a_failure_that_would_repeat_is_not_retried(self, user, settings):
        settings.MAX_JOB_RETRIES = 3
        job = make_job(user, kind="primes", params={"n": 10, "fail": True})

        assert running.run_queued_job(str(job.pk)) == Job.Status.FAILED
        assert not Schedule.objects.filter(name__startswith="retry-").exists()

    def test_backoff_doubles_with_jitter(self, settings):
        settings.JOB_RETRY_BASE_SECONDS = 10
        delays = {attempt: [attempts.retry_delay(attempt) for _ in range(50)] for attempt in (1, 3)}

        assert all(5 <= d <= 10 for d in delays[1])
        assert all(20 <= d <= 40 for d in delays[3])
        assert len(set(delays[3])) > 1

    def test_a_retry_resumes_from_the_steps_already_saved(self, user, settings):
        settings.MAX_JOB_RETRIES = 1
        job = make_job(user, kind="primes", params={"n": 50, "crash": True})
        running.run_queued_job(str(job.pk))
        JobCheckpoint.objects.filter(job=job).update(value=[2, 3, 5])  # proves it is reused

        running.run_queued_job(str(job.pk))

        (step,) = JobCheckpoint.objects.filter(job=job)
        assert (step.key, step.attempt) == ("counted", 1)
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and job.attempts == 2
        # What it finished is kept as a partial result, shown with the error.
        assert job.result == {"primes": 3, "partial": True}

    def test_a_retry_by_hand_queues_it_again_with_fresh_retries(self, user, settings):
        settings.MAX_JOB_RETRIES = 1
        job = make_job(user, kind="primes", params={"n": 10, "fail": True})
        running.run_queued_job(str(job.pk))
        OrmQ.objects.all().delete()

        assert submitting.retry(job)

        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED and job.attempt_offset == 1
        assert job.result is None and job.error == "" and job.finished_at is None
        assert OrmQ.objects.count() == 1
        assert attempts.has_retries_left(Job(attempts=2, attempt_offset=1))
        assert not submitting.retry(job), "only a failed or cancelled job is retried"
        assert job.events.last().message == "Retried by its owner."

    def test_a_retry_by_its_owner_respects_the_active_job_limit(self, user, settings):
        settings.MAX_ACTIVE_JOBS_PER_USER = 1
        failed = make_job(user, kind="primes", params={"n": 10}, status=Job.Status.FAILED)
        make_job(user, kind="primes", params={"n": 10})

        with pytest.raises(submitting.SubmitRefused, match="most allowed at once"):
            submitting.retry(failed)
        assert submitting.retry(failed, by="staff", enforce_limit=False)

    def test_the_job_page_shows_the_attempts(self, alice_client, user, settings):
        settings.MAX_JOB_RETRIES = 1
        job = make_job(user, kind="primes", params={"n": 10, "crash": True})
        running.run_queued_job(str(job.pk))
        running.run_queued_job(str(job.pk))

        page = alice_client.get(job.get_absolute_url()).content.decode()

        assert "Attempt 1" in page and "Attempt 2" in page
        assert page.count("ZeroDivisionError: division by zero") >= 2


@pytest.mark.django_db
class TestLimits:
    def test_a_job_past_its_budget_stops_with_a_clear_message(self, user, settings):
        settings.JOB_BUDGETS = {"primes": 60}
        job = claiming.claim(str(make_job(user, kind="primes", params={"n": 10}).pk))
        clock = FakeClock()
        context = JobContext(job, get_kind("primes"), clock=clock, write_interval=0)
        context.stage("counting")

        clock.now = 61
        with pytest.raises(JobError, match="ran past its time budget of 1 minutes") as failure:
            context.progress(0.5)
        assert "during “Counting”" in str(failure.value)
        assert not failure.value.retryable

    def test_budgets_come_from_settings_per_kind(self, settings):
        settings.JOB_BUDGETS = {"primes": 1200}
        settings.JOB_DEFAULT_BUDGET_SECONDS = 1800

        assert get_kind("primes").budget_seconds == 1200
        assert get_kind("semantic_model").budget_seconds == 1800

    def test_the_broker_timeout_is_above_every_budget(self):
        from django.conf import settings as django_settings

        longest = max(kind.budget_seconds for kind in all_kinds().values())
        assert django_settings.Q_CLUSTER["timeout"] > longest
        assert django_settings.Q_CLUSTER["retry"] > django_settings.Q_CLUSTER["timeout"]

    def test_a_user_at_the_active_limit_gets_a_clear_refusal(self, alice_client, user, settings):
        settings.MAX_ACTIVE_JOBS_PER_USER = 2
        make_job(user, kind="primes", params={"n": 5}, status=Job.Status.SUCCEEDED)
        make_job(user, kind="primes", params={"n": 5})
        make_job(user, kind="primes", params={"n": 5})

        response = alice_client.post("/jobs/new/primes/", {"n": 5})

        assert response.status_code == 429
        assert "You already have 2 jobs queued or running" in response.content.decode()
        assert Job.objects.count() == 3
        with pytest.raises(submitting.SubmitRefused):
            submitting.submit(owner=user, kind=get_kind("primes"), params={"n": 5})
