"""The PostgreSQL backend's health check: no round trip while the connection is quiet,
Django's SELECT 1 when something came from the server, and a connection the server ended
replaced before a request uses it."""

from __future__ import annotations

import pytest
from django.db import close_old_connections, connection, connections

from jobs.lib.postgresql.base import DatabaseWrapper
from tests.conftest import cursor_elsewhere, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def last_statement_of(backend_pid: int) -> str:
    """What this connection's backend last ran, as another connection sees it."""
    with cursor_elsewhere() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        return cursor.fetchone()[0]


@pytest.fixture
def ending():
    """End this connection's backend from another connection; a new one after the test."""
    yield end_from_elsewhere
    connection.close()


def end_from_elsewhere(backend_pid: int) -> None:
    """As a server's restart does to every connection, for this one; back once it is gone
    (the termination is a signal the backend acts on a moment later)."""
    with cursor_elsewhere() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])

        def gone() -> bool:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            return cursor.fetchone() is None

        wait_for(gone, timeout=10, interval=0.01, what="the backend to end")


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() /* mine */")
        return cursor.fetchone()[0]


def test_the_settings_use_it():
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connections["default"].health_check_enabled


def test_a_quiet_connection_is_usable_without_a_round_trip():
    pid = backend_pid()

    assert connection.is_usable()
    assert connection.is_usable()

    assert last_statement_of(pid).endswith("/* mine */"), "no SELECT 1 reached the server"


def test_a_connection_mid_transaction_is_asked():
    pid = backend_pid()
    connection.connection.autocommit = False
    try:
        with connection.connection.cursor() as cursor:
            cursor.execute("SELECT 2")
        assert connection.is_usable()
        assert last_statement_of(pid) == "SELECT 1"
    finally:
        connection.connection.rollback()
        connection.connection.autocommit = True


def test_a_connection_the_server_ended_fails_the_check(ending):
    pid = backend_pid()
    ending(pid)

    assert not connection.is_usable()


def test_a_connection_the_server_ended_is_replaced_as_the_next_request_starts(ending):
    pid = backend_pid()
    ending(pid)

    # What Django's handler does as a request starts (its test client leaves it out).
    close_old_connections()

    assert backend_pid() != pid
