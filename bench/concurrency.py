"""Concurrency of waiting jobs: deep dives that each wait about a minute on a slow local
OpenAI-compatible server. How many run at once, and what one running job costs.

    .venv/bin/python bench/concurrency.py [--jobs 40] [--stream-seconds 60]

Starts the fake provider (tests/fake_openai.py) streaming each answer over
--stream-seconds, a qcluster with one worker per job, submits --jobs deep dives, and
samples the running count, the memory of the cluster's processes (RSS and PSS from
/proc/<pid>/smaps_rollup, so shared pages count once) and PostgreSQL's connections.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from stack import machine, qcluster, setup_django, tree, wait_until


def memory_kib(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    args = parser.parse_args()
    setup_django("longjobs_bench_concurrency", LOG_LEVEL="WARNING")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from jobs.engine import submitting
    from jobs.engine.registry import get_kind
    from jobs.models import Document, Job
    from tests.fake_openai import FakeOpenAI, Script

    chunks = 60
    script = Script(answer="A steady answer. " * chunks, chunks=chunks)
    script.delay = args.stream_seconds / chunks
    logs = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    print(f"machine: {machine()}")
    print(f"{args.jobs} deep dives, each streaming for {args.stream_seconds:.0f} s; logs in {logs}")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        print(f"PostgreSQL max_connections: {cursor.fetchone()[0]}")

    with FakeOpenAI(script=script) as provider:
        env = {
            "AI_BASE_URL": provider.base_url,
            "AI_API_KEY": "sk-bench",
            "AI_MODEL": "bench-model",
            "AI_TIMEOUT_SECONDS": "30",
            "Q_WORKERS": str(args.jobs),
            "MAX_CONCURRENT_JOBS": str(args.jobs),
        }
        settings.MAX_ACTIVE_JOBS_PER_USER = args.jobs
        owner = get_user_model().objects.create(username="waiter")
        document = Document.objects.create(
            owner=owner,
            title="Trial",
            text="Methods: a randomised trial of 120 adults. Results: HbA1c fell by 0.4%.",
        )
        kind = get_kind("deep_dive")
        with qcluster(logs / "qcluster.log", **env) as cluster:
            wait_until(lambda: len(tree(cluster.pid)) >= args.jobs + 3, 120, what="workers")
            time.sleep(2)
            idle_rss, idle_pss = memory_kib(tree(cluster.pid))
            print(f"idle cluster: {len(tree(cluster.pid))} processes, "
                  f"RSS {idle_rss / 1024:.0f} MiB, PSS {idle_pss / 1024:.0f} MiB")  # fmt: skip
            started = time.monotonic()
            for n in range(args.jobs):
                submitting.submit(
                    owner=owner,
                    kind=kind,
                    params={"document_id": document.pk, "objective": f"effect {n}"},
                )
            peak = {"running": 0, "rss": 0, "pss": 0, "connections": 0}
            while time.monotonic() - started < args.stream_seconds * 3 + 120:
                running = Job.objects.filter(status=Job.Status.RUNNING).count()
                if running >= peak["running"]:
                    rss, pss = memory_kib(tree(cluster.pid))
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT count(*) FROM pg_stat_activity")
                        connections = cursor.fetchone()[0]
                    peak.update(running=running, rss=rss, pss=pss, connections=connections)
                if not Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists():
                    break
                time.sleep(1)
            elapsed = time.monotonic() - started
    done = Job.objects.filter(status=Job.Status.SUCCEEDED).count()
    extra_pss = (peak["pss"] - idle_pss) / max(1, peak["running"])
    print(f"peak running at once: {peak['running']} of {args.jobs}")
    print(f"all ended after {elapsed:.0f} s; succeeded {done}, "
          f"other {args.jobs - done}")  # fmt: skip
    print(f"cluster memory at the peak: RSS {peak['rss'] / 1024:.0f} MiB, "
          f"PSS {peak['pss'] / 1024:.0f} MiB")  # fmt: skip
    per_job = peak["pss"] / max(1, peak["running"]) / 1024
    print(f"per running job: PSS {per_job:.1f} MiB (its worker process), "
          f"of which {extra_pss / 1024:.1f} MiB over an idle worker")  # fmt: skip
    print(f"PostgreSQL connections at the peak: {peak['connections']}")
    print(f"400 jobs at this rate: {400 * per_job / 1024:.1f} GiB of worker memory, "
          f"and about {2 * 400} database connections")  # fmt: skip


if __name__ == "__main__":
    main()
