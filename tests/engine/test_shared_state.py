"""Jobs run as threads of one worker process share whatever the process holds (the
segmenters, stemmers, caches, clients): a hundred and twenty jobs at once must give what
the same jobs give one at a time, to the byte."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from jobs.engine import running, submitting
from jobs.engine.registry import get_kind
from jobs.models import Job
from tests.conftest import Worker, wait_for
from tests.factories import demo_documents, make_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUESTION = "Does intermittent fasting improve glycaemic control in adults with type 2 diabetes?"
OBJECTIVE = "What did the trial measure, and how large was the effect on HbA1c?"
TABLE = "loans_for_threads"


@pytest.fixture
def small_table(demo_table):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS demo.{TABLE}")
        cursor.execute(
            f"CREATE TABLE demo.{TABLE} AS SELECT * FROM demo.loan_applications"
            " ORDER BY application_id LIMIT 400"
        )
        cursor.execute(f"ANALYZE demo.{TABLE}")
    yield {"database": "default", "schema": "demo", "table": TABLE}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS demo.{TABLE}")


def the_jobs(owner, table: dict) -> list[tuple[str, dict]]:
    documents = {doc.filename: doc for doc in demo_documents(owner)}
    review = {
        "question": QUESTION,
        "document_ids": sorted(doc.pk for doc in documents.values()),
        "mode": "precision",
    }
    deep_dive = {"document_id": documents["fasting_rct.md"].pk, "objective": OBJECTIVE}
    return [("review", review), ("deep_dive", deep_dive), ("semantic_model", table)]


def canonical(result: dict) -> str:
    return json.dumps(result, sort_keys=True, ensure_ascii=False)


def test_a_hundred_and_twenty_jobs_at_once_give_what_each_gives_alone(
    small_table, worker_env, settings, tmp_path
):
    settings.MAX_ACTIVE_JOBS_PER_USER = 200
    owner = make_user("threads")
    kinds = the_jobs(owner, small_table)
    counts = {"review": 50, "deep_dive": 50, "semantic_model": 20}
    env = {
        **worker_env,
        "AI_BASE_URL": "",  # offline: the analysis alone, nothing a model could vary
        "MAX_CONCURRENT_JOBS": "200",
        "MAX_ACTIVE_JOBS_PER_USER": "200",
        # Every CPU-bound step at once, as many as there are jobs: the most overlap.
        "JOB_CPU_SLOTS": "200",
        "JOB_CPU_SLOT_DIR": str(tmp_path / "cpu-slots"),
    }
    jobs = [
        submitting.submit(owner=owner, kind=get_kind(slug), params=params)
        for slug, params in kinds
        for _ in range(counts[slug])
    ]
    cluster = Worker(tmp_path / "qcluster.log", env).start()
    try:
        wait_for(
            lambda: not Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists(),
            timeout=240,
            interval=1,
            what="every job to end",
        )
    finally:
        cluster.stop()
    together = {slug: set() for slug in counts}
    for job in Job.objects.filter(pk__in=[j.pk for j in jobs]):
        assert job.status == Job.Status.SUCCEEDED, (job.kind, job.error)
        together[job.kind].add(canonical(job.result))

    settings.AI_BASE_URL = ""
    for slug, params in kinds:
        alone = submitting.submit(owner=owner, kind=get_kind(slug), params=params)
        assert running.run_queued_job(str(alone.pk)) == Job.Status.SUCCEEDED
        alone.refresh_from_db()
        assert together[slug] == {canonical(alone.result)}, f"a {slug} differed under threads"
