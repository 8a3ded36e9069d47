"""CPU slots bound CPU-bound steps machine-wide and die with their process; database slots
bound a worker process's job connections and are given back during a wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from jobs.engine import slots
from tests.conftest import ROOT, wait_for


@pytest.fixture
def slot_dir(settings, tmp_path):
    settings.JOB_CPU_SLOT_DIR = str(tmp_path / "cpu-slots")
    settings.JOB_CPU_SLOTS = 2
    return tmp_path / "cpu-slots"


def test_no_more_cpu_bound_steps_run_at_once_than_there_are_slots(slot_dir):
    inside = peak = 0
    lock = threading.Lock()

    def step():
        nonlocal inside, peak
        with slots.cpu_slot():
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.1)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=step) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert peak == 2


def test_a_killed_process_leaves_its_cpu_slot_free(slot_dir, settings):
    settings.JOB_CPU_SLOTS = 1
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; d = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            " fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(slot_dir / "0.lock"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        slot_dir.mkdir(parents=True, exist_ok=True)
        assert holder.stdout.readline().strip() == b"held"
        assert slots._try_cpu_slot(slot_dir) is None, "the other process holds the only slot"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
        descriptor = wait_for(
            lambda: slots._try_cpu_slot(slot_dir), timeout=5, what="the slot to be free"
        )
        os.close(descriptor)
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_job_waiting_for_a_cpu_slot_gives_its_database_slot_back(slot_dir, settings, db):
    settings.JOB_CPU_SLOTS = 1
    database = slots.DatabaseSlots(1)
    order = []
    with slots.cpu_slot():
        waiter_has_database = threading.Event()

        def waiter():
            with database.held():
                waiter_has_database.set()
                with slots.cpu_slot(before_wait=database.released()):
                    order.append("waiter ran")

        thread = threading.Thread(target=waiter)
        thread.start()
        waiter_has_database.wait(5)
        # The waiter is stuck behind the CPU slot held here, yet its database slot is free.
        with database.held():
            order.append("database slot taken while the waiter waited")
    thread.join(5)

    assert order == ["database slot taken while the waiter waited", "waiter ran"]


@pytest.mark.django_db(transaction=True)
def test_a_database_slot_given_back_closes_the_job_threads_connection():
    database = slots.DatabaseSlots(1)
    seen = {}

    def job_thread():
        with database.held():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            seen["working"] = connection.connection is not None
            with database.released():
                seen["waiting"] = connection.connection is not None
        seen["ended"] = connection.connection is not None

    thread = threading.Thread(target=job_thread)
    thread.start()
    thread.join(10)

    assert seen == {"working": True, "waiting": False, "ended": False}
