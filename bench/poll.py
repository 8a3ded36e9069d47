"""Poll: throughput and latency of the job-status fragment for logged-in users, each
polling their running job every 5 seconds, through gunicorn on PostgreSQL.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/poll.py [--users 400 2000] [--seconds 60] [--web-workers 2]

Targets: 2,000 users (400 requests/s) with p99 under 100 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from stack import ROOT, environment, gunicorn, machine, setup_django, wait_until

PORT = 8711


def make_sessions(count: int, path: Path) -> None:
    """`count` users, each logged in (a real session row) with one running job."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from jobs.models import Job

    User = get_user_model()  # noqa: N806
    users = User.objects.bulk_create(User(username=f"poller{n}") for n in range(count))
    now = timezone.now()
    jobs = Job.objects.bulk_create(
        Job(
            owner=user, kind="semantic_model", title="demo.loan_applications",
            params={"database": "default", "schema": "demo", "table": "loan_applications"},
            status=Job.Status.RUNNING, stage="profiling", progress=0.4,
            message="Profiling demo.loan_applications.amount (4 of 12)",
            started_at=now, progress_at=now, heartbeat_at=now, attempts=1,
        )
        for user in users
    )  # fmt: skip
    sessions = []
    for user, job in zip(users, jobs, strict=True):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append({"session": store.session_key, "job": str(job.pk)})
    path.write_text(json.dumps(sessions))


def run_locust(users: int, seconds: int, sessions: Path, out: Path) -> dict:
    prefix = out / f"poll-{users}"
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfiles/poll.py"),
            "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 10)),
            "--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{PORT}",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT, env=environment(POLL_SESSIONS=str(sessions)), check=True,
        capture_output=True, timeout=seconds + 120,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "job status fragment")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    setup_django("longjobs_bench_poll", LOG_LEVEL="WARNING")
    out = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    sessions = out / "sessions.json"
    make_sessions(max(args.users), sessions)
    print(f"machine: {machine()}")
    print(f"gunicorn: {args.web_workers} workers x 4 threads, DEBUG off; logs in {out}")
    # With DEBUG off, pages name static files by their hashed names, from the manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    with gunicorn(out / "gunicorn.log", PORT, args.web_workers, DEBUG="false"):
        wait_until(lambda: _up(), timeout=30, what="gunicorn")
        for users in args.users:
            row = run_locust(users, args.seconds, sessions, out)
            # Ramp-up included; the target rate is the steady state.
            print(
                f"{users:5d} users (target {users / 5:.0f} req/s): "
                f"{float(row['Requests/s']):6.1f} req/s, {row['Request Count']} requests, "
                f"{row['Failure Count']} failed, p50 {row['50%']} ms, p95 {row['95%']} ms, "
                f"p99 {row['99%']} ms, max {float(row['Max Response Time']):.0f} ms"
            )
            time.sleep(5)


def _up() -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/").status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
