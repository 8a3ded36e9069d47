"""Request cost: the server's CPU time for one request of each kind, so that "a form
submission no dearer than ten polls" (issue 25) is a figure, not a guess.

    .venv/bin/python bench/request_cost.py [--polls 2000] [--submissions 200]
        [--rounds 3] [--warmup 30] [--kinds poll-304 model-form ...] [--old REV]
    .venv/bin/python bench/request_cost.py --profile model-form [--submissions 300]

gunicorn (gunicorn.conf.py, DEBUG off) on a scratch database holding one user with a
session and an API token, a few running jobs, the demo tables and the demo documents.
For each kind of request, one client sends `--polls` or `--submissions` requests one
after another on one kept connection, after `--warmup` of them, and reads the CPU time
(utime + stime, /proc/<pid>/stat) of gunicorn's worker processes and of the PostgreSQL
backends connected to the scratch database before and after: CPU time, unlike latency,
hardly moves with what else runs on a shared machine. The kinds, in turns of one batch
each so that a drift of the machine spreads over all of them (`--rounds`):

- `poll-304`: the job page's poll as htmx sends it (the signed status URL from the job
  page, HX-Request, If-None-Match with the ETag shown), nothing changed: a 304;
- `poll-live`: the same while the job moves (the bench moves every running job's
  progress and message in one UPDATE, from a connection of its own whose backend is not
  counted, before each job is polled again): the live part, a 200;
- `poll-section`: the same while the job moves on to another stage each time (one
  UPDATE again): the whole status section, a 200, as most polls of a burst's first
  seconds are, when the jobs start and pass their first stages;
- `model-form`, `review-form`, `deep-dive-form`: the HTML form of each kind as a browser
  sends it (session and CSRF cookies, the CSRF field, a fresh idempotency key, Origin),
  answered by the 302 to the new job's page;
- `api`: the API's submission of a semantic model (Bearer token, JSON): a 202;
- `job-page`: the page of a running job, as a browser first loads it (session cookie).

No worker runs; the jobs submitted are cancelled and their queue rows deleted after each
batch, so every batch finds the user with the same few active jobs. SQL statements per
request are counted in a process of their own (Django's CaptureQueriesContext around the
WSGI application called directly, the poll's shortcut included); Django's connection
health check before the first query of a request that goes through Django's handler, not
the poll shortcut's, is not among them (a `SELECT 1` each time up to 0c1b6fc; since, a
look at the socket, and the `SELECT 1` only when something waits there).

`--old REV` measures an earlier commit too, extracted with `git archive`, on a database
and a gunicorn of its own, the two alternating batch by batch. `--profile KIND` runs
`--submissions` requests of that kind through the WSGI application in process under
cProfile and prints where the time goes, with no gunicorn.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import itertools
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from side_by_side import extract, free_port, git
from stack import (
    ROOT,
    SERVER,
    calibration,
    cpu_seconds,
    database_url,
    environment,
    gunicorn,
    gunicorn_shape,
    machine,
    percentile,
    recreate_database,
    wait_until,
)

DATABASE = "longjobs_bench_cost"
# Running jobs polled in turn: one UPDATE moves them all, then each is polled once.
JOBS = 4
QUESTION = "Does intermittent fasting improve glycaemic control in type 2 diabetes?"
OBJECTIVE = "effect on HbA1c"
# No user of the bench is held back by the active-job limit; the batches clear their jobs.
SERVER_ENV = {"DEBUG": "false", "MAX_ACTIVE_JOBS_PER_USER": "1000000", "LOG_LEVEL": "WARNING"}
POLLS = ("poll-304", "poll-live", "poll-section")
FORMS = ("model-form", "review-form", "deep-dive-form")
# The job page's first load (a whole render), the one request a burst's users all make.
PAGES = ("job-page",)
KINDS = (*POLLS, *FORMS, "api", *PAGES)
POLL_NAMES = {"poll-304": "304 polls", "poll-live": "live polls", "poll-section": "section polls"}
LABELS = {
    "poll-304": "poll, nothing changed (304)",
    "poll-live": "poll, progress moved (live part)",
    "poll-section": "poll, stage moved (section)",
    "model-form": "semantic model form",
    "review-form": "review form",
    "deep-dive-form": "deep dive form",
    "api": "API submission",
    "job-page": "job page, running job",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    expect: int = 200
    # The browser's session and CSRF cookies; an API client sends none.
    cookies: bool = True


# --- What each kind sends: generators of requests, each given the last one's answer ---


def polls(server, kind: str):
    """The job page's polls of the running jobs in turn, each with the ETag it shows;
    unless nothing changes (`poll-304`), every job's progress or stage moves before each
    job is polled again."""
    targets = server.poll_targets()
    moving = kind != "poll-304"
    expected = 200 if moving else 304
    for index in itertools.cycle(range(len(targets))):
        if moving and index == 0:
            server.move(kind)
        url, etag = targets[index]
        headers = {"HX-Request": "true", "If-None-Match": etag}
        _, answer_headers, _ = yield Request("GET", url, headers, expect=expected)
        if moving:
            targets[index][1] = answer_headers.get("ETag") or etag


def form_fields(kind: str, state: dict) -> list[tuple[str, str]]:
    documents = [str(pk) for pk in state["documents"]]
    if kind == "model-form":
        return [("tables", state["table"])]
    if kind == "review-form":
        return [("question", QUESTION), *(("documents", pk) for pk in documents),
                ("mode", "precision")]  # fmt: skip
    return [("document", str(state["deep_dive_document"])), ("objective", OBJECTIVE)]


def forms(server, kind: str):
    slug = {"model-form": "semantic_model", "review-form": "review", "deep-dive-form": "deep_dive"}
    path = f"/jobs/new/{slug[kind]}/"
    while True:
        fields = [
            ("csrfmiddlewaretoken", server.state["csrf"]),
            ("idempotency_key", uuid.uuid4().hex),
            *form_fields(kind, server.state),
        ]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        yield Request("POST", path, headers, urlencode(fields).encode(), expect=302)


def api(server):
    body = json.dumps({"kind": "semantic_model", "params": {"tables": [server.state["table"]]}})
    headers = {
        "Authorization": f"Bearer {server.state['token']}",
        "Content-Type": "application/json",
    }
    while True:
        yield Request("POST", "/api/jobs", headers, body.encode(), expect=202, cookies=False)


def pages(server):
    for job in itertools.cycle(server.state["jobs"]):
        yield Request("GET", f"/jobs/{job}/")


def requests_of(kind: str, server):
    if kind in PAGES:
        return pages(server)
    if kind in POLLS:
        return polls(server, kind)
    return api(server) if kind == "api" else forms(server, kind)


def cookies(state: dict) -> str:
    return f"sessionid={state['session']}; csrftoken={state['csrf']}"


def poll_target(page: str) -> list[str]:
    """The job page's poll URL and the ETag it sends (its hx-get and hx-headers)."""
    found = re.search(r'hx-get="([^"]+)"', page)
    tag = re.search(r'hx-headers="([^"]+)"', page)
    if not found or not tag:
        raise SystemExit("the job page has no poll URL")
    return [unescape(found.group(1)), json.loads(unescape(tag.group(1)))["If-None-Match"]]


# --- The server under measurement: gunicorn, over HTTP ---


class Gunicorn:
    def __init__(self, label: str, state: dict, port: int, pid: int):
        import psycopg2

        self.label, self.state, self.port, self.pid = label, state, port, pid
        self.http: http.client.HTTPConnection | None = None
        # The bench's own connections: one to the scratch database (its backend is left
        # out of the figures), one to `postgres` to list the backends.
        self.bench = psycopg2.connect(database_url(state["database"]))
        self.bench.autocommit = True
        self.monitor = psycopg2.connect(f"{SERVER}/postgres")
        self.monitor.autocommit = True
        with self.bench.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.bench_pid = cursor.fetchone()[0]

    def close(self) -> None:
        self.bench.close()
        self.monitor.close()

    def connect(self) -> None:
        """A new kept connection (gunicorn closes one idle for its keep-alive time)."""
        if self.http is not None:
            self.http.close()
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def send(self, request: Request):
        headers = dict(request.headers)
        if request.cookies:
            headers["Cookie"] = cookies(self.state)
        if request.method == "POST":
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        for attempt in (1, 2):
            try:
                self.http.request(request.method, request.path, request.body or None, headers)
                response = self.http.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt == 2:
                    raise
                self.connect()
        raise AssertionError("unreachable")

    def poll_targets(self) -> list[list[str]]:
        """Each job's page loaded as a browser does: fresh poll URLs (their tokens would
        go stale within a long run) and the ETags the pages show."""
        targets = []
        for job in self.state["jobs"]:
            status, _, page = self.send(Request("GET", f"/jobs/{job}/"))
            if status != 200:
                raise SystemExit(f"{self.label}: the job page answered {status}")
            targets.append(poll_target(page.decode()))
        return targets

    def move(self, kind: str) -> None:
        with self.bench.cursor() as cursor:
            cursor.execute(*moves(kind))

    def clear_submissions(self) -> None:
        with self.bench.cursor() as cursor:
            cursor.execute(CLEAR)

    def cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds so far of each gunicorn worker and each backend of the database."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        with self.monitor.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                " AND backend_type = 'client backend' AND pid <> %s",
                [self.state["database"], self.bench_pid],
            )
            backends = [row[0] for row in cursor.fetchall()]
        return (
            {int(pid): cpu_seconds([int(pid)]) for pid in children},
            {pid: cpu_seconds([pid]) for pid in backends},
        )


def moves(kind: str) -> tuple[str, list]:
    """Every running job's progress and message moved, as a worker's report would, never
    to values of an earlier move, this process's or another's (the SQL count's); for
    `poll-section`, each job on to the other of two stages it has begun, too."""
    tick = time.time_ns() // 1000
    stage = ", stage = CASE WHEN stage = 'profiling' THEN 'reading_schema' ELSE 'profiling' END"
    return (
        f"UPDATE jobs_job SET progress = %s, message = %s, progress_at = now()"
        f"{stage if kind == 'poll-section' else ''} WHERE status = 'running'",
        [(tick % 90 + 5) / 100, f"Profiling demo.loan_applications.col{tick % 12} (at {tick})"],
    )


# The bench's running jobs stay; what the batch submitted goes, with its queue rows.
CLEAR = (
    "UPDATE jobs_job SET status = 'cancelled', finished_at = now() WHERE status = 'queued';"
    " DELETE FROM django_q_ormq"
)


@dataclass
class Figures:
    """One kind's requests on one server, over the rounds."""

    requests: int = 0
    web: list[float] = field(default_factory=list)  # CPU ms per request, by round
    database: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)  # ms, every request
    codes: Counter = field(default_factory=Counter)
    unexpected: str = ""

    @property
    def web_ms(self) -> float:
        return statistics.mean(self.web)

    @property
    def database_ms(self) -> float:
        return statistics.mean(self.database)


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A backend that appeared in between (a thread's first connection) counts from zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def batch(server: Gunicorn, kind: str, count: int, warmup: int, figures: Figures) -> None:
    """`warmup` then `count` requests of `kind`, one after another on one connection."""
    server.connect()
    requests = requests_of(kind, server)
    request = next(requests)
    walls = []

    def run(times: int, measured: bool) -> None:
        nonlocal request
        for _ in range(times):
            started = time.perf_counter()
            answer = server.send(request)
            if measured:
                walls.append((time.perf_counter() - started) * 1000)
                figures.codes[answer[0]] += 1
            if answer[0] != request.expect and not figures.unexpected:
                figures.unexpected = f"{answer[0]}: {answer[2][:300].decode(errors='replace')}"
            # What the next request needs (a poll's ETag, a job's progress moved) is done
            # here, outside the timing, on the bench's own connection.
            request = requests.send(answer)

    run(warmup, measured=False)
    web, database = server.cpu()
    run(count, measured=True)
    web_after, database_after = server.cpu()
    requests.close()
    figures.requests += count
    figures.walls += walls
    figures.web.append(spent(web, web_after) * 1000 / count)
    figures.database.append(spent(database, database_after) * 1000 / count)
    if kind not in POLLS + PAGES:
        server.clear_submissions()


# --- Preparing a copy of the app: run in a process of its own, with that copy's code ---


def prepare(root: Path, name: str, out: Path, profile: str = "", count: int = 0) -> None:
    """The scratch database `name`, migrated, with the user, session, token, jobs, demo
    tables and documents the kinds need (written to `out`), and each kind's SQL."""
    recreate_database(name)
    os.environ.update(DATABASE_URL=database_url(name), Q_LOG_LEVEL="WARNING", **SERVER_ENV)
    # site/ is a folder on sys.path, not a package (the standard library owns `site`).
    sys.path[:0] = [str(root / "site"), str(root)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    state = {"database": name, **make_state()}
    server = InProcess(state)
    state["queries"] = {kind: server.queries(kind) for kind in KINDS}
    out.write_text(json.dumps(state))
    if profile:
        server.profile(profile, count)


def make_state() -> dict:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from stack import write_sessions

    from jobs.analysis.tables import demo_data
    from jobs.analysis.texts.documents import add_demo_documents
    from jobs.api import tokens
    from jobs.models import Document, Job, JobEvent

    user = get_user_model().objects.create_user(username="costbench", password="cost-bench-1")
    # Started an hour ago: the page's poll interval (in the ETag) no longer changes.
    started = timezone.now() - timedelta(hours=1)
    jobs = Job.objects.bulk_create(
        Job(
            owner=user, kind="semantic_model", title=f"demo.loan_applications {n}",
            params={"tables": [f"default:{demo_data.SCHEMA}.{demo_data.LOANS}"]},
            status=Job.Status.RUNNING, stage="profiling", progress=0.4,
            message="Profiling demo.loan_applications.amount (4 of 12)",
            started_at=started, progress_at=started, heartbeat_at=timezone.now(), attempts=1,
        )
        for n in range(JOBS)
    )  # fmt: skip
    JobEvent.objects.bulk_create(
        JobEvent(job=job, type=JobEvent.Type.STAGE, name=name, attempt=1, at=started + after)
        for job in jobs
        for name, after in (("reading_schema", timedelta(0)), ("profiling", timedelta(seconds=1)))
    )  # fmt: skip
    sessions = Path(tempfile.mkdtemp(prefix="bench-cost-")) / "sessions.json"
    write_sessions([(user, jobs[0])], sessions)
    demo_data.load(1000)
    add_demo_documents(user)
    documents = list(Document.objects.for_user(user).ready().order_by("pk"))
    deep_dive = next((d for d in documents if d.title.startswith("Time-restricted")), documents[0])
    _, key = tokens.create(user, "bench")
    return {
        "session": json.loads(sessions.read_text())[0]["session"],
        "csrf": get_random_string(32),
        "token": key,
        "jobs": [str(job.pk) for job in jobs],
        "documents": [document.pk for document in documents],
        "deep_dive_document": deep_dive.pk,
        "table": f"default:{demo_data.SCHEMA}.{demo_data.LOANS}",
    }


class InProcess:
    """The same requests given to the WSGI application (site/wsgi.py, the poll's
    shortcut in front of Django) in this process: to count their SQL and to profile."""

    def __init__(self, state: dict):
        from wsgi import application

        self.application, self.state = application, state

    def send(self, request: Request):
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": request.path.partition("?")[0],
            "QUERY_STRING": request.path.partition("?")[2],
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(request.body), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "wsgi.version": (1, 0),
            "CONTENT_LENGTH": str(len(request.body)),
        }  # fmt: skip
        headers = dict(request.headers)
        environ["CONTENT_TYPE"] = headers.pop("Content-Type", "")
        if request.cookies:
            headers["Cookie"] = cookies(self.state)
        if request.method == "POST":
            headers["Origin"] = "http://127.0.0.1"
        for name, value in headers.items():
            environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
        started: list = []
        answer = self.application(environ, lambda status, pairs: started.extend([status, pairs]))
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()  # Django's request_finished, as gunicorn calls it
        return int(started[0].split()[0]), http.client.HTTPMessage(), body, started[1]

    def poll_targets(self) -> list[list[str]]:
        return [
            poll_target(self.send(Request("GET", f"/jobs/{job}/"))[2].decode())
            for job in self.state["jobs"]
        ]

    def move(self, kind: str) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(*moves(kind))

    def clear_submissions(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(CLEAR)

    def answers(self, kind: str):
        """The kind's requests, each sent, its answer handed back to the generator."""
        requests = requests_of(kind, self)
        request = next(requests)
        while True:
            status, _, body, pairs = yield request
            answer_headers = http.client.HTTPMessage()
            for name, value in pairs:
                answer_headers[name] = value
            request = requests.send((status, answer_headers, body))

    def queries(self, kind: str) -> list:
        """The answer's status and the SQL of the kind's third request (the first two
        warm the caches and, for polls, set the ETag shown)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        driver = self.answers(kind)
        request = next(driver)
        for _ in range(2):
            request = driver.send(self.send(request))
        with CaptureQueriesContext(connection) as captured:
            answer = self.send(request)
        driver.close()
        self.clear_submissions()
        return [answer[0], [query["sql"] for query in captured]]

    def profile(self, kind: str, count: int) -> None:
        """`count` requests of `kind` timed, then `count` more under cProfile. The
        profile is in wall time (a CPU-time timer costs a system call per function call,
        which swamps the figures): the waits on PostgreSQL show as psycopg2's `execute`
        and `commit`. The bench's own work between requests (moving a job's progress) is
        in neither figure but shows in the profile."""
        driver = self.answers(kind)
        request = next(driver)
        for _ in range(20):
            request = driver.send(self.send(request))
        plain = 0.0
        for _ in range(count):
            started = time.process_time()
            answer = self.send(request)
            plain += time.process_time() - started
            request = driver.send(answer)
        profiler = cProfile.Profile()
        profiled = 0.0
        for _ in range(count):
            started = time.process_time()
            profiler.enable()
            answer = self.send(request)
            profiler.disable()
            profiled += time.process_time() - started
            request = driver.send(answer)
        self.clear_submissions()
        print(
            f"{LABELS[kind]}, {count} requests through the WSGI application in process: "
            f"{plain * 1000 / count:.2f} ms of CPU each ({profiled * 1000 / count:.2f} ms "
            "under cProfile), PostgreSQL's not included"
        )
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(45)
            print(f"\n--- by {order}, seconds for all {count} requests ---")
            print(text.getvalue().split("\n\n", 2)[-1].rstrip())


# --- The run ---


def prepared(root: Path, name: str, scratch: Path, profile: str = "", count: int = 0) -> dict:
    # With DEBUG off, pages name static files by their hashed names, from the manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=root, env=environment(DEBUG="false"), check=True,
    )  # fmt: skip
    out = scratch / f"{name}.json"
    command = [sys.executable, __file__, "--prepare", str(root), name, str(out)]
    if profile:
        command += ["--profile", profile, "--submissions", str(count)]
    subprocess.run(command, cwd=root, env=environment(), check=True)
    return json.loads(out.read_text())


def report(label: str, figures: dict[str, Figures], state: dict) -> None:
    print(f"\n{label}: CPU per request (mean of the rounds; min-max), wall time, SQL")
    print(
        f"  {'request':34} {'answers':>22} {'web CPU ms':>18} {'PostgreSQL ms':>17} "
        f"{'wall p50/p99 ms':>16} {'SQL':>4}"
    )
    for kind, found in figures.items():
        answers = ", ".join(f"{n} x {code}" for code, n in sorted(found.codes.items()))
        spread = f"({min(found.web):.2f}-{max(found.web):.2f})"
        database = f"({min(found.database):.2f}-{max(found.database):.2f})"
        print(
            f"  {LABELS[kind]:34} {answers:>22} {found.web_ms:6.2f} {spread:>11} "
            f"{found.database_ms:5.2f} {database:>11} "
            f"{percentile(found.walls, 0.5):7.2f} /{percentile(found.walls, 0.99):7.2f} "
            f"{len(state['queries'][kind][1]):4d}"
        )
        if found.unexpected:
            print(f"    unexpected answer {found.unexpected!r}")
    for kind in figures:
        if kind in FORMS or kind == "api":
            status, sql = state["queries"][kind]
            shown = (" ".join(query.split())[:48] for query in sql)
            print(f"  SQL, {LABELS[kind]} ({status}): " + " | ".join(shown))
    polls = [kind for kind in POLLS if kind in figures]
    for kind in (k for k in figures if k not in POLLS):
        form = figures[kind]
        parts = []
        for poll in sorted(polls, key=lambda poll: poll != "poll-live"):
            base = figures[poll]
            by_web = form.web_ms / base.web_ms
            by_both = (form.web_ms + form.database_ms) / (base.web_ms + base.database_ms)
            name = POLL_NAMES[poll]
            parts.append(f"{by_web:.1f} {name} by web CPU, {by_both:.1f} by web + PostgreSQL")
        if parts:
            print(f"  one {LABELS[kind]} = " + "; ".join(parts))


def compare(figures: dict[str, dict[str, Figures]]) -> None:
    print("\nnew against old, CPU per request (web; web + PostgreSQL):")
    for kind, new in figures["new"].items():
        old = figures["old"][kind]
        total_new, total_old = new.web_ms + new.database_ms, old.web_ms + old.database_ms
        print(
            f"  {LABELS[kind]:34} web {old.web_ms:6.2f} -> {new.web_ms:6.2f} ms "
            f"({new.web_ms / old.web_ms - 1:+.0%}); total {total_old:6.2f} -> "
            f"{total_new:6.2f} ms ({total_new / total_old - 1:+.0%})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=2000, help="per batch of a poll kind")
    parser.add_argument("--submissions", type=int, default=200, help="per batch of the others")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=30, help="requests before each batch")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--old", default="", help="a revision to measure alongside")
    parser.add_argument("--web-workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--profile", choices=KINDS, default="", help="cProfile, in process")
    parser.add_argument("--prepare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        root, name, out = args.prepare
        prepare(Path(root), name, Path(out), args.profile, args.submissions)
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-cost-"))
    if args.profile:
        prepared(ROOT, DATABASE, scratch, args.profile, args.submissions)
        return
    trees = {"new": ROOT}
    if args.old:
        trees = {"old": extract(args.old, scratch / "old", {}), "new": ROOT}
    print(f"machine: {machine()}")
    revisions = {"new": git("rev-parse", "--short", "HEAD")}
    if args.old:
        revisions["old"] = git("rev-parse", "--short", args.old)
    print(
        f"gunicorn: {gunicorn_shape(args.web_workers)}, DEBUG off; one client, one kept "
        f"connection, requests one after another; logs in {scratch}"
    )
    states = {}
    for label, root in trees.items():
        states[label] = prepared(root, f"{DATABASE}_{label}", scratch)
    with contextlib.ExitStack() as stack:
        servers = {}
        for label, root in trees.items():
            port = free_port()
            env = {**SERVER_ENV, "DATABASE_URL": database_url(states[label]["database"])}
            log = scratch / f"gunicorn-{label}.log"
            web = stack.enter_context(gunicorn(log, port, args.web_workers, root=root, **env))
            wait_until(lambda port=port: _up(port), timeout=60, what=f"gunicorn ({label})")
            servers[label] = Gunicorn(label, states[label], port, web.pid)
            stack.callback(servers[label].close)
        figures = {label: {kind: Figures() for kind in args.kinds} for label in trees}
        started = time.monotonic()
        for _ in range(args.rounds):
            for kind in args.kinds:
                count = args.polls if kind in POLLS else args.submissions
                for label, server in servers.items():
                    batch(server, kind, count, args.warmup, figures[label][kind])
        print(f"measured in {time.monotonic() - started:.0f} s; calibration {calibration():.2f} s")
    for label in trees:
        where = f"{label} ({revisions[label]}, database {states[label]['database']})"
        report(where, figures[label], states[label])
    if args.old:
        compare(figures)


def _up(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/accounts/login/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


if __name__ == "__main__":
    main()
