"""While PostgreSQL cannot be reached, pages answer a clear 503 instead of a 500."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from jobs.models import Job, JobCheckpoint
from jobs.web.errors import is_outage
from tests.conftest import wait_for
from tests.factories import PASSWORD, make_user


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


def postgres(action: str) -> None:
    """Stop or start this machine's PostgreSQL cluster, the one the tests run on."""
    (version,) = os.listdir("/etc/postgresql")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        command += ["-m", "fast"]  # ends every session now, as a crash or restart does
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def database_answers() -> bool:
    connection.close()
    try:
        connection.ensure_connection()
    except OperationalError:
        return False
    return True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("pg_ctlcluster"), reason="needs a local PostgreSQL cluster")
def test_postgresql_restarted_under_load_loses_no_job(client, big_table, worker):
    owner = make_user("through-the-outage")
    client.login(username=owner.username, password=PASSWORD)
    for _ in range(3):
        client.post(reverse("jobs:new", args=["semantic_model"]), {"table": big_table})
    jobs = list(Job.objects.filter(owner=owner))
    wait_for(
        lambda: (
            JobCheckpoint.objects.filter(job__owner=owner, key__startswith="profiled|").count() >= 2
        ),
        timeout=30,
        what="two jobs to be well into profiling",
    )

    # Every job runs at once; the ones still waiting for a CPU slot have nothing saved yet.
    had_steps = set(JobCheckpoint.objects.filter(job__owner=owner).values_list("job_id", flat=True))
    postgres("stop")
    try:
        client.raise_request_exception = False
        page = client.get("/jobs/")
        time.sleep(3)  # down for a while, as during a managed database's restart
    finally:
        postgres("start")
    wait_for(database_answers, timeout=30, what="PostgreSQL to accept connections again")

    assert page.status_code == 503
    wait_for(
        lambda: all(Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED for job in jobs),
        timeout=120,
        interval=1,
        what="every job to succeed after the restart",
    )
    interrupted = [
        job for job in Job.objects.filter(owner=owner, pk__in=had_steps) if job.attempts > 1
    ]
    assert interrupted, "the restart interrupted the running jobs"
    for job in interrupted:
        # The next attempt resumed: what attempt 1 profiled was not profiled again.
        assert JobCheckpoint.objects.filter(job=job, attempt=1).exists()
        assert "connection to the database was lost" in job.events.get(name="retrying").message
    assert worker.process.poll() is None, "the worker reconnected by itself"
