"""Sessions a thread parks are taken up by the next thread of the process that connects,
instead of a new session each time; only a session as a new one would be is parked, never
more than asked, never one the server ended, idle too long or too old, and none survives
a fork."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, transaction

from jobs.engine.slots import DatabaseSlots
from jobs.lib.postgresql import parking
from tests.conftest import at_once, wait_for
from tests.lib.test_postgresql import backend_pid

pytestmark = pytest.mark.django_db(transaction=True)


def alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def in_a_thread(work):
    """What `work()` returns in a thread of its own (its own connection)."""
    result = {}

    def run() -> None:
        result["value"] = work()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return result["value"]


def parked_pid() -> int:
    """A session opened in a thread that parks it."""

    def work() -> int:
        pid = backend_pid()
        connection.park(4)
        return pid

    return in_a_thread(work)


def test_the_next_thread_that_connects_takes_up_the_parked_session():
    pid = parked_pid()
    assert parking.lot.count() == 1

    assert in_a_thread(backend_pid) == pid
    assert parking.lot.count() == 0


def test_a_session_inside_a_transaction_is_closed_not_parked():
    def work() -> int:
        with transaction.atomic():
            pid = backend_pid()
            connection.park(4)
        return pid

    pid = in_a_thread(work)

    assert parking.lot.count() == 0
    assert in_a_thread(backend_pid) != pid


def test_no_more_are_parked_than_asked():
    opened = threading.Barrier(3)

    def work() -> int:
        pid = backend_pid()
        opened.wait(10)  # three sessions open at once
        connection.park(2)
        return pid

    pids = at_once(3, work)

    assert parking.lot.count() == 2
    assert sum(alive(pid) for pid in pids) == 2, "the third was closed"


def test_a_parked_session_the_server_ended_is_not_taken_up():
    alive(0)  # this thread's own session open first: it must not take up the parked one
    pid = parked_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not alive(pid), timeout=10, interval=0.01, what="the backend to end")

    again = in_a_thread(backend_pid)

    assert again != pid
    assert parking.lot.count() == 0


def test_a_session_parked_too_long_is_closed(monkeypatch):
    pid = parked_pid()
    monkeypatch.setattr(parking, "IDLE_SECONDS", 0.0)

    assert in_a_thread(backend_pid) != pid
    assert not alive(pid)


def test_a_session_older_than_conn_max_age_is_closed():
    pid = parked_pid()
    connection.settings_dict["CONN_MAX_AGE"], before = 0, connection.settings_dict["CONN_MAX_AGE"]
    try:
        again = in_a_thread(backend_pid)
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = before

    assert again != pid
    assert not alive(pid)


# The child exits at once without touching anything the parent's threads hold.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_no_parked_session_outlives_a_fork():
    pid = parked_pid()

    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)

    assert parking.lot.count() == 0
    assert not alive(pid), "closed in the parent before the fork, not shared with the child"


def test_job_threads_in_turns_share_the_slots_sessions_and_see_what_one_thread_sees():
    """Forty job threads on four database slots, each reading its session and some rows
    in turns with waits between: the same answers as one thread alone, on at most four
    sessions (each closed and opened again at every turn without parking: forty or more)."""
    slots = DatabaseSlots(4)

    def job() -> tuple[list, set[int]]:
        answers, sessions = [], set()
        with slots.held():
            for turn in range(3):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT current_setting('TimeZone'), %s * 7, pg_backend_pid()", [turn]
                    )
                    zone, value, pid = cursor.fetchone()
                answers.append((zone, value))
                sessions.add(pid)
                with slots.released():
                    pass  # a wait on a model
        return answers, sessions

    alone, _ = in_a_thread(job)
    together = at_once(40, job)

    assert [answers for answers, _ in together] == [alone] * 40
    sessions = set().union(*(pids for _, pids in together))
    assert len(sessions) <= 4
    assert parking.lot.count() <= 4
