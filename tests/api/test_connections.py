"""Connections to users' databases: added by staff (command or admin), stored encrypted,
listed for the users given them, with their tables, on PostgreSQL, MariaDB and SQLite."""

from __future__ import annotations

import sqlite3
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from jobs.api import tokens
from jobs.models import Connection
from tests.conftest import database_url
from tests.factories import make_user
from tests.user_databases import MARIADB_DATABASE, MARIADB_URL, mariadb_tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL, placed TEXT);"
            "INSERT INTO orders (amount, placed) VALUES (9.5, '2024-01-02'), (12, '2024-02-03');"
        )
    return f"sqlite:///{path}"


@pytest.fixture
def mariadb_table():
    def fill(cursor):
        cursor.execute("CREATE TABLE weather_readings (day DATE, temp_c DOUBLE)")
        cursor.execute("INSERT INTO weather_readings VALUES ('2024-01-01', 3.5)")

    with mariadb_tables("DROP TABLE IF EXISTS weather_readings", fill):
        yield "weather_readings"


def add(name: str, url: str, *options: str) -> Connection:
    out = StringIO()
    call_command("add_connection", name, url, *options, stdout=out)
    return Connection.objects.get(pk=int(out.getvalue().strip()))


def api_for(user) -> Client:
    _, key = tokens.create(user, "tests")
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_add_connection_checks_encrypts_and_prints_the_id(sqlite_file, mariadb_table):
    secret_url = "postgresql://postgres:not-really-secret@127.0.0.1:5432/postgres"

    postgres, maria, lite = (
        add("warehouse", secret_url),
        add("maria", MARIADB_URL),
        add("shop", sqlite_file),
    )

    assert (postgres.vendor, maria.vendor, lite.vendor) == ("postgresql", "mysql", "sqlite")
    assert "not-really-secret" not in postgres.secret_url and "postgres:" not in postgres.secret_url
    assert postgres.location == "postgresql 127.0.0.1:5432/postgres"
    assert postgres.test_ok and maria.test_message.startswith("Connected: mariadb")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root:wrong-password-123@127.0.0.1/test", "Access denied"),
        ("postgresql://someone:pass-456@127.0.0.1:5999/x", "Connection refused"),
        ("oracle://scott:tiger@db/orcl", "oracle databases are not supported"),
        ("just some words", "not a database URL"),
        ("sqlite:////no/such/dir/file.db", "unable to open database file"),
    ],
)
def test_a_bad_url_is_refused_clearly_without_its_credentials(url, words):
    with pytest.raises(CommandError) as refused:
        add("bad", url)

    message = str(refused.value)
    assert words in message
    for secret in ("wrong-password-123", "pass-456", "tiger"):
        assert secret not in message
    assert not Connection.objects.exists()


def test_users_see_the_connections_given_to_them_and_their_tables(sqlite_file, mariadb_table):
    alice, bob, carol = make_user("alice2"), make_user("bob2"), make_user("carol2")
    analysts = Group.objects.create(name="analysts")
    carol.groups.add(analysts)
    shop = add("shop", sqlite_file, "--user", "alice2", "--group", "analysts")
    maria = add("maria", MARIADB_URL, "--user", "alice2")

    listed = api_for(alice).get("/api/connections").json()
    tables = api_for(carol).get(f"/api/connections/{shop.pk}/tables").json()
    maria_tables = (
        api_for(alice).get(f"/api/connections/{maria.pk}/tables?schema={MARIADB_DATABASE}").json()
    )

    assert [c["name"] for c in listed] == ["maria", "shop"]
    assert all("root" not in c["location"] or "@" not in c["location"] for c in listed)
    assert tables["tables"] == [
        {"key": f"c{shop.pk}:main.orders", "schema": "main", "table": "orders", "rows": 2}
    ]
    assert {"key": f"c{maria.pk}:{MARIADB_DATABASE}.weather_readings", "schema": MARIADB_DATABASE,
            "table": "weather_readings", "rows": 1} in maria_tables["tables"]  # fmt: skip
    # Bob was given nothing: nothing listed, and a 404 for the tables, as for a stranger.
    assert api_for(bob).get("/api/connections").json() == []
    assert api_for(bob).get(f"/api/connections/{shop.pk}/tables").status_code == 404
    assert api_for(carol).get(f"/api/connections/{maria.pk}/tables").status_code == 404


def test_the_apps_own_tables_are_never_offered(user):
    own = add("itself", database_url(), "--user", user.username)

    tables = api_for(user).get(f"/api/connections/{own.pk}/tables").json()["tables"]

    names = {t["table"] for t in tables}
    assert not names & {"jobs_job", "auth_user", "django_session", "django_q_ormq"}


def test_a_database_gone_away_is_a_clear_502(user, tmp_path):
    path = tmp_path / "gone.db"
    sqlite3.connect(path).close()
    gone = add("gone", f"sqlite:///{path}", "--user", user.username)
    path.unlink()

    answer = api_for(user).get(f"/api/connections/{gone.pk}/tables")

    assert answer.status_code == 502
    assert "unable to open database file" in answer.json()["error"]


def test_profiling_sessions_are_read_only(sqlite_file):
    import sqlalchemy

    from jobs.analysis.tables import external

    postgres = "postgresql://postgres@127.0.0.1:5432/postgres"
    with (
        pytest.raises(external.ConnectionFailed, match="readonly"),
        external.connect(sqlite_file) as connection,
    ):
        connection.execute(sqlalchemy.text("DELETE FROM orders"))
    with (
        pytest.raises(external.ConnectionFailed, match="read-only"),
        external.connect(postgres) as connection,
    ):
        connection.execute(sqlalchemy.text("CREATE TABLE not_allowed (a int)"))


def test_staff_add_one_in_the_admin_and_never_see_its_url_again(admin_client, sqlite_file):
    secret = sqlite_file.replace("sqlite:///", "sqlite:////").replace("////", "///")

    response = admin_client.post(
        "/admin/jobs/connection/add/", {"name": "shop", "url": secret, "users": [], "groups": []}
    )
    connection = Connection.objects.get()
    page = admin_client.get(f"/admin/jobs/connection/{connection.pk}/change/").content.decode()
    listing = admin_client.get("/admin/jobs/connection/").content.decode()
    kept = admin_client.post(
        f"/admin/jobs/connection/{connection.pk}/change/",
        {"name": "shop-renamed", "url": "", "users": [], "groups": []},
    )

    assert response.status_code == 302
    assert secret not in page and secret not in listing and "shop.db" in listing
    assert kept.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "shop-renamed" and connection.test_ok
    bad = admin_client.post(
        "/admin/jobs/connection/add/",
        {"name": "bad", "url": "mysql://root:pw-789@127.0.0.1:1/x", "users": [], "groups": []},
    )
    assert bad.status_code == 200 and "pw-789" not in bad.content.decode()
    assert Connection.objects.count() == 1
