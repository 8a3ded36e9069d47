"""Poll: throughput and latency of the job-status fragment for logged-in users, each
polling their running job every 5 seconds, through gunicorn on PostgreSQL.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/poll.py [--users 2000] [--seconds 60] [--saturate 3000]
        [--saturate-every 1] [--rounds 2] [--mode status page minimal]
        [--change-seconds 0.5] [--web-workers N] [--gunicorn '--keep-alive 10']

What one run does, each server started for its own load run and stopped after it:

1. Checks the poll URLs by hand: the job page's `hx-get` (the signed status URL) answers
   200, then 304 with the page's ETag, and 404 to another user's cookie; the minimal app
   (bench/minimal/, the same poll the plain Django way: session, user, row, template)
   answers 200, and 404 to another user's cookie. Counts the SQL queries of each poll
   with Django's test client.
2. Open loop: `--users` users, each polling every 5 s (bench/locustfiles/poll.py),
   against the app's poll URL (`--mode status`, the default: the signed URL with the
   browser's If-None-Match; `page`: the job page's fragment through the session, the
   poll before it; `minimal`: the minimal app): p50/p99 and CPU per poll.
3. Saturation: `--saturate` users, each polling every `--saturate-every` seconds, more
   than either server can answer, against
   the app's poll URL and the minimal app's, alternating (a, b, a, b for `--rounds 2`),
   same users, duration and gunicorn shape: requests per second of each, and the ratio.

All the while a thread changes every bench job's progress and message every
`--change-seconds`, so that every poll sees a change (a 200 and a fragment rendered,
not a 304): the poll's dearer case.

Targets: 2,000 users (400 requests/s) with p99 under 100 ms on this 2-core machine; the
signed poll URL at least 1.5 times the minimal app's requests per second at saturation.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from html import unescape
from pathlib import Path

from stack import (
    ROOT,
    cpu_seconds,
    database_url,
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
MINIMAL_PORT = 8712
POLL_SECONDS = 5
DATABASE = "longjobs_bench_poll"
# The minimal app (bench/minimal/) under the same gunicorn config, pointed at it.
MINIMAL = ("--pythonpath", "bench", "minimal.wsgi")


def make_sessions(count: int, path: Path) -> None:
    """`count` users, each logged in (a real session row) with one running job in its
    second stage, and the signed poll URL its job page would give (jobs/web/polling.py)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from jobs.models import Job, JobEvent
    from jobs.web import polling

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
    JobEvent.objects.bulk_create(
        JobEvent(job=job, type=JobEvent.Type.STAGE, name=name, attempt=1, at=now - ago)
        for job in jobs
        for name, ago in (("reading_schema", timedelta(seconds=40)),
                          ("profiling", timedelta(seconds=39)))
    )  # fmt: skip
    write_sessions(zip(users, jobs, strict=True), path)
    sessions = json.loads(path.read_text())
    for entry, job in zip(sessions, jobs, strict=True):
        entry["status"] = polling.url(job, entry["session"], job.owner.password)
    path.write_text(json.dumps(sessions))


class Progress(threading.Thread):
    """Moves every running job's progress (a percent point) and message every `every`
    seconds, in one UPDATE, as the workers' progress reports would."""

    def __init__(self, every: float):
        super().__init__(name="progress", daemon=True)
        self.every = every
        self.stopping = threading.Event()
        self.updates = 0
        self.slowest = 0.0

    def run(self) -> None:
        import psycopg2

        connection = psycopg2.connect(database_url(DATABASE))
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.stopping.wait(self.every):
                tick = self.updates + 1
                started = time.perf_counter()
                cursor.execute(
                    "UPDATE jobs_job SET progress = %s, message = %s, progress_at = now()"
                    " WHERE status = 'running'",
                    [(tick % 90 + 5) / 100, f"Profiling demo.loan_applications.col{tick} "
                     f"({tick % 12 + 1} of 12)"],
                )  # fmt: skip
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.updates = tick
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def run_locust(
    users: int,
    seconds: int,
    sessions: Path,
    out: Path,
    server: int,
    *,
    every: float = POLL_SECONDS,
    mode: str = "page",
    port: int = PORT,
    label: str = "",
    wait_for_sessions: bool = False,
) -> dict:
    """Poll for `seconds` once every user has started; the ramp is left out of the
    figures (--reset-stats). Also returns the CPU time that the load generator, the web
    server and PostgreSQL each spent per request in the steady state, which tells whose
    time the latency is, and how many answers of each status code came (`codes`)."""
    label = label or str(users)
    prefix = out / f"poll-{label}"
    spawn_rate = max(1, users // 10)
    ramp = users / spawn_rate + every
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfiles/poll.py"),
        "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{ramp + seconds:.0f}s", "--reset-stats",
        "--host", f"http://127.0.0.1:{port}",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    codes = out / f"codes-{label}.json"
    env = environment(
        POLL_SESSIONS=str(sessions), POLL_INTERVAL=str(every), POLL_MODE=mode,
        POLL_COUNTS=str(codes), POLL_WAIT_FOR_SESSIONS="1" if wait_for_sessions else "",
    )  # fmt: skip
    with process(command, out / f"locust-{label}.log", **env) as locust:
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
            raise SystemExit(f"locust failed: see {out}/locust-{label}.log")
    with open(f"{prefix}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "job status fragment")
    requests = max(1.0, float(row["Requests/s"]) * window)
    row["cpu"] = {name: cpu / requests * 1000 for name, cpu in used.items()}
    row["cpu"]["busy"] = sum(used.values()) / window
    row["codes"] = json.loads(codes.read_text()) if codes.exists() else {}
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="*", default=[2000], help="open loop")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--mode", nargs="+", choices=["status", "page", "minimal"], default=["status"],
        help="several: each in turn for each --users count, in one run",
    )  # fmt: skip
    parser.add_argument("--saturate", type=int, default=3000, help="users; 0: no such runs")
    parser.add_argument("--saturate-every", type=float, default=1.0, help="seconds")
    parser.add_argument("--rounds", type=int, default=2, help="of the saturation pair")
    parser.add_argument("--change-seconds", type=float, default=0.5, help="0: no changes")
    parser.add_argument("--web-workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument(
        "--gunicorn", default="", help="more gunicorn options, e.g. '--threads 8 --keep-alive 10'"
    )
    args = parser.parse_args()
    # One secret for the app, the minimal app and the tokens minted here.
    os.environ.setdefault("SECRET_KEY", "bench-poll-secret-key-not-for-production-0123456789")
    setup_django(DATABASE, LOG_LEVEL="WARNING")
    out = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    sessions = out / "sessions.json"
    make_sessions(max([*args.users, args.saturate, 2]), sessions)
    print(f"machine: {machine()}")
    shape = gunicorn_shape(args.web_workers, args.gunicorn)
    print(f"gunicorn: {shape}, DEBUG off; logs in {out}")
    # With DEBUG off, pages name static files by their hashed names, from the manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    users = json.loads(sessions.read_text())
    check_urls(users, out, args)
    print_queries(users)

    progress = Progress(args.change_seconds)
    if args.change_seconds:
        progress.start()
        idle = background(progress)
        print(
            f"job changes: every bench job's progress and message every "
            f"{args.change_seconds:g} s; PostgreSQL with no polls: {idle:.3f} cores busy"
        )
    else:
        idle = 0.0
    try:
        for count in args.users:
            for mode in args.mode:
                row = serve(mode, count, args.seconds, sessions, out, args, f"{mode}-{count}")
                print(f"{mode} URL, {count} users: " + report(row, count, idle))
        rates: dict[str, list[float]] = {"status": [], "minimal": []}
        for turn in range(args.rounds if args.saturate else 0):
            for mode in ("status", "minimal"):
                label = f"saturate-{mode}-{turn + 1}"
                row = serve(mode, args.saturate, args.seconds, sessions, out, args, label,
                            every=args.saturate_every)  # fmt: skip
                rates[mode].append(float(row["Requests/s"]))
                print(
                    f"saturation, {mode} URL, round {turn + 1}: "
                    + report(row, args.saturate, idle, args.saturate_every)
                )
        if rates["status"]:
            new, old = statistics.mean(rates["status"]), statistics.mean(rates["minimal"])
            rounds = zip(rates["status"], rates["minimal"], strict=True)
            pairs = ", ".join(f"{a / b:.2f}" for a, b in rounds)
            print(
                f"saturation at {args.saturate} users: signed poll URL "
                f"{' / '.join(f'{r:.1f}' for r in rates['status'])} req/s, minimal app "
                f"{' / '.join(f'{r:.1f}' for r in rates['minimal'])} req/s; ratio of the "
                f"means {new / old:.2f} (by round: {pairs}; target at least 1.5)"
            )
    finally:
        if progress.is_alive():
            progress.stop()
            print(
                f"job changes: {progress.updates} updates, the slowest "
                f"{progress.slowest * 1000:.0f} ms"
            )


def serve(mode, users, seconds, sessions, out, args, label, every=POLL_SECONDS) -> dict:
    """One load run against a server of its own, started for it."""
    port, options = (MINIMAL_PORT, MINIMAL) if mode == "minimal" else (PORT, ())
    extra = [*args.gunicorn.split(), *options]
    log = out / f"gunicorn-{label}.log"
    with gunicorn(log, port, args.web_workers, *extra, DEBUG="false") as web:
        wait_until(lambda: _up(port, mode), timeout=60, what=f"gunicorn ({mode})")
        row = run_locust(
            users, seconds, sessions, out, web.pid, every=every, mode=mode, port=port, label=label
        )
    time.sleep(5)
    return row


def report(row: dict, users: int, idle: float, every: float = POLL_SECONDS) -> str:
    cpu = row["cpu"]
    rate = float(row["Requests/s"])
    codes = ", ".join(f"{count} x {code}" for code, count in sorted(row["codes"].items()))
    # PostgreSQL's share of the bench's own updates, left out of the per-poll figure.
    database = cpu["database"] - idle * 1000 / max(rate, 1.0)
    return (
        f"{rate:6.1f} req/s (offered {users / every:.0f}), {row['Request Count']} "
        f"requests ({codes}), {row['Failure Count']} failed, p50 {row['50%']} ms, "
        f"p95 {row['95%']} ms, p99 {row['99%']} ms, max {float(row['Max Response Time']):.0f} ms\n"
        f"      CPU per poll: web {cpu['web']:.2f} ms, PostgreSQL {cpu['database']:.2f} ms "
        f"({database:.2f} ms without the job updates), locust {cpu['load']:.2f} ms; "
        f"{cpu['busy']:.2f} of {os.cpu_count()} cores busy"
    )


def background(progress: Progress, seconds: float = 10.0) -> float:
    """PostgreSQL's cores busy with the job updates alone, before any poll."""
    before = cpu_seconds(postgres_pids())
    time.sleep(seconds)
    return (cpu_seconds(postgres_pids()) - before) / seconds


def check_urls(users: list[dict], out: Path, args) -> None:
    """Each poll URL answers its owner, and no one else, as the load runs expect."""
    me, other = users[0], users[1]
    seen = []
    with gunicorn(out / "gunicorn-check.log", PORT, args.web_workers, DEBUG="false"):
        wait_until(lambda: _up(PORT, "status"), timeout=60, what="gunicorn")
        code, page, _ = _get(PORT, f"/jobs/{me['job']}/", me["session"])
        found = re.search(r'hx-get="([^"]+)"', page)
        tag = re.search(r'hx-headers="([^"]+)"', page)
        if code != 200 or not found or not tag:
            raise SystemExit(f"the job page gave {code} and no poll URL: see {out}")
        url = unescape(found.group(1))
        etag = json.loads(unescape(tag.group(1)))["If-None-Match"]
        seen.append(f"page {code}, poll URL {url.split('?')[0]}?t=...")
        seen.append(f"poll with the page's ETag {_get(PORT, url, me['session'], etag)[0]}")
        code, _, headers = _get(PORT, url, me["session"])
        seen.append(f"without {code} (ETag {headers.get('ETag')})")
        seen.append(f"another user's cookie {_get(PORT, url, other['session'])[0]}")
        seen.append(f"the minted URL {_get(PORT, me['status'], me['session'])[0]}")
    with gunicorn(out / "gunicorn-check-minimal.log", MINIMAL_PORT, args.web_workers,
                  *MINIMAL, DEBUG="false"):  # fmt: skip
        wait_until(lambda: _up(MINIMAL_PORT, "minimal"), timeout=60, what="gunicorn (minimal)")
        code, body, _ = _get(MINIMAL_PORT, f"/jobs/{me['job']}/", me["session"])
        seen.append(f"minimal app {code} ({'progressbar' in body and 'hx-trigger' in body})")
        other_code = _get(MINIMAL_PORT, f"/jobs/{me['job']}/", other["session"])[0]
        seen.append(f"another user's cookie {other_code}")
    print("checks: " + "; ".join(seen))


QUERIES = """
import json, os, sys
sys.path[:0] = json.loads(sys.argv[1])
os.environ["DJANGO_SETTINGS_MODULE"] = sys.argv[2]
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
client.cookies["sessionid"] = sys.argv[3]
url, etag, found = sys.argv[4], None, []
for n in range(4):  # the first marks the job watched, as a page load does: not counted
    if n == 3:  # the progress moves, as a worker's report does
        with connection.cursor() as cursor:
            cursor.execute("UPDATE jobs_job SET progress = progress + 0.01 WHERE id = %s",
                           [sys.argv[5]])
    headers = {"HX-Request": "true", **({"If-None-Match": etag} if n >= 2 else {})}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    etag = response.headers.get("ETag") or etag
    found.append([response.status_code, [q["sql"][:70] for q in queries]])
print(json.dumps(found[1:]))
"""


def print_queries(users: list[dict]) -> None:
    """SQL queries per poll, by Django's test client (CaptureQueriesContext, through the
    view: the WSGI shortcut in front of it makes the same, tests/web/test_shortcut.py).
    Not counted: the connection check (SELECT 1) that CONN_HEALTH_CHECKS makes before
    each request's first query, which the minimal app makes on every poll and the
    shortcut skips (jobs/web/shortcut.py)."""
    me = users[0]
    cases = [
        ("signed poll URL", [str(ROOT / "site"), str(ROOT)], "settings", me["status"]),
        ("minimal app", [str(ROOT / "bench")], "minimal.settings", f"/jobs/{me['job']}/"),
    ]
    for name, path, settings, url in cases:
        result = subprocess.run(
            [sys.executable, "-c", QUERIES, json.dumps(path), settings, me["session"], url,
             me["job"]],
            cwd=ROOT, env=environment(DEBUG="false"), capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode:
            raise SystemExit(f"counting {name}'s queries failed:\n{result.stderr}")
        answers = json.loads(result.stdout.strip().splitlines()[-1])
        names = ("whole section", "unchanged", "progress moved")
        if name == "minimal app":
            answers, names = answers[:1], ("every poll",)
        for case, (code, sql) in zip(names, answers, strict=False):
            print(f"queries, {name}, {case}, answer {code}: {len(sql)}: " + " | ".join(sql))


def _up(port: int = PORT, mode: str = "page") -> bool:
    # The minimal app has no login page: a 404 for a job nobody has says it answers.
    path = (
        "/jobs/00000000-0000-0000-0000-000000000000/" if mode == "minimal" else "/accounts/login/"
    )
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").status == 200
    except urllib.error.HTTPError as error:
        return mode == "minimal" and error.code == 404
    except OSError:
        return False


def _get(port: int, path: str, session: str, etag: str | None = None):
    """Status, body and headers of a GET with the session cookie (and If-None-Match)."""
    headers = {"Cookie": f"sessionid={session}", "HX-Request": "true"}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


if __name__ == "__main__":
    main()
