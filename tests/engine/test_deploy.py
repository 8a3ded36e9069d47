"""A redeploy stops the worker with SIGTERM; the running job must not be lost."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from jobs.models import Job
from tests.conftest import start_profiling, start_run_worker, wait_for
from tests.factories import make_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


# Some process managers send SIGTERM twice in quick succession.
@pytest.mark.parametrize("signals", [1, 2])
def test_sigterm_to_the_worker_group_lets_the_running_job_finish(
    client, big_table, worker_env, tmp_path, signals
):
    # Like honcho: the Procfile command in a group of its own, signalled as a group.
    wrapper = start_run_worker(worker_env, tmp_path / "run_worker.log")
    cluster = None
    try:
        cluster = wait_for(lambda: children(wrapper.pid), timeout=10, what="the cluster")[0]
        job = start_profiling(client, make_user("deployer"), big_table)

        for _ in range(signals):
            os.killpg(wrapper.pid, signal.SIGTERM)
            time.sleep(0.05)
        code = wrapper.wait(90)
    finally:
        # Whatever happened above, leave no process behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(wrapper.pid, signal.SIGKILL)
        if cluster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(cluster, signal.SIGKILL)
    output = (tmp_path / "run_worker.log").read_text(errors="replace")

    assert code == 0, output[-3000:]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, output[-3000:]
    assert "has stopped" in output
    with pytest.raises(ProcessLookupError):
        os.kill(cluster, 0)
