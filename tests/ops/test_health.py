"""/health: the hosting platform's check that the database answers and a worker is alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf

from jobs.models import Job
from jobs.ops.health import NO_CLUSTER
from tests.conftest import wait_for
from tests.engine.test_outage import unreachable_database
from tests.factories import PASSWORD, make_job, make_user

TOKEN = "health-token-for-the-tests"


@pytest.fixture(autouse=True)
def client(client, settings):
    """A caller that sees the details: the monitoring's token (staff see them too)."""
    settings.HEALTH_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def forget_clusters() -> None:
    """Drop what clusters of earlier tests reported: they expire within 3 s anyway."""
    caches[Conf.CACHE].clear()


@pytest.mark.django_db
class TestWithoutAWorker:
    def test_no_cluster_is_a_503_that_says_so(self, client):
        forget_clusters()

        response = client.get("/health")

        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "status": "error",
            "database": "ok",
            "reason": NO_CLUSTER,
            "clusters": 0,
            "workers": 0,
            "queued": 0,
            "oldest_queued_seconds": None,
        }

    def test_needs_no_login_and_never_redirects_even_when_logged_in(self, client):
        forget_clusters()
        anonymous = client.get("/health")
        user = make_user()
        client.login(username=user.username, password=PASSWORD)
        logged_in = client.head("/health")

        assert anonymous.status_code == 503
        assert logged_in.status_code == 503
        assert "Location" not in anonymous and "Location" not in logged_in

    def test_is_never_cached(self, client):
        forget_clusters()

        response = client.get("/health")

        assert "no-cache" in response["Cache-Control"]

    def test_reports_the_queue(self, client):
        forget_clusters()
        now = timezone.now()
        make_job(created_at=now - timedelta(seconds=90))
        make_job(created_at=now - timedelta(seconds=10))
        make_job(status=Job.Status.SUCCEEDED, created_at=now - timedelta(days=2))

        report = client.get("/health").json()

        assert report["queued"] == 2
        assert 90 <= report["oldest_queued_seconds"] < 120

    def test_a_missing_worker_can_be_allowed(self, client, settings):
        settings.HEALTH_REQUIRE_WORKER = False
        forget_clusters()

        response = client.get("/health")

        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["clusters"] == 0

    def test_the_list_of_clusters_does_not_lapse(self):
        # A check reading the list writes it back with the cache's default timeout: a
        # timeout would let it lapse, and a check in the next instant find no cluster.
        caches[Conf.CACHE].set(Conf.Q_STAT, [])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT expires FROM django_q_cluster_status WHERE cache_key LIKE %s",
                [f"%{Conf.Q_STAT}"],
            )
            (expires,) = cursor.fetchone()

        assert expires.year == 9999

    def test_only_get_and_head(self, client):
        assert client.post("/health").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_not_a_500(client, settings):
    settings.HEALTH_REQUIRE_WORKER = False

    # The test client re-raises any exception a view lets through: none may.
    with unreachable_database():
        down = client.get("/health")
    up = client.get("/health")

    assert down.status_code == 503
    assert down.json()["database"] == "unreachable"
    assert down.json()["reason"].startswith("database unreachable: ")
    # The connection error names the database's host: an anonymous caller does not see it.
    assert "127.0.0.1" not in down.content.decode()
    assert up.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_missing_cache_table_is_a_503_that_says_so(client):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_q_cluster_status RENAME TO cluster_status_away")
    try:
        response = client.get("/health")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE cluster_status_away RENAME TO django_q_cluster_status")

    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["reason"] == "cluster status unavailable: ProgrammingError"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ok_while_a_real_cluster_runs_and_503_once_it_stops(client, worker):
    forget_clusters()

    def healthy():
        response = client.get("/health")
        return response if response.status_code == 200 else None

    response = wait_for(healthy, timeout=30, interval=0.25, what="/health to see the cluster")
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"] == "ok"
    assert report["clusters"] == 1
    assert report["workers"] == 2  # Q_WORKERS in worker_env
    assert "reason" not in report

    worker.stop()

    response = wait_for(
        lambda: (r := client.get("/health")).status_code == 503 and r,
        timeout=10,
        interval=0.25,
        what="/health to notice the cluster stopped",
    )
    assert response.json()["reason"] == NO_CLUSTER


@pytest.mark.django_db
def test_anyone_else_learns_only_up_or_down(client, settings):
    forget_clusters()
    make_job(make_user("someone"))
    staff = make_user("staff", is_staff=True)

    anonymous = Client().get("/health")
    wrong_token = Client().get("/health", headers={"Authorization": "Bearer guessed"})
    user = Client()
    user.force_login(make_user("plain"))
    logged_in = user.get("/health")
    staff_client = Client()
    staff_client.force_login(staff)
    detailed = staff_client.get("/health")

    for answer in (anonymous, wrong_token, logged_in):
        assert answer.status_code == 503 and answer.json() == {"status": "error"}
    assert detailed.status_code == 503 and detailed.json()["reason"] == NO_CLUSTER
    assert detailed.json()["queued"] == 1
    settings.HEALTH_REQUIRE_WORKER = False
    assert Client().get("/health").json() == {"status": "ok"}
