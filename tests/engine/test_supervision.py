"""A worker never lives on half-broken: a keeper that stops answering raises instead of
freezing its jobs, a report the database refuses costs no other job anything, and a side
thread that dies ends the worker process with a clear log line."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest

from jobs.engine import locking
from jobs.engine.worker.keeper import REPORT_TRIES, Keeper, KeeperGone
from jobs.engine.worker.supervision import EXIT_SIDE_THREAD_DIED
from jobs.models import Job
from tests.conftest import ROOT, database_url, wait_for
from tests.engine.test_keeper import running_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_asking_a_keeper_that_is_not_running_raises_instead_of_waiting(settings):
    (job,) = running_jobs(1)
    keeper = Keeper()  # never started, as if its thread had died

    at = time.monotonic()
    with pytest.raises(KeeperGone, match="not running"):
        keeper.attach(job.pk, lambda: None)

    assert time.monotonic() - at < 5


def test_a_refused_report_is_dropped_and_the_other_jobs_keep_writing_and_their_locks(
    settings, caplog
):
    settings.JOB_PROGRESS_WRITE_SECONDS = 0.1
    refused, fine = running_jobs(2)
    keeper = Keeper()
    keeper.start()
    try:
        for job in (refused, fine):
            assert keeper.attach(job.pk, lambda: None)
        caplog.set_level(logging.WARNING, logger="jobs.engine.worker.keeper")
        # PostgreSQL stores no NUL in a text column: this report can never be written.
        keeper.report(refused.pk, {"message": "half\x00way", "progress": 0.5})
        cycles = keeper.cycles
        wait_for(lambda: keeper.cycles > cycles + REPORT_TRIES + 1, timeout=10, what="cycles")
        keeper.report(fine.pk, {"message": "still going", "progress": 0.7})
        wait_for(
            lambda: Job.objects.get(pk=fine.pk).message == "still going",
            timeout=5,
            what="the other job's report to be written",
        )

        assert locking.held_by_a_live_worker(refused.pk), "no lock was dropped"
        assert locking.held_by_a_live_worker(fine.pk)
        assert Job.objects.get(pk=refused.pk).progress != 0.5
        dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
        assert dropped == [
            f"job keeper: dropped the progress of job {refused.pk}, refused {REPORT_TRIES} "
            f"times: {dropped[0].split('times: ', 1)[1]}"
        ]
        assert keeper._pending.reports.get(str(refused.pk)) is None, "tried no more"
    finally:
        keeper.stop()


def test_a_worker_whose_keeper_dies_ends_its_process_with_a_clear_line(transactional_db):
    script = (
        "from jobs.engine.worker import process\n"
        "worker = process.Worker()\n"
        "def broken(): raise RuntimeError('the keeper broke')\n"
        "worker.keeper.work = broken\n"
        "worker.start()\n"
        "import time; time.sleep(30)\n"
    )
    env = {"DATABASE_URL": database_url(), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == EXIT_SIDE_THREAD_DIED, done.stdout + done.stderr
    assert "its job-keeper thread died (RuntimeError: the keeper broke)" in done.stderr
    assert "exiting with status 70 to be restarted" in done.stderr
