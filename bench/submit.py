"""Submit: latency of starting a job through the HTML form and through the API, at 1,
10 and 50 concurrent clients, each submitting as fast as it gets answers.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/submit.py [--clients 1 10 50] [--seconds 20]
        [--every 1 [--in-step]]

With --every, each client submits once every so many seconds instead, from a random
moment of the first interval (--in-step: all from the same moment, as locust's
constant_pacing kept them), so that the figures are those of 50 people submitting
about once a second each, not of 50 requests always in flight.

No worker runs: jobs just queue, so only the submit path is measured (the job row, its
queue row and its event in one transaction, then the redirect or the 202).
Target: p99 under 100 ms at 50 clients.
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

from stack import (
    ROOT,
    environment,
    gunicorn,
    gunicorn_shape,
    machine,
    setup_django,
    wait_until,
)

PORT = 8712
USERS = 50


def make_users(path: Path) -> str:
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    from jobs.analysis.tables import demo_data
    from jobs.api import tokens

    demo_data.load(1000)
    table = f"default:{demo_data.SCHEMA}.{demo_data.LOANS}"
    users = []
    for n in range(USERS):
        user = get_user_model().objects.create_user(username=f"submitter{n}")
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        _, key = tokens.create(user, "bench")
        users.append({"session": store.session_key, "token": key, "csrf": get_random_string(32)})
    path.write_text(json.dumps(users))
    return table


def run_locust(
    path: str, clients: int, seconds: int, users: Path, table: str, out: Path, pacing: dict
):
    prefix = out / f"submit-{path}-{clients}"
    env = environment(SUBMIT_USERS=str(users), SUBMIT_TABLE=table, SUBMIT_PATH=path, **pacing)
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfiles/submit.py"),
            "--headless", "--users", str(clients), "--spawn-rate", str(clients),
            "--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{PORT}",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=seconds + 120,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv") as stats:
        return next(r for r in csv.DictReader(stats) if r["Name"].startswith("submit"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--web-workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--gunicorn", default="", help="more gunicorn options: '--threads 4'")
    parser.add_argument("--every", type=float, default=0.0, help="seconds between a client's")
    parser.add_argument("--in-step", action="store_true", help="paced clients start together")
    args = parser.parse_args()
    pacing = {"SUBMIT_EVERY": str(args.every or ""), "SUBMIT_STEP": "1" if args.in_step else ""}
    setup_django("longjobs_bench_submit", LOG_LEVEL="WARNING")
    out = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    users = out / "users.json"
    table = make_users(users)
    print(f"machine: {machine()}")
    shape = gunicorn_shape(args.web_workers, args.gunicorn)
    paced = f"each client once every {args.every:g} s" if args.every else "no pause"
    paced += " (in step)" if args.in_step and args.every else ""
    print(f"gunicorn: {shape}, DEBUG off, no worker running; {paced}")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    limits = {"DEBUG": "false", "MAX_ACTIVE_JOBS_PER_USER": "100000000"}
    options = args.gunicorn.split()
    with gunicorn(out / "gunicorn.log", PORT, args.web_workers, *options, **limits):
        wait_until(_up, timeout=30, what="gunicorn")
        for path in ("form", "api"):
            for clients in args.clients:
                row = run_locust(path, clients, args.seconds, users, table, out, pacing)
                print(
                    f"{path:4} {clients:3d} clients: {float(row['Requests/s']):6.1f} req/s, "
                    f"{row['Request Count']} jobs, {row['Failure Count']} failed, "
                    f"p50 {row['50%']} ms, p99 {row['99%']} ms, max {row['100%']} ms"
                )
                time.sleep(2)


def _up() -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health").status in (200, 503)
    except urllib.error.HTTPError as error:
        return error.code == 503
    except OSError:
        return False


if __name__ == "__main__":
    main()
