"""Profile a million-row demo table through the real engine and print what it took.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/longjobs_bench \
        .venv/bin/python bench/profile_million_rows.py [--rows 1000000]

Creates the database if needed, loads the demo table (unless it already has the rows),
runs one semantic-model job in this process through running.run_queued_job, and prints the
duration of each stage, the number of progress writes and the peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from jobs.analysis.tables import demo_data
    from jobs.engine import running, submitting
    from jobs.engine.registry import get_kind
    from jobs.models import JobEvent

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if demo_data.demo_row_count() != args.rows:
        demo_data.load(args.rows)
        print(f"loaded {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    params = demo_data.demo_tables()[0].as_params()
    job = submitting.submit(owner=owner, kind=get_kind("semantic_model"), params=params)
    started = time.perf_counter()
    status = running.run_queued_job(str(job.pk))
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    events = list(JobEvent.objects.filter(job=job).order_by("at", "id"))
    print(f"status: {status}  rows: {job.result['summary']['rows']:,}  total: {elapsed:.1f} s")
    for event, following in zip(events, events[1:], strict=False):
        if event.type == JobEvent.Type.STAGE:
            print(f"  {event.name:<16} {(following.at - event.at).total_seconds():6.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
