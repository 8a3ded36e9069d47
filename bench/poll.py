"""Poll: throughput and latency of the job-status fragment for logged-in users, each
polling their running job every 5 seconds, through gunicorn on PostgreSQL.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/poll.py [--users 400 2000] [--seconds 60] [--web-workers N]

Targets: 2,000 users (400 requests/s) with p99 under 100 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from stack import (
    ROOT,
    cpu_seconds,
    environment,
    gunicorn,
    gunicorn_shape,
    machine,
    postgres_pids,
    process,
    setup_django,
    tree,
    wait_until,
    write_sessions,
)

PORT = 8711
POLL_SECONDS = 5


def make_sessions(count: int, path: Path) -> None:
    """`count` users, each logged in (a real session row) with one running job."""
    from django.contrib.auth import get_user_model
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
    write_sessions(zip(users, jobs, strict=True), path)


def run_locust(users: int, seconds: int, sessions: Path, out: Path, server: int) -> dict:
    """Poll for `seconds` once every user has started; the ramp is left out of the
    figures (--reset-stats). Also returns the CPU time that the load generator, the web
    server and PostgreSQL each spent per request in the steady state, which tells whose
    time the latency is."""
    prefix = out / f"poll-{users}"
    spawn_rate = max(1, users // 10)
    ramp = users / spawn_rate + POLL_SECONDS
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfiles/poll.py"),
        "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{ramp + seconds:.0f}s", "--reset-stats",
        "--host", f"http://127.0.0.1:{PORT}",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = environment(POLL_SESSIONS=str(sessions), POLL_INTERVAL=str(POLL_SECONDS))
    with process(command, out / f"locust-{users}.log", **env) as locust:
        groups = {
            "web": lambda: tree(server),
            "database": postgres_pids,
            "load": lambda: tree(locust.pid),
        }
        # Measure the middle of the steady state, away from the ramp and the stop.
        time.sleep(ramp + 2)
        window = seconds - 4
        before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
        time.sleep(window)
        used = {name: cpu_seconds(pids()) - before[name] for name, pids in groups.items()}
        if locust.wait(ramp + seconds + 120) != 0:
            raise SystemExit(f"locust failed: see {out}/locust-{users}.log")
    with open(f"{prefix}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "job status fragment")
    requests = max(1.0, float(row["Requests/s"]) * window)
    row["cpu"] = {name: cpu / requests * 1000 for name, cpu in used.items()}
    row["cpu"]["busy"] = sum(used.values()) / window
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument(
        "--gunicorn", default="", help="more gunicorn options, e.g. '--threads 8 --keep-alive 10'"
    )
    args = parser.parse_args()
    setup_django("longjobs_bench_poll", LOG_LEVEL="WARNING")
    out = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    sessions = out / "sessions.json"
    make_sessions(max(args.users), sessions)
    print(f"machine: {machine()}")
    shape = gunicorn_shape(args.web_workers, args.gunicorn)
    print(f"gunicorn: {shape}, DEBUG off; logs in {out}")
    # With DEBUG off, pages name static files by their hashed names, from the manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    options = args.gunicorn.split()
    with gunicorn(out / "gunicorn.log", PORT, args.web_workers, *options, DEBUG="false") as web:
        wait_until(lambda: _up(), timeout=30, what="gunicorn")
        for users in args.users:
            row = run_locust(users, args.seconds, sessions, out, web.pid)
            cpu = row["cpu"]
            print(
                f"{users:5d} users (target {users / POLL_SECONDS:.0f} req/s): "
                f"{float(row['Requests/s']):6.1f} req/s, {row['Request Count']} requests, "
                f"{row['Failure Count']} failed, p50 {row['50%']} ms, p95 {row['95%']} ms, "
                f"p99 {row['99%']} ms, max {float(row['Max Response Time']):.0f} ms\n"
                f"      CPU per request: web {cpu['web']:.2f} ms, PostgreSQL "
                f"{cpu['database']:.2f} ms, locust {cpu['load']:.2f} ms; "
                f"{cpu['busy']:.2f} of {os.cpu_count()} cores busy"
            )
            time.sleep(5)


def _up() -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/").status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
