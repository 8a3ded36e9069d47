from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from jobs.analysis.tables import demo_data, external
from jobs.analysis.tables.warehouse import TableRef
from jobs.lib.postgresql import parking
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent
DEMO_ROWS = 3_000


def pytest_sessionstart(session):
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.exit(
            "The tests run on PostgreSQL: set DATABASE_URL=postgres://... (`make test` does).",
            returncode=2,
        )


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what=""):
    """Poll until predicate() is truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {what or predicate}")


@contextlib.contextmanager
def cursor_elsewhere():
    """A cursor on a database connection of its own, as another process would see the
    database (this thread's connection may be mid-transaction, or the one under test)."""
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            yield cursor
    finally:
        other.close()


def at_once(threads: int, work: Callable[[], object]) -> list:
    """What `work()` returns in each of `threads` threads released together, for tests of
    what job or request threads share; each thread's database connection is closed after
    it. A thread's error is raised here, after every thread has ended."""
    start = threading.Barrier(threads)
    results, errors = [], []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    running = [threading.Thread(target=run) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    if errors:
        raise errors[0]
    return results


def start_profiling(client, owner, table_key: str):
    """Submit a semantic model of `table_key` as `owner` and wait until a worker profiles it."""
    from django.urls import reverse

    from jobs.models import Job

    client.login(username=owner.username, password=PASSWORD)
    client.post(reverse("jobs:new", args=["semantic_model"]), {"table": table_key})
    job = Job.objects.get(owner=owner)
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, stage="profiling").exists(),
        timeout=30,
        what="a worker to start profiling",
    )
    return job


@pytest.fixture(scope="session")
def demo_table(django_db_setup, django_db_blocker) -> TableRef:
    """The demo loan table, small, in the test database (outside Django's flushed tables)."""
    with django_db_blocker.unblock():
        demo_data.load(DEMO_ROWS)
    return TableRef("default", demo_data.SCHEMA, demo_data.LOANS)


BIG_TABLE = "loan_applications_big"
COPIES = 200  # of the 3,000-row demo table: 600,000 rows, several seconds to profile


@pytest.fixture(scope="session")
def big_table(django_db_setup, django_db_blocker, demo_table):
    """A larger copy of the demo table, built in the database so it takes a second."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS demo.{BIG_TABLE}")
        others = ", ".join(f"l.{name}" for name in demo_data.LOAN_COLUMNS[1:])
        cursor.execute(
            f"CREATE TABLE demo.{BIG_TABLE} AS "
            f"SELECT (copy * 100000 + l.application_id) AS application_id, {others} "
            f"FROM demo.loan_applications l, generate_series(0, {COPIES - 1}) AS copy"
        )
        cursor.execute(f"ANALYZE demo.{BIG_TABLE}")
    yield f"default:demo.{BIG_TABLE}"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS demo.{BIG_TABLE}")


@pytest.fixture(autouse=True)
def close_user_database_pools():
    """Users' databases' pooled connections closed after each test: one to the test
    database would keep it from being dropped, one to MariaDB from tables being dropped.
    And the sessions job threads parked (jobs/lib/postgresql/parking.py), for the same
    reason: each test starts with none."""
    yield
    external.dispose_all()
    parking.lot.close_all()


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def other_user(db):
    return make_user("mallory")


@pytest.fixture
def alice_client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def database_url() -> str:
    """The URL of the test database, for processes started outside pytest."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


class Worker:
    """A real `manage.py qcluster` process on the test database."""

    def __init__(self, log_path: Path, env: dict[str, str]):
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # SIGTERM to the cluster's main process lets it stop its workers cleanly.
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        # Whatever of its group outlived it (workers of a cluster whose database went away
        # while it stopped) would go on taking jobs from later tests.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_run_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`manage.py run_worker` as the Procfile starts it, in a process group of its own
    (as honcho runs each Procfile command), its output in `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def worker_env(transactional_db) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "JOB_PROCESSING_INTERVAL": "0.1",
        "JOB_PROGRESS_WRITE_SECONDS": "0.2",
        "Q_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def worker(worker_env, tmp_path, request):
    """A running qcluster for the test; its log is printed when the test fails."""
    process = Worker(tmp_path / "qcluster.log", worker_env).start()
    yield process
    process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print("---- qcluster log ----\n" + process.log()[-5000:])


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow by design; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def stop_watch_mark_writer():
    # A writer thread started by a poll holds a database connection of its own, which
    # must not outlive the test (it would block dropping the test database).
    yield
    from jobs.engine import watching

    watching.stop_writer()


@pytest.fixture(autouse=True)
def no_reading_of_the_line():
    # A process reuses its reading of the queue for a second (jobs/engine/line.py): each
    # test starts without another test's.
    from jobs.engine import line

    line.forget()


@pytest.fixture(autouse=True)
def login_throttle_off(settings):
    # The test client's login() authenticates without a request, which django-axes
    # refuses; the tests of the throttle itself (tests/accounts/) turn it back on.
    settings.AXES_ENABLED = False
    settings.LOGIN_FAILURE_DELAY_SECONDS = 0
