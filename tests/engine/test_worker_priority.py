"""The worker gives way to the web server for the CPU where they share a machine.

Linux's autogroup (on in most kernels, on this machine too) shares the CPU out between
sessions first, and a nice value counts only within its session: honcho and run_worker
start the cluster in a session of its own, so the cluster lowers its session's group as
well as its processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, start_run_worker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path("/proc/self/autogroup").exists(), reason="no autogroup scheduling here"
    ),
]


def group_nice(pid: int) -> int:
    # "/autogroup-85 nice 0"; nothing for the processes that stayed in the boot session's
    # root group (a CI runner started by pid 1), whose weight is that of nice 0.
    words = Path(f"/proc/{pid}/autogroup").read_text().split()
    return int(words[-1]) if words else 0


def descendants(pid: int) -> list[int]:
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += [int(child), *descendants(int(child))]
    return found


def process_nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


NICE = 10


@pytest.fixture
def worker_env(worker_env):
    return {**worker_env, "JOB_WORKER_NICE": str(NICE)}


def niced_workers(pid: int) -> list[int]:
    with contextlib.suppress(FileNotFoundError):
        return [child for child in descendants(pid) if process_nice(child) == NICE]
    return []


def stop(process: subprocess.Popen, *pids: int) -> None:
    for pid in (process.pid, *pids):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    process.wait(10)


def test_run_worker_lowers_the_cluster_session_and_leaves_the_web_level(worker_env, tmp_path):
    wrapper = start_run_worker(worker_env, tmp_path / "run_worker.log")
    cluster = None
    try:
        cluster = wait_for(lambda: descendants(wrapper.pid), timeout=10, what="the cluster")[0]
        wait_for(lambda: niced_workers(cluster), timeout=30, what="niced worker processes")
        # A worker lowers its own process first, then its session's group: two steps,
        # between which a loaded machine may read the first done and not the second.
        wait_for(lambda: group_nice(cluster) == NICE, timeout=10, what="the session lowered")

        assert group_nice(cluster) == NICE
        # run_worker's own session (the Procfile line's) and this one stay as they were.
        assert group_nice(wrapper.pid) == 0
        assert group_nice(os.getpid()) == 0
    finally:
        stop(wrapper, *([cluster] if cluster else []))


def test_a_cluster_sharing_its_session_leaves_the_session_level(worker_env, tmp_path):
    """A script that starts the web server and the cluster side by side keeps one session:
    lowering its group would lower the web server too."""
    log = (tmp_path / "qcluster.log").open("wb")
    # A session of its own, led by a shell that starts the cluster as a plain child.
    cluster = subprocess.Popen(
        ["sh", "-c", f"{sys.executable} manage.py qcluster; :"],
        cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        workers = wait_for(lambda: niced_workers(cluster.pid), timeout=30, what="workers")

        assert group_nice(workers[0]) == 0
        assert group_nice(cluster.pid) == 0
    finally:
        stop(cluster)
