"""CPU slots bound CPU-bound steps machine-wide and die with their process; database slots
bound a worker process's job connections and are given back during a wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from jobs.engine import slots
from tests.conftest import ROOT, wait_for


@pytest.fixture
def slot_dir(settings, tmp_path):
    settings.JOB_CPU_SLOT_DIR = str(tmp_path / "cpu-slots")
    settings.JOB_CPU_SLOTS = 2
    return tmp_path / "cpu-slots"


class Steps:
    """Steps that each hold a CPU slot for `seconds`: the order they began and ended in,
    and the most that ran at once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.began: list = []
        self.ended: list = []
        self.peak = 0
        self._inside = 0
        self._lock = threading.Lock()

    def run(self, number=None) -> None:
        with slots.cpu_slot():
            with self._lock:
                self._inside += 1
                self.peak = max(self.peak, self._inside)
                self.began.append(number)
            time.sleep(self.seconds)
            with self._lock:
                self._inside -= 1
                self.ended.append(number)

    def threads(self, count: int) -> list[threading.Thread]:
        return [threading.Thread(target=self.run, args=(n,)) for n in range(count)]


def test_no_more_cpu_bound_steps_run_at_once_than_there_are_slots(slot_dir):
    steps = Steps(0.1)
    threads = steps.threads(8)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert steps.peak == 2


def test_a_killed_process_leaves_its_cpu_slot_free(slot_dir, settings):
    settings.JOB_CPU_SLOTS = 1
    slot_dir.mkdir(parents=True, exist_ok=True)
    holder = hold_in_another_process(slot_dir / "0.lock")
    try:
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


def waiting() -> int:
    return len(slots._line._waiting)


def test_threads_waiting_for_a_slot_take_it_in_the_order_they_came(slot_dir, settings):
    settings.JOB_CPU_SLOTS = 1
    steps = Steps(0.002)
    threads = steps.threads(30)
    with slots.cpu_slot():
        for number, thread in enumerate(threads):
            thread.start()
            wait_for(lambda n=number: waiting() == n + 1, timeout=5, what="the thread in line")
    for thread in threads:
        thread.join(10)

    assert steps.began == list(range(30))
    assert steps.peak == 1
    assert waiting() == 0


def test_only_the_head_of_the_line_polls_the_lock_files(slot_dir, settings, monkeypatch):
    """A slot freed while threads wait goes to the next of them; they do not each poll
    (a burst's hundreds of jobs did, holding the interpreter lock a fifth of the time)."""
    settings.JOB_CPU_SLOTS = 1
    polls = 0
    polled = slots._try_cpu_slot

    def counted(directory):
        nonlocal polls
        polls += 1
        return polled(directory)

    monkeypatch.setattr(slots, "_try_cpu_slot", counted)
    threads = Steps(0.002).threads(100)
    with slots.cpu_slot():
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting() == 100, timeout=10, what="every thread in line")
        polls = 0
        time.sleep(0.2)
        # Meanwhile only the head polled, for a slot another process might free.
        assert polls <= 0.2 / slots._Line.MAX_DELAY + 2
    for thread in threads:
        thread.join(10)

    # 100 steps ran in turns; about one in HAND_OVERS + 1 went back to the lock file.
    assert not any(thread.is_alive() for thread in threads)
    assert polls < 50


def test_a_slot_is_not_lost_when_a_waiter_gives_up(slot_dir, settings):
    """A thread that leaves the line with an exception (its database slot could not be
    taken back) passes on a slot handed to it; every slot is free at the end."""
    settings.JOB_CPU_SLOTS = 2
    failures = []

    class Refused(Exception):
        pass

    @contextmanager
    def refused_on_return(number):
        yield
        if number % 3 == 0:
            raise Refused(number)

    def step(number):
        try:
            with slots.cpu_slot(before_wait=refused_on_return(number)):
                time.sleep(0.001)
        except Refused:
            failures.append(number)

    threads = [threading.Thread(target=step, args=(n,)) for n in range(60)]
    with slots.cpu_slot(), slots.cpu_slot():
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting() == 60, timeout=10, what="every thread in line")
    for thread in threads:
        thread.join(10)

    assert sorted(failures) == list(range(0, 60, 3))
    held = [slots._try_cpu_slot(slot_dir) for _ in range(2)]
    assert None not in held, "both slots are free again"
    for descriptor in held:
        os.close(descriptor)


def test_threads_in_line_get_a_slot_another_process_gives_up(slot_dir, settings):
    settings.JOB_CPU_SLOTS = 1
    slot_dir.mkdir(parents=True, exist_ok=True)
    holder = hold_in_another_process(slot_dir / "0.lock")
    steps = Steps(0.005)
    threads = steps.threads(5)
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting() == 5, timeout=5, what="every thread in line")
        assert steps.ended == []
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
    finally:
        if holder.poll() is None:
            holder.kill()
    for thread in threads:
        thread.join(10)

    assert sorted(steps.ended) == list(range(5))


def test_another_process_gets_its_turn_while_this_ones_threads_wait(slot_dir, settings):
    """A slot passes to this process's next waiter at most HAND_OVERS times in a row,
    then goes back to the machine: a process polling for it gets it while 60 threads
    here still wait."""
    settings.JOB_CPU_SLOTS = 1
    slot_dir.mkdir(parents=True, exist_ok=True)
    steps = Steps(0.005)
    threads = steps.threads(60)
    with slots.cpu_slot():
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting() == 60, timeout=10, what="every thread in line")
        other = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl, os, sys, time; d = os.open(sys.argv[1], os.O_RDWR)\n"
                "while True:\n"
                "    try: fcntl.flock(d, fcntl.LOCK_EX | fcntl.LOCK_NB); break\n"
                "    except BlockingIOError: time.sleep(0.0005)\n"
                "print('got it', flush=True); time.sleep(0.05)",
                str(slot_dir / "0.lock"),
            ],
            stdout=subprocess.PIPE,
        )
        time.sleep(0.3)  # the other process is polling before the slot is given up
    try:
        assert other.stdout.readline().strip() == b"got it"
        ran_before = len(steps.ended)
    finally:
        other.wait(10)
    for thread in threads:
        thread.join(10)

    assert ran_before < 60, "the other process had its turn before this one's line ended"
    assert sorted(steps.ended) == list(range(60))


def hold_in_another_process(lock_file) -> subprocess.Popen:
    """A process that holds the lock file until it is killed (within a minute)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; d = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            " fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(lock_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout.readline().strip() == b"held"
    return holder


@pytest.mark.django_db(transaction=True)
def test_a_database_slot_given_back_lets_go_of_the_job_threads_connection():
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
