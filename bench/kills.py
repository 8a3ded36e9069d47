"""Recovery from kill -9: N deep dives waiting on the fake provider's streams, the cluster
killed with SIGKILL twice while they start and run, then started again.

    .venv/bin/python bench/kills.py [--jobs 400] [--room 400] [--stream-seconds 20]
        [--kill-after 8 8]

Each --kill-after is how long a cluster runs before its whole process group gets
SIGKILL (as when a machine dies); the next cluster starts 2 s later. Reports, once every
job has ended: how they ended, how many ran twice (more than one "succeeded" event), and
the longest time after the last restart during which jobs stayed queued while a slot was
free and no start task was coming for them (target: well under 30 s; before the sweep
topped up past tasks leased to a dead cluster, 7 of 400 waited 14 minutes and more).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from concurrency import free_port
from stack import machine, process, qcluster, setup_django, wait_until

DATABASE = os.environ.get("BENCH_DATABASE", "longjobs_bench_kills")
JOBS_PER_OWNER = 10
SWEEP_GRACE = 5.0  # the lost-job delay before a dead worker's jobs count as lost


def submit(jobs: int):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from jobs.engine import submitting
    from jobs.engine.registry import get_kind
    from jobs.models import Document

    User = get_user_model()  # noqa: N806
    owners = User.objects.bulk_create(
        User(username=f"killed{n}") for n in range(-(-jobs // JOBS_PER_OWNER))
    )
    kind = get_kind("deep_dive")
    with transaction.atomic():
        made = []
        for n in range(jobs):
            owner = owners[n // JOBS_PER_OWNER]
            document = Document.objects.create(
                owner=owner,
                title="Trial",
                text="Methods: a trial of 120 adults. Results: HbA1c fell.",
            )
            params = {"document_id": document.pk, "objective": f"HbA1c {n}"}
            made.append(submitting.submit(owner=owner, kind=kind, params=params))
    return made


def counts(ids) -> dict[str, int]:
    from django.db.models import Count

    from jobs.models import Job

    rows = Job.objects.filter(pk__in=ids).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--room", type=int, default=400, help="MAX_CONCURRENT_JOBS")
    parser.add_argument("--stream-seconds", type=float, default=20.0)
    parser.add_argument("--kill-after", type=float, nargs="+", default=[8.0, 8.0])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for name in ("Q_WORKERS", "MAX_CONCURRENT_JOBS", "MAX_ACTIVE_JOBS_PER_USER"):
        os.environ.pop(name, None)
    setup_django(DATABASE, LOG_LEVEL="WARNING")
    from jobs.engine import queue
    from jobs.models import Job, JobEvent

    logs = Path(tempfile.mkdtemp(prefix="bench-kills-"))
    print(f"machine: {machine()}; logs in {logs}")
    port = free_port()
    provider = [
        sys.executable, "bench/fake_provider.py", str(port),
        "--chunks", "20", "--seconds", str(args.stream_seconds),
    ]  # fmt: skip
    env = {
        "AI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "AI_API_KEY": "sk-bench",
        "AI_MODEL": "bench-model",
        "DEBUG": "false",
        "MAX_CONCURRENT_JOBS": str(args.room),
        "JOB_CPU_SLOT_DIR": str(logs / "cpu-slots"),
    }
    with process(provider, logs / "provider.log"):
        wait_until(lambda: "server at" in (logs / "provider.log").read_text(), 30, what="provider")
        jobs = submit(args.jobs)
        ids = [job.pk for job in jobs]
        print(f"{args.jobs} deep dives queued, MAX_CONCURRENT_JOBS {args.room}")
        for number, seconds in enumerate(args.kill_after, 1):
            with qcluster(logs / f"killed{number}.log", **env) as cluster:
                time.sleep(seconds)
                print(f"kill -9 number {number} after {seconds:g} s: {counts(ids)}")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(cluster.pid, signal.SIGKILL)
            time.sleep(2)
        back = time.monotonic()
        longest = 0.0
        idle_since = None
        with qcluster(logs / "back.log", **env):
            while time.monotonic() - back < 900:
                now_counts = counts(ids)
                queued = now_counts.get(Job.Status.QUEUED, 0)
                running = now_counts.get(Job.Status.RUNNING, 0)
                if not queued and not running:
                    break
                now = time.monotonic()
                # Waiting on nothing: a slot free, and no start task coming (one taken by
                # a dead cluster is not coming: queue.pending_tasks).
                coming = queue.pending_tasks().count()
                if queued and running < args.room and not coming and now - back > SWEEP_GRACE:
                    idle_since = idle_since or now
                    longest = max(longest, now - idle_since)
                else:
                    idle_since = None
                time.sleep(0.5)
            ended_after = time.monotonic() - back
    final = counts(ids)
    twice = sum(
        1
        for job_id in ids
        if JobEvent.objects.filter(job_id=job_id, name=Job.Status.SUCCEEDED).count() > 1
    )
    attempts = sorted(Job.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    print(f"after the last restart: all ended in {ended_after:.0f} s; {final}")
    print(f"succeeded more than once: {twice}; attempts: max {attempts[-1]}, "
          f"{sum(1 for a in attempts if a > 1)} jobs took more than one")  # fmt: skip
    print(
        f"longest a job stayed queued with a slot free and no start task coming "
        f"(after {SWEEP_GRACE:g} s): {longest:.1f} s"
    )


if __name__ == "__main__":
    main()
