"""Throughput: N no-op jobs through the whole job lifecycle against N bare django-q2
no-op tasks, on one cluster and one PostgreSQL, in one run.

    .venv/bin/python bench/throughput.py [--jobs 2000] [--workers 2]

Both sides are queued first and then drained by a fresh `qcluster`; the time is from
the cluster's start to the last completion. Target: jobs take at most 1.5x the bare
tasks' time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from stack import machine, qcluster, setup_django, wait_until

ENV = {"JOB_EXTRA_KIND_MODULES": "bench.noop", "JOB_PROCESSING_INTERVAL": "0.01"}


def drain(count_done, total: int, log: Path, workers: int) -> float:
    started = time.perf_counter()
    with qcluster(log, Q_WORKERS=str(workers), MAX_CONCURRENT_JOBS=str(workers), **ENV):
        wait_until(lambda: count_done() >= total, timeout=1800, interval=0.05, what="drain")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup_django("longjobs_bench_throughput", **ENV)
    from django.contrib.auth import get_user_model
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    from jobs.engine import submitting
    from jobs.engine.registry import get_kind
    from jobs.models import Job

    logs = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    print(f"machine: {machine()}")
    print(f"{args.jobs} each, {args.workers} workers, logs in {logs}")

    for _ in range(args.jobs):
        async_task("bench.noop.bare_task", task_name="bare")
    # A task's queue row goes when the task is acknowledged, after it ran (django-q2 keeps
    # only the last save_limit results, so they cannot be counted).
    bare = drain(
        lambda: args.jobs - OrmQ.objects.count(), args.jobs, logs / "bare.log", args.workers
    )
    print(f"bare django-q2 tasks: {bare:6.2f} s  ({args.jobs / bare:6.1f} tasks/s)")

    # Users take turns, so spread the jobs over a few owners as real traffic would be.
    owners = [get_user_model().objects.create(username=f"bench{n}") for n in range(10)]
    kind = get_kind("noop")
    from django.conf import settings

    settings.MAX_ACTIVE_JOBS_PER_USER = args.jobs
    for n in range(args.jobs):
        submitting.submit(owner=owners[n % len(owners)], kind=kind, params={})
    done = drain(
        lambda: Job.objects.filter(status=Job.Status.SUCCEEDED).count(),
        args.jobs,
        logs / "jobs.log",
        args.workers,
    )
    print(f"no-op jobs:           {done:6.2f} s  ({args.jobs / done:6.1f} jobs/s)")
    print(f"ratio: {done / bare:.2f}x the bare tasks' time (target: at most 1.5x)")
    failed = Job.objects.exclude(status=Job.Status.SUCCEEDED).count()
    if failed:
        print(f"WARNING: {failed} jobs did not succeed")


if __name__ == "__main__":
    main()
