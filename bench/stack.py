"""What the benchmarks share: a scratch PostgreSQL database, and the real processes
(qcluster, gunicorn) started on it and stopped afterwards, whatever happens."""

from __future__ import annotations

import contextlib
import os
import platform
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def database_url(name: str) -> str:
    return f"{SERVER}/{name}"


def recreate_database(name: str) -> None:
    """Drop the database `name` if it exists, and create it empty."""
    import psycopg2

    admin = psycopg2.connect(f"{SERVER}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def write_sessions(pairs, path: Path) -> None:
    """A logged-in session (a real session row) for each (user, job), in the file that
    bench/locustfiles/poll.py reads."""
    pairs = list(pairs)
    write_polls(log_in([user for user, _ in pairs]), [job for _, job in pairs], path)


def log_in(users) -> list[str]:
    """A logged-in session (a real session row) for each user, as its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from jobs.accounts.sessions import SEEN_KEY
    from jobs.models import UserSession

    keys = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # Seen now, as a login records it: else the first page load writes the session
        # and its record, which no real user's does after logging in and submitting.
        store[SEEN_KEY] = time.time()
        store.create()
        # As a login records it: the poll's query checks the session is the user's.
        UserSession.objects.create(user=user, session_key=store.session_key)
        keys.append(store.session_key)
    return keys


def write_polls(sessions: list[str], jobs, path: Path) -> None:
    """The file bench/locustfiles/poll.py reads: each session with the job it polls,
    written whole (a rename), as its users may be waiting for it to appear."""
    import json

    partial = path.with_suffix(".partial")
    polls = zip(sessions, jobs, strict=True)
    partial.write_text(json.dumps([{"session": key, "job": str(job.pk)} for key, job in polls]))
    partial.rename(path)


def setup_django(name: str, **env: str) -> None:
    """Point this process at a fresh database `name`, migrated, and set Django up."""
    recreate_database(name)
    # The bench's own process logs only what goes wrong: its output is the figures.
    quiet = {"LOG_LEVEL": "WARNING", "Q_LOG_LEVEL": "WARNING"}
    os.environ.update({"DATABASE_URL": database_url(name), **quiet, **env})
    sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING", **extra}


@contextlib.contextmanager
def process(args: list[str], log: Path, *, cwd: Path = ROOT, **env: str):
    """A child process in a session of its own, stopped (TERM, then KILL) on exit."""
    with log.open("wb") as out:
        child = subprocess.Popen(
            args, cwd=cwd, env=environment(**env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield child
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(5)


def qcluster(log: Path, **env: str):
    return process([sys.executable, "manage.py", "qcluster"], log, **env)


def gunicorn(
    log: Path, port: int, workers: int | None, *options: str, root: Path = ROOT, **env: str
):
    """gunicorn as the Procfile runs it (gunicorn.conf.py), on `port`; `workers` and
    `options` such as `--threads 1` or `--worker-class sync` override the file. `root`:
    another copy of the app (an earlier commit's, bench/side_by_side.py)."""
    args = [
        sys.executable, "-m", "gunicorn", "--config", str(root / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", *(["--workers", str(workers)] if workers else []),
        *options,
    ]  # fmt: skip
    return process(args, log, cwd=root, **env)


def gunicorn_shape(workers: int | None, options: str = "") -> str:
    """What the web server runs: the config file's workers and threads, or the override."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    shape = f"{workers or config['workers']} workers x {config['threads']} threads"
    return f"{shape}, then {options}" if options else shape


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            todo += [int(child) for child in children.read_text().split()]
    return found


def cpu_seconds(pids: list[int], *, reaped: bool = False) -> float:
    """User and system CPU time these processes have used so far; with `reaped`, also
    that of the children they reaped (a worker process recycled, a backend ended)."""
    last = 15 if reaped else 13  # utime, stime, then cutime, cstime
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:last])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """Every process of the local PostgreSQL server (its backends included)."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _comm(entry) == "postgres"
    ]


def _comm(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = "it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise SystemExit(f"gave up waiting for {what} after {timeout} s")


def machine() -> str:
    cpus = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return (
        f"{cpus} CPUs ({model}), {memory:.0f} GiB, Python {platform.python_version()}, "
        f"calibration {calibration():.2f} s"
    )


def calibration() -> float:
    """CPU seconds of a fixed pure-Python loop: machines of one name differ from day to
    day (a virtual CPU's share), so figures compare only alongside this number."""
    started = time.process_time()
    sum(i * i for i in range(10**7))
    return time.process_time() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
