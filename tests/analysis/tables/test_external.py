"""Users' databases through SQLAlchemy: the engine cache shared by job threads, the URL
options each dialect lets through, SQLite's statement timeout, errors that name the
connection and nothing of its login, and a MySQL URL that sees its own database only."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest
import sqlalchemy

from jobs.analysis.tables import connections, external
from tests.user_databases import MARIADB_DATABASE, MARIADB_URL, mariadb_tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_files(tmp_path):
    urls = []
    for n in range(24):
        path = tmp_path / f"db{n}.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (n INTEGER)")
            db.execute("INSERT INTO t VALUES (?)", (n,))
        db.close()
        urls.append(f"sqlite:///{path}")
    external.dispose_all()
    yield urls
    external.dispose_all()


def first_value(url: str) -> int:
    with external.connect(url) as connection:
        return connection.execute(sqlalchemy.text("SELECT n FROM t")).scalar_one()


def test_the_engine_cache_from_many_threads_matches_a_serial_run(sqlite_files, monkeypatch):
    monkeypatch.setattr(external, "ENGINES_KEPT", 8)
    work = [sqlite_files[i % len(sqlite_files)] for i in range(400)]

    serial = [first_value(url) for url in work]
    external.dispose_all()
    with ThreadPoolExecutor(max_workers=12) as pool:
        threaded = list(pool.map(first_value, work))

    assert threaded == serial == [i % 24 for i in range(400)]
    # Bounded, and keyed by a hash: no URL (nor any part of it) is a key.
    assert external.engines_cached() <= 8
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in external._engines)


def test_one_engine_per_url_however_many_threads_ask_at_once(sqlite_files):
    url = sqlite_files[0]
    barrier = threading.Barrier(16)

    def engine():
        barrier.wait()
        return external._engine(url)

    with ThreadPoolExecutor(max_workers=16) as pool:
        engines = list(pool.map(lambda _: engine(), range(16)))

    assert len({id(e) for e in engines}) == 1


def test_an_evicted_engine_is_disposed(sqlite_files, monkeypatch):
    monkeypatch.setattr(external, "ENGINES_KEPT", 2)
    disposed = []
    first = external._engine(sqlite_files[0])
    monkeypatch.setattr(first, "dispose", lambda: disposed.append("disposed"))

    external._engine(sqlite_files[1])
    external._engine(sqlite_files[2])

    assert "disposed" in disposed
    assert external._engine(sqlite_files[0]) is not first


@pytest.mark.parametrize(
    ("url", "option"),
    [
        (f"{MARIADB_URL}?local_infile=1", "local_infile"),
        (f"{MARIADB_URL}?charset=utf8mb4&init_command=SET+x%3D1", "init_command"),
        ("postgresql://u:p@127.0.0.1/db?options=-c+default_transaction_read_only%3Doff", "options"),
        ("postgresql://u:p@127.0.0.1/db?sslrootcert=/etc/passwd", "sslrootcert"),
        ("sqlite:////tmp/x.db?mode=rwc", "mode"),
    ],
)
def test_url_options_outside_the_dialects_allow_list_are_refused(url, option):
    with pytest.raises(external.ConnectionFailed, match=f"option.* {option}.* not allowed"):
        external.parse(url)


def test_an_allowed_option_is_kept_and_shown_to_staff(admin_client):
    connection = connections.add("maria", f"{MARIADB_URL}?charset=utf8mb4")

    page = admin_client.get(f"/admin/jobs/connection/{connection.pk}/change/").content.decode()

    assert external.options(connections.url_of(connection)) == {"charset": "utf8mb4"}
    assert "charset=utf8mb4" in page


def test_local_infile_is_off_on_every_mysql_connection():
    with external.connect(MARIADB_URL) as connection:
        client = connection.connection.driver_connection
        # PyMySQL asks the server for LOCAL INFILE only when the flag is set.
        assert not client.client_flag & pymysql.constants.CLIENT.LOCAL_FILES


def test_a_slow_sqlite_query_stops_at_the_statement_timeout(tmp_path, settings):
    settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS = 0.3
    path = tmp_path / "slow.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    slow = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT COUNT(*) FROM (SELECT i FROM n LIMIT 500000000)"
    )

    started = time.monotonic()
    with (
        pytest.raises(external.ConnectionFailed) as stopped,
        external.Session(url, "c1", "slow file").cursor() as cursor,
    ):
        cursor.execute(slow)
    elapsed = time.monotonic() - started

    assert stopped.value.timed_out
    assert "statement timeout (0.3 s)" in str(stopped.value)
    assert elapsed < 3, elapsed
    # A quick one on the next use runs as before.
    with external.Session(url, "c1").cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_errors_name_the_connection_not_its_login_or_host():
    url = "mysql://someone_unknown:wrong-password@localhost/nothing_here"

    with pytest.raises(external.ConnectionFailed) as failed:
        external.check(url, "Sales replica")

    message = str(failed.value)
    assert message.startswith("The database of connection “Sales replica” did not answer")
    assert "someone_unknown" not in message and "localhost" not in message
    assert "wrong-password" not in message and "'@'" not in message
    assert "the connection's login" in message or "***" in message


@pytest.fixture
def other_database():
    """A table in another database of the same server."""
    other = f"{MARIADB_DATABASE}_other"
    db = pymysql.connect(host="localhost", user="root", autocommit=True)
    with db.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{other}`")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS `{other}`.secrets (n INTEGER)")
    try:
        with mariadb_tables(
            "DROP TABLE IF EXISTS mine", lambda c: c.execute("CREATE TABLE mine (n INTEGER)")
        ) as url:
            yield url, other
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{other}`")
        db.close()


def test_a_mysql_url_sees_only_the_database_it_names(other_database):
    url, other = other_database

    assert external.schemas(url) == [MARIADB_DATABASE]
    listed = external.tables(url)
    assert {t.schema for t in listed} == {MARIADB_DATABASE}
    assert "mine" in {t.name for t in listed}
    assert external.tables(url, other) == []
