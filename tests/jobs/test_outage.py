"""While PostgreSQL cannot be reached, pages answer a clear 503 instead of a 500."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection
from django.test import Client

from jobs.errors import is_outage
from tests.factories import PASSWORD


@contextmanager
def unreachable_database():
    """Point the connection at a port where nothing listens, then put it back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


@pytest.mark.django_db(transaction=True)
def test_pages_answer_503_while_the_database_is_down_and_200_after(user):
    client = Client(raise_request_exception=False)
    client.login(username=user.username, password=PASSWORD)

    with unreachable_database():
        page = client.get("/jobs/")
        api_style = client.get("/jobs/", headers={"Accept": "application/json"})

    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    assert "The database is unavailable right now" in page.content.decode()
    assert api_style.status_code == 503
    assert api_style.json()["error"].startswith("The database is unavailable right now")
    assert client.get("/jobs/").status_code == 200


def test_only_connection_failures_count_as_an_outage():
    assert is_outage(OperationalError("could not connect to server: Connection refused"))
    assert is_outage(OperationalError("server closed the connection unexpectedly"))
    assert not is_outage(OperationalError('relation "jobs_job" does not exist'))
    assert not is_outage(ValueError("connection"))
    assert not is_outage(None)
