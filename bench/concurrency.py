"""Concurrency of waiting jobs: deep dives that each wait on a slow local
OpenAI-compatible server, all submitted at once to ONE qcluster with the app's defaults
(Q_WORKERS unset: 2 worker processes, each running its jobs in threads).

    .venv/bin/python bench/concurrency.py [--jobs 40 400 1000] [--stream-seconds 60]
        [--poll-users 400] [--gunicorn "--access-logformat ..."]

For each --jobs N, on a fresh database and a fresh cluster:

- submits N deep dives in one transaction, spread over owners of 10 jobs each (the
  app's default MAX_ACTIVE_JOBS_PER_USER), with MAX_CONCURRENT_JOBS at least N; each
  job's overview streams from the fake provider (bench/fake_provider.py, a process of
  its own) in 60 chunks over --stream-seconds;
- samples every second: the jobs' status, stage, message and progress_at; the memory of
  the cluster's process tree (RSS, and PSS from /proc/<pid>/smaps_rollup, so shared
  pages count once) and its threads; PostgreSQL's connections (this database's rows in
  pg_stat_activity, those of the cluster's own sockets, and the server's total); the CPU
  time of the cluster, of this database's backends and of the provider;
- reports the peak running at once, how the jobs ended (succeeded with the model's
  overview in their result), memory and connections idle and at the peak and their
  growth per job, the longest silence of a streaming job's stage message (target: a
  change at least every 5 s), and, with --poll-users, the poll load of bench/poll.py
  against a gunicorn on the same database, its users polling those jobs;
- then, the cluster idle, the pickup time of 50 no-op jobs submitted one at a time
  (started_at - created_at, as bench/pickup.py measures it).

A run that has not ended stream-seconds * 3 + 180 s after its submission is abandoned,
with what was left running. Every process started here is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pickup import samples as pickup_samples
from stack import (
    ROOT,
    environment,
    gunicorn,
    log_in,
    machine,
    percentile,
    postgres_pids,
    process,
    qcluster,
    recreate_database,
    setup_django,
    tree,
    wait_until,
    write_polls,
)
from stack import cpu_seconds as stack_cpu_seconds

DATABASE = "longjobs_bench_concurrency"
# The no-op kind of bench/noop.py, for the pickup measure, in the bench and the cluster.
ENV = {"JOB_EXTRA_KIND_MODULES": "bench.noop", "LOG_LEVEL": "WARNING"}
JOBS_PER_OWNER = 10  # the app's default MAX_ACTIVE_JOBS_PER_USER
CHUNKS = 60
PICKUP_SAMPLES = 50
GAP_TARGET = 5.0
MIB = 1024  # smaps_rollup counts KiB


# --- What the processes use, from /proc ------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    return stack_cpu_seconds(pids, reaped=True)


def memory(pids: list[int]) -> tuple[int, int, int]:
    """RSS and PSS in KiB, and the number of threads, of these processes."""
    rss = pss = threads = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
        threads += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")
        )
    return rss, pss, threads


def database_sockets(pids: list[int], port: int = 5432) -> int:
    """Established TCP connections from these processes to PostgreSQL's port."""
    to_postgres = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                    to_postgres.add(fields[9])
    count = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for descriptor in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
                    if target.startswith("socket:[") and target[8:-1] in to_postgres:
                        count += 1
    return count


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The database ------------------------------------------------------------------------


def fresh_database() -> None:
    """Drop and create the bench database again, migrated (after the first run)."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    recreate_database(DATABASE)
    call_command("migrate", verbosity=0)


def connections_now() -> tuple[int, int, list[int]]:
    """Connections to this database and to the whole server, and this database's
    backends."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE datname = %s),"
            " coalesce(array_agg(pid) FILTER (WHERE datname = %s), '{}')"
            " FROM pg_stat_activity",
            [DATABASE, DATABASE],
        )
        total, ours, pids = cursor.fetchone()
    return ours, total, pids


# --- One run -----------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds since the submission was committed
    running: int
    queued: int
    rss: int
    pss: int
    threads: int
    cluster_connections: int
    database_connections: int
    server_connections: int
    cluster_cpu: float


@dataclass
class Messages:
    """When each streaming job's stage message was last seen to change."""

    last: dict = field(default_factory=dict)  # job id -> (message, seen at, progress_at)
    gaps: list[float] = field(default_factory=list)
    stamp_gaps: list[float] = field(default_factory=list)
    changes: int = 0

    def see(self, rows: list[tuple], at: float) -> None:
        streaming = set()
        for pk, status, stage, message, progress_at in rows:
            if status != "running" or stage != "writing":
                continue
            streaming.add(pk)
            before = self.last.get(pk)
            if before is None:
                self.last[pk] = (message, at, progress_at)
            elif message != before[0]:
                self._change(pk, at, progress_at)
                self.last[pk] = (message, at, progress_at)
        for pk in set(self.last) - streaming:
            # Left the stream (the next stage, or the job ended): a change too.
            self._change(pk, at, None)
            del self.last[pk]

    def _change(self, pk, at: float, progress_at) -> None:
        _, seen, stamp = self.last[pk]
        self.changes += 1
        self.gaps.append(at - seen)
        if progress_at is not None and stamp is not None:
            self.stamp_gaps.append((progress_at - stamp).total_seconds())


class Poll(threading.Thread):
    """bench/poll.py's locust load, run beside the jobs."""

    def __init__(self, users: int, seconds: int, sessions: Path, out: Path, server: int):
        super().__init__(name="poll-load", daemon=True)
        self.arguments = (users, seconds, sessions, out, server)
        self.row: dict | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from poll import run_locust

        try:
            # As the job page polls: its signed status URL, with If-None-Match. The users
            # spawn before the burst and start once it is submitted.
            self.row = run_locust(*self.arguments, mode="status", wait_for_sessions=True)
        except BaseException as error:  # SystemExit too: reported with the figures
            self.error = error


class SlotWatch(threading.Thread):
    """How many of the machine's CPU slots are held at once, from the kernel's list of
    file locks (/proc/locks), 20 times a second."""

    def __init__(self, directory: Path, count: int):
        super().__init__(name="slot-watch", daemon=True)
        directory.mkdir(parents=True, exist_ok=True)
        self.inodes = set()
        for index in range(count):
            path = directory / f"{index}.lock"
            path.touch()
            self.inodes.add(path.stat().st_ino)
        self.peak = 0
        self.busy = 0  # samples with at least one slot held
        self.samples = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            held = 0
            for line in Path("/proc/locks").read_text().splitlines():
                fields = line.split()
                # Waiters are listed too, marked "->"; only holders count.
                ours = len(fields) > 5 and fields[1] == "FLOCK" and "->" not in line
                if ours and int(fields[5].rsplit(":", 1)[1]) in self.inodes:
                    held += 1
            self.samples += 1
            self.busy += held > 0
            self.peak = max(self.peak, held)


def run(jobs: int, args, provider_url: str, logs: Path) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from jobs.engine import submitting
    from jobs.engine.registry import get_kind
    from jobs.models import Document, Job

    User = get_user_model()  # noqa: N806
    # The app's default MAX_CONCURRENT_JOBS, or all the jobs when more.
    limit = max(jobs + args.cpu_jobs, 400)
    owners = User.objects.bulk_create(
        User(username=f"reader{n}") for n in range(-(-jobs // JOBS_PER_OWNER))
    )
    documents = [
        Document.objects.create(
            owner=owner,
            title="Trial",
            text="Methods: a randomised trial of 120 adults. Results: HbA1c fell by 0.4%.",
        )
        for owner in owners
    ]
    env = {
        **ENV,
        "AI_BASE_URL": provider_url,
        "AI_API_KEY": "sk-bench",
        "AI_MODEL": "bench-model",
        # As in production: with DEBUG on, Django keeps the text of every query.
        "DEBUG": "false",
        "JOB_CPU_SLOT_DIR": str(logs / f"cpu-slots-{jobs}"),
        **({"MAX_CONCURRENT_JOBS": str(limit)} if limit > 400 else {}),
    }
    print(
        f"\n== {jobs} deep dives, {len(owners)} owners, {args.stream_seconds:g} s streams "
        f"({CHUNKS} chunks); Q_WORKERS 2 (default), MAX_CONCURRENT_JOBS {limit}; "
        f"logs in {logs}"
    )
    slots = SlotWatch(logs / f"cpu-slots-{jobs}", os.cpu_count() or 1)
    if args.cpu_jobs:
        from jobs.analysis.tables import demo_data

        demo_data.load(args.cpu_rows)
        print(
            f"beside them: {args.cpu_jobs} semantic models of a {args.cpu_rows:,}-row table "
            f"(CPU-bound steps), JOB_CPU_SLOTS {os.cpu_count()}"
        )
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(qcluster(logs / f"qcluster-{jobs}.log", **env))
        web = None
        if args.poll_users:
            from poll import PORT, _up

            web = stack.enter_context(
                gunicorn(
                    logs / f"gunicorn-{jobs}.log",
                    PORT,
                    None,
                    *shlex.split(args.gunicorn),
                    DEBUG="false",
                )  # fmt: skip
            )
            wait_until(_up, timeout=60, what="gunicorn")
        # The main process, its sentinel, monitor and pusher, and two workers.
        wait_until(lambda: len(tree(cluster.pid)) >= 6, 120, what="the cluster's workers")
        time.sleep(4)
        idle_pids = tree(cluster.pid)
        idle_rss, idle_pss, idle_threads = memory(idle_pids)
        idle_ours, idle_total, _ = connections_now()
        idle_cluster = database_sockets(idle_pids)
        print(
            f"idle cluster: {len(idle_pids)} processes, {idle_threads} threads, "
            f"RSS {idle_rss / MIB:.0f} MiB, PSS {idle_pss / MIB:.0f} MiB; connections: "
            f"cluster {idle_cluster}, this database {idle_ours}, server {idle_total}"
        )

        poll = None
        if args.poll_users:
            # The pollers log in and the load generator spawns them before the burst, so
            # that neither's own start is measured as the burst's; they poll once the
            # sessions file names their jobs (each user the job of the same number).
            sessions = logs / f"sessions-{jobs}.json"
            sessions.unlink(missing_ok=True)
            keys = log_in([owners[n % jobs % len(owners)] for n in range(args.poll_users)])
            spawn = args.poll_users / max(1, args.poll_users // 10)
            seconds = int(args.stream_seconds + 20)
            os.environ["POLL_TIMINGS"] = str(logs / f"poll-{jobs}-timings.txt")
            poll = Poll(args.poll_users, seconds, sessions, logs, web.pid)
            poll.start()
            time.sleep(spawn + 3)

        # Submit all at once: one transaction, the owners taking turns.
        kind = get_kind("deep_dive")
        began = time.monotonic()
        with transaction.atomic():
            submitted = [
                submitting.submit(
                    owner=owners[n % len(owners)],
                    kind=kind,
                    params={
                        "document_id": documents[n % len(owners)].pk,
                        "objective": f"effect {n}",
                    },
                )
                for n in range(jobs)
            ]
        committed, committed_at = time.monotonic(), timezone.now()
        committed_wall = time.time()
        slots.start()
        analyst = User.objects.create(username="analyst")
        modelled = [
            submitting.submit(
                owner=analyst,
                kind=get_kind("semantic_model"),
                params={"database": "default", "schema": "demo", "table": "loan_applications"},
            )
            for n in range(args.cpu_jobs)
        ]
        submit_seconds = committed - began

        if poll is not None:
            write_polls(keys, (submitted * args.poll_users)[: args.poll_users], sessions)

        groups = {"cluster": lambda: tree(cluster.pid), "server": postgres_pids}
        cpu_before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
        provider_before = cpu_seconds(tree(args.provider_pid))
        bench_before = time.process_time()
        _, _, backends = connections_now()
        backend_base = {pid: cpu_seconds([pid]) for pid in backends}
        backend_last = dict(backend_base)

        samples: list[Sample] = []
        messages = Messages()
        intervals: list[float] = []
        all_running_at = None
        aborted = ""
        deadline = committed + args.stream_seconds * 3 + 180
        ids = [job.pk for job in submitted]
        while True:
            now = time.monotonic()
            at = now - committed
            if samples:
                intervals.append(at - samples[-1].at)
            rows = list(
                Job.objects.filter(pk__in=ids).values_list(
                    "pk", "status", "stage", "message", "progress_at"
                )
            )
            statuses = Counter(row[1] for row in rows)
            pids = tree(cluster.pid)
            rss, pss, threads = memory(pids)
            ours, total, backends = connections_now()
            for pid in backends:
                backend_last[pid] = cpu_seconds([pid])
            samples.append(
                Sample(
                    at, statuses["running"], statuses["queued"], rss, pss, threads,
                    database_sockets(pids), ours, total, cpu_seconds(pids),
                )
            )  # fmt: skip
            messages.see(rows, at)
            if all_running_at is None and statuses["running"] == jobs:
                all_running_at = at
            if not statuses["running"] and not statuses["queued"]:
                break
            if cluster.poll() is not None:
                aborted = f"the cluster exited with {cluster.returncode}"
                break
            if now > deadline:
                aborted = f"still {dict(statuses)} after {at:.0f} s"
                break
            time.sleep(max(0.0, now + 1.0 - time.monotonic()))
        elapsed = time.monotonic() - committed
        modelled_ids = [job.pk for job in modelled]
        wait_until(
            lambda: (
                not Job.objects.filter(pk__in=modelled_ids, status__in=Job.ACTIVE_STATUSES).exists()
            ),
            600,
            what="the semantic models",
        )
        slots.stopped.set()
        cpu = {name: cpu_seconds(pids()) - cpu_before[name] for name, pids in groups.items()}
        cpu["provider"] = cpu_seconds(tree(args.provider_pid)) - provider_before
        cpu["bench"] = time.process_time() - bench_before
        cpu["database"] = sum(
            last - backend_base.get(pid, 0.0) for pid, last in backend_last.items()
        )

        if poll is not None:
            poll.join(timeout=300)

        pickups = None if aborted else pickup()
        stuck = (
            list(
                Job.objects.filter(pk__in=ids, status__in=Job.ACTIVE_STATUSES).values_list(
                    "status", "stage", "message"
                )[:5]
            )
            if aborted
            else []
        )

    # --- Figures ---
    ended = list(
        Job.objects.filter(pk__in=ids).values_list(
            "status", "result__engine", "error", "attempts", "started_at"
        )
    )
    statuses = Counter(row[0] for row in ended)
    # The model's stream itself is not kept: an overview sentence citing no passage is
    # dropped (jobs/analysis/texts/citing.py), so the result says the model ran instead.
    with_overview = sum(
        1 for row in ended if row[0] == "succeeded" and str(row[1]).startswith("AI model")
    )
    errors = Counter(row[2][:160] for row in ended if row[0] != "succeeded" and row[2])
    retried = sum(1 for row in ended if row[3] > 1)
    starts = [(row[4] - committed_at).total_seconds() for row in ended if row[4]]
    peak = max(samples, key=lambda s: (s.running, s.pss))
    top = {
        name: max(getattr(s, name) for s in samples)
        for name in ("pss", "rss", "cluster_connections", "database_connections")
    }
    top["server"] = max(s.server_connections for s in samples)

    if aborted:
        print(f"ABANDONED: {aborted}; some of what was left: {stuck}")
    last_start = f"{max(starts):.1f}" if starts else "-"
    print(
        f"submitted in {submit_seconds:.1f} s (one transaction); all {jobs} running "
        + (f"{all_running_at:.0f} s" if all_running_at is not None else "never at once")
        + f" after it, the last started {last_start} s after it; all ended after {elapsed:.0f} s"
    )
    verdict = (
        f"{peak.queued} queued then, for want of a slot"
        if peak.queued and peak.running >= limit
        else f"{peak.queued} queued then, with slots free"
        if peak.queued
        else "none queued then"
    )
    print(f"peak running at once: {peak.running} of {jobs}, {peak.at:.0f} s in ({verdict})")
    other = {k: v for k, v in statuses.items() if k != "succeeded"}
    print(
        f"ended: succeeded {statuses['succeeded']}, written with the model "
        f"{with_overview}; other {other or 0}; retried {retried}"
        + "".join(f"\n    {count} x {error}" for error, count in errors.most_common(3))
    )
    print(
        f"at the peak: cluster RSS {peak.rss / MIB:.0f} MiB, PSS {peak.pss / MIB:.0f} MiB, "
        f"{peak.threads} threads; connections: cluster {peak.cluster_connections}, this "
        f"database {peak.database_connections}, server {peak.server_connections} "
        f"(highest of the run: PSS {top['pss'] / MIB:.0f} MiB, cluster "
        f"{top['cluster_connections']}, database {top['database_connections']}, "
        f"server {top['server']})"
    )
    print(
        f"growth per job (idle to peak, / {jobs}): PSS {(peak.pss - idle_pss) / MIB / jobs:.2f} "
        f"MiB, RSS {(peak.rss - idle_rss) / MIB / jobs:.2f} MiB, connections "
        f"{(peak.cluster_connections - idle_cluster) / jobs:.3f} (cluster), "
        f"{(peak.database_connections - idle_ours) / jobs:.3f} (database)"
    )
    print(
        f"CPU over the {elapsed:.0f} s: cluster {cpu['cluster']:.1f} s "
        f"({cpu['cluster'] / elapsed:.2f} cores), PostgreSQL {cpu['database']:.1f} s for this "
        f"database ({cpu['server']:.1f} s whole server, others' included), provider "
        f"{cpu['provider']:.1f} s, bench {cpu['bench']:.1f} s"
        + phases(samples, jobs, all_running_at)
    )
    gaps = messages.gaps or [0.0]
    stamps = messages.stamp_gaps or [0.0]
    over = sum(1 for gap in gaps if gap > GAP_TARGET)
    print(
        f"stage messages while streaming: {messages.changes} changes seen, longest gap "
        f"{max(gaps):.1f} s (p99 {percentile(gaps, 0.99):.1f} s), {over} over "
        f"{GAP_TARGET:g} s; by progress_at longest {max(stamps):.1f} s; sampled every "
        f"{statistics.mean(intervals or [0]):.2f} s (longest {max(intervals or [0]):.1f} s)"
    )
    if poll is not None:
        if poll.row is None:
            print(f"poll ({args.poll_users} users): failed: {poll.error!r}; see {logs}")
        else:
            row = poll.row
            print(
                f"poll ({args.poll_users} users every 5 s): {float(row['Requests/s']):.1f} "
                f"req/s, p50 {row['50%']} ms, p99 {row['99%']} ms, max "
                f"{float(row['Max Response Time']):.0f} ms, {row['Failure Count']} failed "
                f"of {row['Request Count']}"
            )
            print(poll_phases(Path(os.environ["POLL_TIMINGS"]), committed_wall, samples, jobs))
    if modelled:
        ended = list(
            Job.objects.filter(pk__in=[job.pk for job in modelled]).values_list(
                "status", "started_at", "finished_at"
            )
        )
        took = sorted((end - start).total_seconds() for _, start, end in ended if end and start)
        print(
            f"semantic models beside them: {Counter(status for status, _, _ in ended)}; "
            f"each took {percentile(took, 0.5):.0f} s (median), {max(took):.0f} s at most; "
            f"CPU slots held at once: at most {slots.peak} of {os.cpu_count()} "
            f"({slots.busy / max(1, slots.samples):.0%} of the time one or more)"
        )
    if pickups:
        print(
            f"pickup, idle cluster after the run ({len(pickups)} no-op jobs one at a time): "
            f"median {percentile(pickups, 0.5):.0f} ms, p95 {percentile(pickups, 0.95):.0f} "
            f"ms, max {max(pickups):.0f} ms"
        )
    report_log(logs / f"qcluster-{jobs}.log")


def poll_phases(timings: Path, committed_wall: float, samples: list, jobs: int) -> str:
    """The polls' p50 and p99 while the jobs started, while all of them streamed, and
    while they ended (all at once, their pages then showing their results)."""
    if not timings.exists():
        return "poll by phase: no timings written"
    requests: dict[str, list[tuple[float, float]]] = {"poll": [], "page": []}
    for line in timings.read_text().split("\n"):
        if line:
            end, ms, what = line.split()
            started = float(end) - float(ms) / 1000 - committed_wall
            requests[what].append((started, float(ms)))
    full = [s.at for s in samples if s.running == jobs]
    if not full:
        return "poll by phase: the jobs never all ran at once"
    bounds = {
        "starting": (0.0, full[0]),
        # The deep dives analyse their documents after they start: CPU-bound seconds.
        "first 10 s": (0.0, 10.0),
        "all streaming": (full[0], full[-1]),
        "ending": (full[-1], samples[-1].at + 1),
    }
    requests["all"] = requests["poll"] + requests["page"]
    lines = []
    # The job pages' loads (each user's first request) are not polls: apart, then with
    # them, as a server sees them (a page that polls less soon moves requests between
    # the two).
    for what, label in (
        ("poll", "poll by phase"),
        ("page", "job page loads by phase"),
        ("all", "every request (polls and page loads) by phase"),
    ):
        parts = []
        for name, (low, high) in bounds.items():
            times = sorted(ms for at, ms in requests[what] if low <= at < high)
            if times:
                parts.append(
                    f"{name} ({low:.0f}-{high:.0f} s) {len(times)}, p50 "
                    f"{percentile(times, 0.5):.0f} ms, p99 {percentile(times, 0.99):.0f} ms, "
                    f"max {times[-1]:.0f} ms"
                )
        lines.append(f"{label}: " + "; ".join(parts))
    lines.append(generator_late(timings.with_name(timings.name + ".late"), committed_wall))
    return "\n".join(lines)


def generator_late(late: Path, committed_wall: float) -> str:
    """How late the load generator's own loop ran (bench/locustfiles/poll.py): a request
    that seems slow while it was late may have waited on the generator, not the server."""
    if not late.exists():
        return "load generator's loop: not timed"
    # From the submission on, as the requests' phases are.
    moments = [
        (float(at) - committed_wall, float(ms))
        for at, ms in (line.split() for line in late.read_text().split("\n") if line)
        if float(at) >= committed_wall
    ]
    early = [ms for at, ms in moments if at < 10]
    overall = max((ms for _, ms in moments), default=0.0)
    return (
        f"load generator's loop (timed every 5 ms): over 5 ms late {len(moments)} times, "
        f"at most {overall:.0f} ms; in the first 10 s {len(early)} times, at most "
        f"{max(early, default=0.0):.0f} ms"
    )


def phases(samples: list[Sample], jobs: int, all_running_at: float | None) -> str:
    """The cluster's CPU while it started the jobs, then while all of them streamed."""
    if all_running_at is None:
        return ""
    first = samples[0]
    full = [s for s in samples if s.running == jobs]
    start = full[0]
    text = (
        f"; cluster while starting them (to {start.at:.0f} s) "
        f"{(start.cluster_cpu - first.cluster_cpu) / max(start.at - first.at, 1):.2f} cores"
    )
    if full[-1].at - start.at >= 5:
        rate = (full[-1].cluster_cpu - start.cluster_cpu) / (full[-1].at - start.at)
        text += f", while all {jobs} streamed ({full[-1].at - start.at:.0f} s) {rate:.2f} cores"
    return text


def pickup() -> list[float]:
    """bench/pickup.py's measure: no-op jobs submitted one at a time, 0.2-1 s apart."""
    time.sleep(3)  # idle
    return pickup_samples(PICKUP_SAMPLES)


def report_log(log: Path) -> None:
    """The warnings and errors of the cluster's log (it logs nothing else here)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    flagged = [line for line in lines if any(w in line for w in ("WARNING", "ERROR", "CRITICAL"))]
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    kinds = Counter(" ".join(line.split()[2:])[:160] for line in flagged)
    print(
        f"qcluster log: {len(flagged)} warnings/errors, {tracebacks} tracebacks"
        + "".join(f"\n    {count} x {line}" for line, count in kinds.most_common(4))
    )


# --- Whatever happens, stop what was started ----------------------------------------------


def stop_children() -> None:
    """Any child process still running (every one leads a process group of its own)."""
    children = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            children |= {int(pid) for pid in (task / "children").read_text().split()}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        deadline = time.monotonic() + 10
        while children and time.monotonic() < deadline:
            children = {pid for pid in children if not _reaped(pid)}
            time.sleep(0.1)


def _reaped(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def revision() -> str:
    """The commit measured, and whether the engine had changes not yet committed."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "jobs", "site"], capture_output=True, text=True
    )
    dirty = len(changed.stdout.splitlines())
    return commit.stdout.strip() + (f" + {dirty} changed files in jobs/, site/" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, nargs="+", default=[400])
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--poll-users", type=int, default=0, help="0: no poll load")
    parser.add_argument(
        "--cpu-jobs", type=int, default=0, help="semantic models submitted beside them"
    )
    parser.add_argument("--cpu-rows", type=int, default=300_000, help="rows of their table")
    parser.add_argument(
        "--gunicorn", default="", help="more gunicorn options for the poll load's server"
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like an exception, so that every process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for name in ("Q_WORKERS", "MAX_CONCURRENT_JOBS", "MAX_ACTIVE_JOBS_PER_USER"):
        os.environ.pop(name, None)  # the app's defaults
    setup_django(DATABASE, **ENV)
    from django.db import connection

    logs = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    print(f"machine: {machine()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_connections'), version()")
        limit, version = cursor.fetchone()
    print(f"{version.split(' on ')[0]}, max_connections {limit}; code {revision()}")
    if args.poll_users:
        # With DEBUG off, pages name static files by their hashed names, from the manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT, env=environment(DEBUG="false"), check=True,
        )  # fmt: skip
    port = free_port()
    command = [
        sys.executable, str(ROOT / "bench/fake_provider.py"), str(port),
        "--chunks", str(CHUNKS), "--seconds", str(args.stream_seconds),
    ]  # fmt: skip
    try:
        with process(command, logs / "provider.log") as provider:
            args.provider_pid = provider.pid
            wait_until(
                lambda: "server at" in (logs / "provider.log").read_text(), 30, what="provider"
            )
            for index, jobs in enumerate(args.jobs):
                if index:
                    fresh_database()
                run(jobs, args, f"http://127.0.0.1:{port}/v1", logs)
    finally:
        stop_children()


if __name__ == "__main__":
    main()
