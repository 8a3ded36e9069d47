"""Semantic models of tables in users' databases, reached through connections: MariaDB,
a SQLite file and PostgreSQL, with every expression, metric, filter and verified query
run on the data with its logical names resolved."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
from django.test import Client

from jobs.analysis.tables import connections
from jobs.engine import running
from jobs.models import Job
from tests.conftest import database_url
from tests.factories import make_user
from tests.user_databases import (
    MARIADB_DATABASE,
    mariadb_tables,
    modelled,
    postgres_schema,
    submit,
)

pytestmark = pytest.mark.django_db


def readings(days: int = 400) -> list[tuple]:
    start = date(2023, 1, 1)
    return [
        (start + timedelta(days=n), ["rain", "sun", "fog"][n % 3] if n % 5 else "rain",
         round(5 + (n % 17) * 1.25, 2), round((n % 7) * 0.8, 1), 1000 + n)
        for n in range(days)
    ]  # fmt: skip


@pytest.fixture
def mariadb_weather():
    def fill(cursor):
        cursor.execute(
            "CREATE TABLE city_weather (day DATE, weather VARCHAR(10), tempMax DOUBLE,"
            " precipitation DOUBLE, stationRef INT)"
        )
        cursor.executemany("INSERT INTO city_weather VALUES (%s, %s, %s, %s, %s)", readings())

    with mariadb_tables("DROP TABLE IF EXISTS city_weather", fill) as url:
        yield url


@pytest.fixture
def sqlite_weather(tmp_path):
    path = tmp_path / "weather.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE city_weather (day DATE, weather TEXT, tempMax REAL,"
            " precipitation REAL, stationRef INTEGER)"
        )
        db.executemany(
            "INSERT INTO city_weather VALUES (?, ?, ?, ?, ?)",
            [(d.isoformat(), *rest) for d, *rest in readings()],
        )
    return f"sqlite:///{path}"


def modelled_table(user, key: str) -> tuple[dict, Job]:
    # The older single-table spelling, which the API still takes.
    return modelled(user, {"table": key})


@pytest.mark.parametrize("source", ["mariadb_weather", "sqlite_weather"])
def test_a_table_of_a_users_database_is_modelled_and_checked(request, user, source):
    url = request.getfixturevalue(source)
    connection = connections.add(f"weather-{source}", url, users=[user])
    schema = MARIADB_DATABASE if source == "mariadb_weather" else "main"

    model, job = modelled_table(user, f"c{connection.pk}:{schema}.city_weather")

    table = model["tables"][0]
    assert table["base_table"]["table"] == "city_weather"
    metrics = {m["name"]: m["expr"] for m in table["metrics"]}
    assert metrics["total_precipitation"] == "SUM(precipitation)"
    assert "total_temp_max" not in metrics and metrics["average_temp_max"] == "AVG(temp_max)"
    roles = {c["name"]: role for role in ("dimensions", "time_dimensions", "facts")
             for c in table.get(role, [])}  # fmt: skip
    assert roles["day"] == "time_dimensions" and roles["station_ref"] == "dimensions"
    # Identifiers quoted as Snowflake reads them, whatever the source.
    exprs = {c["name"]: c["expr"] for role in ("facts",) for c in table[role]}
    assert exprs["temp_max"] == '"tempMax"'
    checks = job.result["checks"]
    assert all(check["ok"] for check in checks), [c for c in checks if not c["ok"]]
    assert sum(check["sql"].startswith("WITH __city_weather") for check in checks) >= 6
    assert all("FROM __city_weather" in q["sql"] for q in model["verified_queries"])


def test_postgresql_through_a_connection(user, demo_table):
    connection = connections.add("warehouse", database_url(), users=[user])

    model, job = modelled_table(user, f"c{connection.pk}:demo.loan_applications")

    assert model["tables"][0]["base_table"]["schema"] == "demo"
    assert job.result["summary"]["checks_failed"] == 0


def test_nobody_else_can_model_a_connections_tables(user, sqlite_weather):
    connection = connections.add("private", sqlite_weather, users=[user])

    answer = submit(make_user("outsider"), {"tables": [f"c{connection.pk}:main.city_weather"]})

    assert answer.status_code == 400
    assert "valid choice" in json.dumps(answer.json())
    assert not Job.objects.exists()


def test_a_table_dropped_after_submitting_fails_clearly(user, tmp_path, sqlite_weather):
    connection = connections.add("shrinking", sqlite_weather, users=[user])
    answer = submit(user, {"tables": [f"c{connection.pk}:main.city_weather"]})
    path = sqlite_weather.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE city_weather")

    job = Job.objects.get(pk=answer.json()["id"])
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()

    assert job.status == Job.Status.FAILED
    assert "main.city_weather no longer exists" in job.error


def test_a_users_connections_are_browsed_schema_then_tables(
    alice_client, user, sqlite_weather, tmp_path
):
    connection = connections.add("shop-db", sqlite_weather, users=[user])
    gone_path = tmp_path / "gone.db"
    sqlite3.connect(gone_path).close()
    gone = connections.add("gone-db", f"sqlite:///{gone_path}", users=[user])
    gone_path.unlink()
    key = f"c{connection.pk}:main.city_weather"
    htmx = {"HX-Request": "true"}

    page = alice_client.get("/jobs/new/semantic_model/").content.decode()
    # SQLite has one schema: choosing the database lists its tables at once.
    schemas = alice_client.get(
        "/jobs/new/semantic_model/schemas/", {"database": connection.key}, headers=htmx
    ).content.decode()
    failed = alice_client.get(
        "/jobs/new/semantic_model/schemas/", {"database": gone.key}, headers=htmx
    ).content.decode()
    other = Client()
    other.force_login(make_user("someone-else"))
    theirs = other.get(
        "/jobs/new/semantic_model/schemas/", {"database": connection.key}, headers=htmx
    )
    submitted = alice_client.post("/jobs/new/semantic_model/", {"tables": [key]})

    assert f'<option value="{connection.key}">shop-db</option>' in page and key not in page
    assert '<option value="main" selected>' in schemas
    assert f'value="{key}"' in schemas and "about 400 rows" in schemas
    assert '<p class="error">gone-db: ' in failed and str(gone_path) not in failed
    assert theirs.status_code == 404
    assert submitted.status_code == 302
    assert Job.objects.get().params == {"tables": [key]}


@pytest.fixture
def slow_postgres_view():
    """A view whose every read waits a second: any query on it outlasts a short timeout."""

    def fill(cursor):
        cursor.execute(
            "CREATE VIEW slow.readings AS SELECT n, n * 1.5 AS level "
            "FROM generate_series(1, 50) n WHERE (SELECT true FROM pg_sleep(1))"
        )

    with postgres_schema("slow", fill) as url:
        yield url


@pytest.fixture
def slow_mariadb_view():
    def fill(cursor):
        cursor.execute("CREATE VIEW slow_readings AS SELECT SLEEP(1) AS n")

    with mariadb_tables("DROP VIEW IF EXISTS slow_readings", fill) as url:
        yield url


@pytest.mark.parametrize(
    ("source", "table"),
    [
        ("slow_postgres_view", "slow.readings"),
        ("slow_mariadb_view", f"{MARIADB_DATABASE}.slow_readings"),
    ],
)
def test_a_query_stopped_at_the_statement_timeout_fails_clearly_once(
    request, user, settings, source, table
):
    settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS = 0.3
    url = request.getfixturevalue(source)
    connection = connections.add("slow", url, users=[user])

    answer = submit(user, {"tables": [f"{connection.key}:{table}"]})
    job = Job.objects.get(pk=answer.json()["id"])
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()

    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The database stopped a query at the statement timeout (0.3 s)")
    assert "password" not in job.error and "postgres://" not in job.error
    assert not job.retryable, "the same query would be stopped again"
