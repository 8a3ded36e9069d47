"""The keeper: one connection per worker process for all its jobs' reports, heartbeats
and locks, however many jobs run there."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.engine import locking, submitting
from jobs.engine.endings import ending, status_event
from jobs.engine.worker.keeper import Attached, Keeper
from jobs.models import Job, JobEvent
from tests.conftest import wait_for
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def running_jobs(count: int) -> list[Job]:
    owner = make_user()
    long_ago = timezone.now() - timedelta(minutes=5)
    jobs = []
    for _ in range(count):
        job = make_job(owner, status=Job.Status.RUNNING, heartbeat_at=long_ago, attempts=1)
        jobs.append(job)
    return jobs


@pytest.fixture
def keeper():
    keeper = Keeper()
    keeper.start()
    yield keeper
    keeper.stop()


def test_fifty_jobs_reports_and_heartbeats_take_four_statements(settings):
    settings.MAX_ACTIVE_JOBS_PER_USER = 50
    jobs = running_jobs(50)
    keeper = Keeper()  # not started: its cycle runs here, so its queries can be counted
    for job in jobs:
        keeper._attached[str(job.pk)] = Attached(on_stop=lambda: None)
        keeper._locked.add(str(job.pk))  # as attach() leaves it
        keeper.report(job.pk, {"progress": 0.5, "message": f"half of {job.pk}"})
    keeper.report(
        jobs[0].pk,
        {"stage": "profiling"},
        event=JobEvent(job=jobs[0], type=JobEvent.Type.STAGE, name="profiling"),
    )

    with CaptureQueriesContext(connection) as queries:
        keeper._cycle()

    # Which are still running; their progress; the stage event; their heartbeat.
    assert len(queries) == 4
    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert (job.progress, job.message) == (0.5, f"half of {job.pk}")
        assert timezone.now() - job.heartbeat_at < timedelta(seconds=5)
    assert Job.objects.get(pk=jobs[0].pk).stage == "profiling"
    assert JobEvent.objects.filter(job=jobs[0], name="profiling").exists()


def test_of_hundreds_of_jobs_the_cycle_finds_those_no_longer_running(settings):
    """In one statement, with the ids as one array: cancelled, ended and deleted jobs,
    and none of those still running."""
    settings.MAX_ACTIVE_JOBS_PER_USER = 300
    jobs = running_jobs(300)
    keeper = Keeper()
    for job in jobs:
        keeper._attached[str(job.pk)] = Attached(on_stop=lambda: None)
    Job.objects.filter(pk=jobs[7].pk).update(status=Job.Status.CANCELLED)
    Job.objects.filter(pk=jobs[150].pk).update(status=Job.Status.SUCCEEDED)
    Job.objects.filter(pk=jobs[299].pk).update(status=Job.Status.QUEUED)
    gone = {str(jobs[n].pk) for n in (7, 42, 150, 299)}
    Job.objects.filter(pk=jobs[42].pk).delete()

    with CaptureQueriesContext(connection) as queries:
        stopped = keeper._stopped(dict(keeper._attached))

    assert stopped == gone
    assert len(queries) == 1
    still = set(Job.objects.filter(status=Job.Status.RUNNING).values_list("pk", flat=True))
    assert {str(pk) for pk in still} == set(keeper._attached) - stopped


def test_a_cancelled_job_is_told_within_a_cycle(keeper, settings):
    settings.JOB_PROGRESS_WRITE_SECONDS = 0.2
    (job,) = running_jobs(1)
    told = threading.Event()
    assert keeper.attach(job.pk, told.set)

    submitting.cancel(job)

    assert told.wait(3)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_a_report_for_a_job_that_ended_is_not_written(keeper, settings):
    settings.JOB_PROGRESS_WRITE_SECONDS = 0.2
    (job,) = running_jobs(1)
    assert keeper.attach(job.pk, lambda: None)
    submitting.cancel(job)
    keeper.report(job.pk, {"progress": 0.9, "message": "still going"})
    cycles = keeper.cycles
    wait_for(lambda: keeper.cycles > cycles + 1, timeout=3, what="two keeper cycles")

    job.refresh_from_db()
    assert job.message == "Cancelled."


def test_the_keeper_holds_each_jobs_lock_until_it_is_released(keeper):
    jobs = running_jobs(3)
    for job in jobs:
        assert keeper.attach(job.pk, lambda: None)
    assert all(locking.held_by_a_live_worker(job.pk) for job in jobs)

    keeper.detach(jobs[0].pk)
    assert locking.held_by_a_live_worker(jobs[0].pk), "held until its ending is written"
    keeper.release(jobs[0].pk)

    assert not locking.held_by_a_live_worker(jobs[0].pk)
    assert locking.held_by_a_live_worker(jobs[1].pk)


def test_a_job_another_session_holds_is_not_attached(keeper):
    (job,) = running_jobs(1)
    assert locking.try_lock(connection, job.pk)
    try:
        assert not keeper.attach(job.pk, lambda: None)
    finally:
        locking.unlock(connection, job.pk)


def test_after_losing_its_connection_the_keeper_takes_the_locks_again(keeper, settings):
    settings.JOB_PROGRESS_WRITE_SECONDS = 0.2
    jobs = running_jobs(2)
    for job in jobs:
        assert keeper.attach(job.pk, lambda: None)
    pid = _holder_pid(jobs[0].pk)
    assert pid is not None and pid == _holder_pid(jobs[1].pk), "one connection holds both"
    with connection.cursor() as cursor:
        # As a PostgreSQL restart or a dropped network link would.
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(
        lambda: (
            not locking.held_by_a_live_worker(jobs[0].pk)
            or _holder_pid(jobs[0].pk) not in (None, pid)
        ),
        timeout=5,
        what="the lock to go with the connection, or to be taken again",
    )

    wait_for(
        lambda: all(locking.held_by_a_live_worker(job.pk) for job in jobs),
        timeout=10,
        what="the keeper to take both locks again",
    )
    assert _holder_pid(jobs[0].pk) != pid


def _holder_pid(job_id) -> int | None:
    key = locking.lock_key(job_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            [key],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_jobs_ending_together_are_ended_in_one_statement(settings):
    settings.MAX_ACTIVE_JOBS_PER_USER = 50
    jobs = running_jobs(30)
    lost = jobs[-1]
    Job.objects.filter(pk=lost.pk).update(attempts=2)  # another attempt took it over
    keeper = Keeper()  # not started: its cycle runs here, so its queries can be counted
    futures = []
    for job in jobs:
        future = Future()
        fields = ending(Job.Status.SUCCEEDED, result={"n": str(job.pk)}, report={"stage": "end"})
        event = status_event(job, Job.Status.SUCCEEDED)
        keeper._pending.requests.append(("end", str(job.pk), future, (1, fields, event)))
        futures.append(future)

    with CaptureQueriesContext(connection) as queries:
        keeper._cycle()

    statements = [q["sql"].split(" ", 1)[0] for q in queries]
    assert statements.count("UPDATE") == 1, statements
    assert statements.count("INSERT") == 1, "every status event in one INSERT"
    assert [f.result(0) for f in futures] == [True] * 29 + [False]
    for job in Job.objects.filter(pk__in=[j.pk for j in jobs[:-1]]):
        assert (job.status, job.result, job.stage) == ("succeeded", {"n": str(job.pk)}, "end")
        assert job.progress == 1.0 and job.finished_at
        assert list(job.events.values_list("name", flat=True)) == ["queued", "succeeded"]
    assert Job.objects.get(pk=lost.pk).status == Job.Status.RUNNING, "not its attempt's"
