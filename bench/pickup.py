"""Pickup: time from submitting a job to a worker starting it, on an idle cluster.

    .venv/bin/python bench/pickup.py [--samples 100] [--poll 0.2]

Submits no-op jobs (bench/noop.py) one at a time, a random 0.2-1 s apart, to a fresh
qcluster with nothing else queued, and prints the median and 95th percentile of
started_at - created_at. Target: median under 200 ms.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from stack import machine, percentile, qcluster, setup_django, wait_until

ENV = {"JOB_EXTRA_KIND_MODULES": "bench.noop", "LOG_LEVEL": "WARNING"}


def samples(count: int) -> list[float]:
    """Milliseconds from submitting to starting, for `count` no-op jobs submitted one at
    a time, a random 0.2-1 s apart, to the running cluster."""
    from django.contrib.auth import get_user_model

    from jobs.engine import submitting
    from jobs.engine.registry import get_kind
    from jobs.models import Job

    owner, _ = get_user_model().objects.get_or_create(username="pickup")
    kind = get_kind("noop")
    found = []
    for _ in range(count):
        job = submitting.submit(owner=owner, kind=kind, params={})
        wait_until(
            lambda job=job: Job.objects.filter(pk=job.pk, started_at__isnull=False).exists(),
            timeout=30,
            interval=0.005,
            what="a no-op job to start",
        )
        job.refresh_from_db()
        found.append((job.started_at - job.created_at).total_seconds() * 1000)
        time.sleep(random.uniform(0.2, 1.0))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--poll", default=None, help="JOB_PROCESSING_INTERVAL (default: app's)")
    args = parser.parse_args()
    setup_django("longjobs_bench_pickup", **ENV)
    from django.conf import settings

    poll = args.poll or str(settings.Q_CLUSTER["poll"])
    log = Path(tempfile.mkdtemp(prefix="bench-pickup-")) / "qcluster.log"
    print(f"machine: {machine()}")
    with qcluster(log, JOB_PROCESSING_INTERVAL=poll, **ENV):
        time.sleep(4)  # the cluster up and idle
        found = samples(args.samples)
    print(
        f"poll {poll} s, {len(found)} jobs: median {percentile(found, 0.5):.0f} ms, "
        f"p95 {percentile(found, 0.95):.0f} ms, max {max(found):.0f} ms "
        "(target: median under 200 ms)"
    )


if __name__ == "__main__":
    main()
