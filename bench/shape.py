"""Shape: gunicorn's workers and threads for the web service, chosen with polls and
submissions arriving together, as they do when people use the app.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/shape.py [--shapes 2x4 4x2 2x8 4x1] [--pollers 2000]
        [--submitters 20] [--submit-every 0.5] [--seconds 40] [--rounds 2]

Each shape (workers x threads, gunicorn.conf.py otherwise) serves the same mixed load
for the same time, the shapes alternating within each round: `--pollers` users each
polling their running job's signed status URL every 5 s (bench/locustfiles/poll.py,
with If-None-Match, every job's progress moving every second, so most polls get the
live part), and `--submitters` users each starting a job through the HTML form every
`--submit-every` seconds on kept connections (bench/locustfiles/submit.py). No worker
runs: submitted jobs queue. Prints, per shape and round, polls and submissions per
second with their p50 and p99, failures, and the web server's cores busy.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from poll import Progress, make_sessions
from stack import ROOT, cpu_seconds, environment, gunicorn, machine, process, setup_django, tree
from stack import wait_until as wait
from submit import make_users

PORT = 8713
POLL_SECONDS = 5


def locust(locustfile: str, users: int, seconds: float, out: Path, label: str, **env: str):
    """A headless locust run of `locustfile` against the bench's gunicorn, in the background."""
    prefix = out / label
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfiles" / locustfile),
        "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 10)),
        "--run-time", f"{seconds:.0f}s", "--reset-stats", "--host", f"http://127.0.0.1:{PORT}",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    return process(command, out / f"{label}.log", **env), prefix


def stats(prefix: Path, name: str) -> dict:
    with open(f"{prefix}_stats.csv") as rows:
        return next(row for row in csv.DictReader(rows) if row["Name"].startswith(name))


def run(shape: str, args, sessions: Path, users: Path, table: str, out: Path, label: str):
    workers, threads = shape.split("x")
    limits = {"DEBUG": "false", "MAX_ACTIVE_JOBS_PER_USER": "100000000"}
    options = ("--threads", threads)
    ramp = args.pollers / max(1, args.pollers // 10) + POLL_SECONDS
    seconds = ramp + args.seconds
    with gunicorn(out / f"gunicorn-{label}.log", PORT, int(workers), *options, **limits) as web:
        wait(_up, timeout=60, what="gunicorn")
        pollers, poll_prefix = locust(
            "poll.py", args.pollers, seconds, out, f"poll-{label}",
            POLL_SESSIONS=str(sessions), POLL_INTERVAL=str(POLL_SECONDS), POLL_MODE="status",
        )  # fmt: skip
        submitters, submit_prefix = locust(
            "submit.py", args.submitters, seconds, out, f"submit-{label}",
            SUBMIT_USERS=str(users), SUBMIT_TABLE=table, SUBMIT_PATH="form",
            SUBMIT_EVERY=str(args.submit_every),
        )  # fmt: skip
        with pollers as poll_run, submitters as submit_run:
            time.sleep(ramp + 2)
            window = args.seconds - 4
            before = cpu_seconds(tree(web.pid))
            time.sleep(window)
            busy = (cpu_seconds(tree(web.pid)) - before) / window
            for child in (poll_run, submit_run):
                if child.wait(seconds + 120) != 0:
                    raise SystemExit(f"locust failed: see {out}")
    return stats(poll_prefix, "job status"), stats(submit_prefix, "submit"), busy


def describe(row: dict) -> str:
    return (
        f"{float(row['Requests/s']):6.1f}/s p50 {row['50%']:>4} ms p99 {row['99%']:>5} ms"
        f" ({row['Failure Count']} failed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", nargs="+", default=["2x4", "4x2", "2x8", "4x1"])
    parser.add_argument("--pollers", type=int, default=2000)
    parser.add_argument("--submitters", type=int, default=20)
    parser.add_argument("--submit-every", type=float, default=0.5)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-shape-secret-key-not-for-production-0123456789")
    setup_django("longjobs_bench_shape", LOG_LEVEL="WARNING")
    out = Path(tempfile.mkdtemp(prefix="bench-shape-"))
    sessions, users = out / "sessions.json", out / "users.json"
    make_sessions(args.pollers, sessions)
    table = make_users(users)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    print(f"machine: {machine()}; logs in {out}")
    print(
        f"load: {args.pollers} pollers every {POLL_SECONDS} s ({args.pollers / POLL_SECONDS:.0f}"
        f"/s) and {args.submitters} form submitters every {args.submit_every:g} s "
        f"({args.submitters / args.submit_every:.0f}/s), together, {args.seconds} s each"
    )
    progress = Progress(1.0)
    progress.start()
    worst: dict[str, list[float]] = {shape: [] for shape in args.shapes}
    try:
        for turn in range(args.rounds):
            for shape in args.shapes:
                label = f"{shape}-{turn + 1}"
                polls, submits, busy = run(shape, args, sessions, users, table, out, label)
                worst[shape].append(max(float(polls["99%"]), float(submits["99%"])))
                print(
                    f"{shape:>4} round {turn + 1}: polls {describe(polls)}; "
                    f"submissions {describe(submits)}; web {busy:.2f} cores"
                )
                time.sleep(5)
    finally:
        progress.stop()
    print("worse p99 of the two, mean of the rounds: " + ", ".join(
        f"{shape} {statistics.mean(values):.0f} ms" for shape, values in worst.items()
    ))  # fmt: skip


def _up() -> bool:
    import urllib.error
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/").status == 200
    except (OSError, urllib.error.HTTPError):
        return False


if __name__ == "__main__":
    main()
