"""The engine's guarantees at the concurrency it is built for: a hundred jobs at once,
each waiting on a model's stream, in one cluster of two worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from jobs.analysis.texts import dissecting
from jobs.engine import submitting
from jobs.engine.registry import get_kind
from jobs.engine.worker import recovery
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.conftest import Worker, start_run_worker, wait_for
from tests.engine.test_outage import database_answers, postgres
from tests.factories import make_document, make_user
from tests.fake_openai import FakeOpenAI, Script

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

JOBS = 100
TEXT = (
    "Methods: a randomised trial of 120 adults over 12 weeks. Results: HbA1c fell by 0.4% "
    "(95% CI 0.2 to 0.6, p = 0.01). Limitations: a short follow-up."
)


@pytest.fixture
def slow_model():
    """A provider whose every answer streams for about `seconds` seconds."""
    # Each sentence cites a passage, as an overview must to be kept (issue 16).
    script = Script(answer="A steady overview of the trial [P1]. " * 10, chunks=10)
    with FakeOpenAI(script=script) as server:
        yield server


def stream_for(server: FakeOpenAI, seconds: float) -> None:
    server.script.delay = seconds / server.script.chunks


@pytest.fixture
def many_env(worker_env, slow_model) -> dict[str, str]:
    return {
        **worker_env,
        "AI_BASE_URL": slow_model.base_url,
        "AI_API_KEY": "sk-test",
        "AI_MODEL": "fake-model",
        "AI_TIMEOUT_SECONDS": "20",
        "MAX_CONCURRENT_JOBS": str(JOBS),
        "Q_WORKERS": "2",
        "JOB_HEARTBEAT_SECONDS": "0.5",
        "JOB_PROGRESS_WRITE_SECONDS": "0.5",
    }


def submit_many(settings, count: int = JOBS, owner=None) -> list[Job]:
    settings.MAX_ACTIVE_JOBS_PER_USER = max(settings.MAX_ACTIVE_JOBS_PER_USER, count)
    owner = owner or make_user("busy", email="busy@example.com")
    document = make_document(owner, title="Trial", text=TEXT)
    kind = get_kind("deep_dive")
    return [
        submitting.submit(
            owner=owner, kind=kind, params={"document_id": document.pk, "objective": f"HbA1c {n}"}
        )
        for n in range(count)
    ]


def running_count() -> int:
    return Job.objects.filter(status=Job.Status.RUNNING).count()


def streaming_count() -> int:
    return Job.objects.filter(status=Job.Status.RUNNING, stage="writing").count()


def connections_to_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def process_tree(cluster: Worker) -> list[int]:
    """The cluster's main process and every process under it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [cluster.process.pid]
    for pid in tree:
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree


def all_ended(jobs: list[Job]) -> bool:
    ids = [job.pk for job in jobs]
    return not Job.objects.filter(pk__in=ids, status__in=Job.ACTIVE_STATUSES).exists()


def test_a_hundred_waiting_jobs_run_at_once_on_a_few_connections(
    many_env, slow_model, settings, tmp_path
):
    stream_for(slow_model, 8)
    cluster = Worker(tmp_path / "qcluster.log", many_env).start()
    try:
        # Nobody watches their pages: each ending e-mails the owner (to the console).
        jobs = submit_many(settings)
        wait_for(lambda: streaming_count() > 0, timeout=30, what="a job to stream")
        niceness = {pid: os.getpriority(os.PRIO_PROCESS, pid) for pid in process_tree(cluster)}
        peak_running = peak_connections = 0
        deadline = time.monotonic() + 90
        while not all_ended(jobs) and time.monotonic() < deadline:
            peak_running = max(peak_running, streaming_count())
            peak_connections = max(peak_connections, connections_to_test_database())
            time.sleep(0.25)
    finally:
        cluster.stop()

    statuses = set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True))
    assert statuses == {Job.Status.SUCCEEDED}
    # The cluster's own processes keep their priority; the two that run jobs yield the CPU.
    assert niceness[cluster.process.pid] == 0
    assert sorted(niceness.values()).count(10) == 2
    assert peak_running == JOBS, f"at most {peak_running} streamed from the model at once"
    # The test's own connection, the cluster's (sentinel, pusher, monitor) and per worker
    # process a keeper and at most JOB_DB_CONNECTIONS_PER_WORKER job connections.
    assert peak_connections <= 20, f"{peak_connections} connections at the peak"
    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert job.attempts == 1
        assert job.result["overview"].startswith("A steady overview")
        assert JobEvent.objects.filter(job=job, name=Job.Status.RUNNING).count() == 1
        assert job.notified_at is not None
        # One e-mail each, with the link to the job's page.
        assert cluster.log().count(f"/jobs/{job.pk}/") == 1


def test_killed_with_a_hundred_jobs_in_flight_every_one_resumes(
    many_env, slow_model, settings, tmp_path
):
    settings.JOB_STALE_SECONDS = 2
    stream_for(slow_model, 30)
    first = Worker(tmp_path / "first.log", many_env).start()
    try:
        jobs = submit_many(settings)
        wait_for(lambda: streaming_count() == JOBS, timeout=60, what="every job to stream")
    finally:
        # As when the machine dies: no job gets to write anything.
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(5)
    assert running_count() == JOBS

    stream_for(slow_model, 2)
    wait_for(
        lambda: recovery.recover_lost_jobs()["requeued"] > 0 and running_count() == 0,
        timeout=30,
        interval=1,
        what="every lost job to be queued again",
    )
    second = Worker(tmp_path / "second.log", many_env).start()
    try:
        wait_for(lambda: all_ended(jobs), timeout=90, interval=0.5, what="every job to end")
    finally:
        second.stop()

    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert job.status == Job.Status.SUCCEEDED
        assert job.attempts == 2
        # The analysis before the model's overview is attempt 1's, reused: every step.
        steps = JobCheckpoint.objects.filter(job=job, key__startswith="analysis|")
        assert sorted(steps.values_list("attempt", flat=True)) == [1] * len(dissecting.STEPS)


def test_cancelled_streaming_jobs_stop_within_seconds(many_env, slow_model, settings, tmp_path):
    stream_for(slow_model, 20)
    cluster = Worker(tmp_path / "qcluster.log", many_env).start()
    try:
        jobs = submit_many(settings)
        wait_for(lambda: streaming_count() == JOBS, timeout=60, what="every job to stream")
        cancelled = jobs[::2]
        for job in cancelled:
            assert submitting.cancel(job)
        at = time.monotonic()
        # A cancelled job's worker says so in its log once its thread has stopped.
        wait_for(
            lambda: cluster.log().count("status=cancelled") == len(cancelled),
            timeout=10,
            what="every cancelled job's thread to stop",
        )
        stopped_after = time.monotonic() - at
        wait_for(lambda: all_ended(jobs), timeout=60, interval=0.5, what="the others to end")
    finally:
        cluster.stop()

    assert stopped_after < 5, f"the last cancelled job stopped after {stopped_after:.1f} s"
    ended = dict(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("pk", "status"))
    assert {ended[job.pk] for job in cancelled} == {Job.Status.CANCELLED}
    assert {ended[job.pk] for job in jobs[1::2]} == {Job.Status.SUCCEEDED}


def test_sigterm_lets_a_hundred_running_jobs_finish(many_env, slow_model, settings, tmp_path):
    stream_for(slow_model, 6)
    worker = start_run_worker(many_env, tmp_path / "worker.log")
    try:
        jobs = submit_many(settings)
        wait_for(lambda: streaming_count() == JOBS, timeout=60, what="every job to stream")
        # As a platform redeploying does: SIGTERM to the whole process group.
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)

    assert worker.returncode == 0
    statuses = set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True))
    assert statuses == {Job.Status.SUCCEEDED}


def test_two_clusters_start_each_of_a_hundred_jobs_once(many_env, slow_model, settings, tmp_path):
    stream_for(slow_model, 3)
    env = {**many_env, "JOB_LEASE_SECONDS": "2"}
    clusters = [Worker(tmp_path / f"cluster{n}.log", env).start() for n in (1, 2)]
    try:
        jobs = submit_many(settings)
        wait_for(lambda: all_ended(jobs), timeout=90, interval=0.5, what="every job to end")
    finally:
        for cluster in clusters:
            cluster.stop()
    logs = [cluster.log() for cluster in clusters]

    assert all("job started" in log for log in logs), "both clusters took jobs"
    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert job.status == Job.Status.SUCCEEDED
        assert job.attempts == 1
        assert JobEvent.objects.filter(job=job, name=Job.Status.RUNNING).count() == 1
        assert sum(log.count(f"job finished id={job.pk} ") for log in logs) == 1


def test_each_job_stops_at_its_time_budget(many_env, slow_model, settings, tmp_path):
    stream_for(slow_model, 15)
    env = {**many_env, "JOB_BUDGETS": "deep_dive=3"}
    cluster = Worker(tmp_path / "qcluster.log", env).start()
    try:
        jobs = submit_many(settings)
        wait_for(lambda: all_ended(jobs), timeout=40, interval=0.5, what="every job to stop")
    finally:
        cluster.stop()

    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert job.status == Job.Status.FAILED
        assert "ran past its time budget of 0.05 minutes" in job.error
        assert job.finished_at - job.started_at < timedelta(seconds=10)


def test_users_take_turns_when_every_slot_is_taken(many_env, slow_model, settings, tmp_path):
    stream_for(slow_model, 1)
    env = {**many_env, "MAX_CONCURRENT_JOBS": "10"}
    early = make_user("early")
    late = make_user("late")
    cluster = Worker(tmp_path / "qcluster.log", env).start()
    try:
        first = submit_many(settings, 40, owner=early)
        wait_for(lambda: running_count() == 10, timeout=30, what="every slot to be taken")
        second = submit_many(settings, 10, owner=late)
        wait_for(lambda: all_ended(first + second), timeout=120, interval=0.5, what="all to end")
    finally:
        cluster.stop()

    def starts(jobs):
        return sorted(
            Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("started_at", flat=True)
        )

    early_starts, late_starts = starts(first), starts(second)
    assert None not in early_starts + late_starts, "every job started"
    # Turns: the late user's ten did not wait behind the early user's forty.
    assert late_starts[-1] < early_starts[-10]
    peak = max(
        sum(
            1
            for j in Job.objects.filter(owner__in=[early, late])
            if j.started_at <= at < j.finished_at
        )
        for at in early_starts + late_starts
    )
    assert peak <= 10


@pytest.mark.skipif(not shutil.which("pg_ctlcluster"), reason="needs a local PostgreSQL cluster")
def test_a_postgresql_restart_with_a_hundred_jobs_in_flight_loses_none(
    many_env, slow_model, settings, tmp_path
):
    stream_for(slow_model, 10)
    cluster = Worker(tmp_path / "qcluster.log", many_env).start()
    try:
        jobs = submit_many(settings)
        wait_for(lambda: streaming_count() == JOBS, timeout=60, what="every job to stream")
        postgres("stop")
        try:
            time.sleep(3)  # down for a while, as during a managed database's restart
        finally:
            postgres("start")
        wait_for(database_answers, timeout=30, what="PostgreSQL to accept connections again")
        wait_for(lambda: all_ended(jobs), timeout=150, interval=1, what="every job to end")
        assert cluster.process.poll() is None, "the worker reconnected by itself"
    finally:
        cluster.stop()

    statuses = set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True))
    assert statuses == {Job.Status.SUCCEEDED}
    assert "job keeper" in cluster.log(), "the keeper lost its connection and said so"


def test_killed_twice_with_jobs_queued_and_running_each_succeeds_once_and_none_waits(
    many_env, slow_model, settings, tmp_path
):
    """Two kill -9s while jobs run and more wait: the dead cluster's jobs resume, and a
    queued job whose task that cluster had taken does not wait out the task's lease."""
    stream_for(slow_model, 2)
    room = 10
    env = {**many_env, "MAX_CONCURRENT_JOBS": str(room)}
    jobs = submit_many(settings, 40)
    ids = [job.pk for job in jobs]
    for round_ in (1, 2):
        cluster = Worker(tmp_path / f"killed{round_}.log", env).start()
        try:
            wait_for(lambda: streaming_count() >= room // 2, timeout=60, what="jobs to stream")
        finally:
            os.killpg(cluster.process.pid, signal.SIGKILL)
            cluster.process.wait(5)
    assert Job.objects.filter(pk__in=ids, status=Job.Status.QUEUED).exists()

    back = time.monotonic()
    cluster = Worker(tmp_path / "back.log", env).start()
    longest_idle = 0.0
    idle_since = None
    try:
        while not all_ended(jobs) and time.monotonic() - back < 120:
            queued = Job.objects.filter(pk__in=ids, status=Job.Status.QUEUED).exists()
            now = time.monotonic()
            # A slot free while a job waits, the sweep's lost-job delay past.
            if queued and running_count() < room and now - back > 5:
                idle_since = idle_since or now
                longest_idle = max(longest_idle, now - idle_since)
            else:
                idle_since = None
            time.sleep(0.25)
    finally:
        cluster.stop()

    assert longest_idle < 30, f"a job waited {longest_idle:.0f} s with a slot free"
    for job in Job.objects.filter(pk__in=ids):
        assert job.status == Job.Status.SUCCEEDED, (job.pk, job.status, job.message)
        assert JobEvent.objects.filter(job=job, name=Job.Status.SUCCEEDED).count() == 1
