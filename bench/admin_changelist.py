"""Time the jobs admin's list on a table of 100,000 jobs and count its SQL queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/longjobs_bench_admin \
        .venv/bin/python bench/admin_changelist.py [--jobs 100000] [--runs 7]

Creates the database if needed, migrates it, fills the jobs table (unless it already
holds that many jobs: a few users, mixed kinds and statuses, three months of history),
ANALYZEs it as autovacuum would, then loads the list as a staff user: unfiltered,
filtered by status, searched by username, by a parameter and by a job's id, and once
more with the date_hierarchy the admin leaves out, to show what it would cost. Prints
the median time of each page, its SQL queries and the total it shows.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

USERS = 8
BATCH = 5_000
KINDS = {
    "semantic_model": lambda n: {"database": "default", "schema": "demo", "table": f"table_{n}"},
    "review": lambda n: {"question": f"Question {n} about fasting?", "documents": [n, n + 1]},
    "deep_dive": lambda n: {"objective": f"effect {n} on HbA1c", "document": n},
}
STATUSES = {"succeeded": 70, "failed": 10, "cancelled": 5, "queued": 12, "running": 3}


def create_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    server = psycopg2.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
    )
    # CREATE DATABASE cannot run inside a transaction.
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
            print(f"created database {config['NAME']}")
    server.close()


def fill(count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from jobs.engine.registry import get_kind
    from jobs.models import Job

    users = [
        get_user_model().objects.get_or_create(username=f"bench-user-{n:02d}")[0]
        for n in range(USERS)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Job._meta.db_table} CASCADE")
    rng = random.Random(42)
    now = timezone.now()
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, count)):
            kind = rng.choice(list(KINDS))
            params = KINDS[kind](n)
            status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
            created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
            job = Job(
                owner=rng.choice(users),
                kind=kind,
                params=params,
                title=get_kind(kind).title(params)[:200],
                status=status,
                created_at=created,
                priority=rng.choice([0, 0, 0, 1, 5]),
            )
            if status != "queued":
                job.started_at = created + timedelta(seconds=rng.uniform(1, 120))
                job.attempts = 1
                job.progress = 1.0 if status == "succeeded" else rng.random()
                job.stage = "done" if status == "succeeded" else "profiling"
            if status in ("succeeded", "failed", "cancelled"):
                job.finished_at = job.started_at + timedelta(seconds=rng.uniform(5, 900))
            if status == "failed":
                job.error = "The job stopped on an unexpected error."
            rows.append(job)
        Job.objects.bulk_create(rows)
    print(f"inserted {count:,} jobs in {time.perf_counter() - started:.1f} s")


def measure(client, url: str, params: dict, runs: int) -> tuple[float, int, float, str]:
    """Median milliseconds per page, queries per page, SQL ms of the last page, total shown."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm caches and the connection
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    sql_ms = sum(float(query["time"]) for query in queries) * 1000
    # The paginator's total, such as "about 99874 jobs".
    shown = re.search(r"(about )?\d+ jobs?\b", response.content.decode().split("paginator")[-1])
    return statistics.median(times), len(queries), sql_ms, shown.group(0) if shown else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database, e.g. .../longjobs_bench_admin")
    create_database(url)

    import django

    django.setup()
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from jobs.models import Job

    call_command("migrate", verbosity=0)
    if Job.objects.count() != args.jobs:
        fill(args.jobs)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Job._meta.db_table}")
    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(staff)
    changelist = reverse("admin:jobs_job_changelist")
    some_job = Job.objects.order_by("created_at")[args.jobs // 2]
    pages = {
        "unfiltered": {},
        "status=failed": {"status__exact": "failed"},
        "search username": {"q": "bench-user-03"},
        "search parameter": {"q": "table_4242"},
        "search job id": {"q": str(some_job.pk)},
        "page 50": {"p": "50"},
    }

    print(f"jobs: {Job.objects.count():,}  runs per page: {args.runs}")
    print(f"{'page':<36} {'median ms':>10} {'queries':>8} {'SQL ms':>8}  total shown")
    for name, params in pages.items():
        median, queries, sql_ms, shown = measure(client, changelist, params, args.runs)
        print(f"{name:<36} {median:10.1f} {queries:8d} {sql_ms:8.1f}  {shown}")
    job_admin = admin.site._registry[Job]
    job_admin.date_hierarchy = "created_at"
    try:
        median, queries, sql_ms, shown = measure(client, changelist, {}, args.runs)
    finally:
        job_admin.date_hierarchy = None
    name = "unfiltered + date_hierarchy (unused)"
    print(f"{name:<36} {median:10.1f} {queries:8d} {sql_ms:8.1f}  {shown}")


if __name__ == "__main__":
    main()
