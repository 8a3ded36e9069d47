"""A job's stage times and log, read from its own events only, in the order they
happened, from many web threads at once as from one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.engine.timeline import timeline
from jobs.models import Job, JobEvent
from tests.conftest import at_once
from tests.factories import make_job

pytestmark = pytest.mark.django_db(transaction=True)


def running_job_with_events(stages: list[str]) -> Job:
    job = make_job(status=Job.Status.RUNNING, attempts=1, started_at=timezone.now())
    start = timezone.now()
    for index, stage in enumerate(stages):
        JobEvent.objects.create(
            job=job, type=JobEvent.Type.STAGE, name=stage, attempt=1,
            at=start + timedelta(seconds=index),
        )  # fmt: skip
    # Two messages at the same instant: the order they were written in breaks the tie.
    moment = start + timedelta(seconds=len(stages) - 1)
    for text in ("first", "second"):
        JobEvent.objects.create(
            job=job, type=JobEvent.Type.MESSAGE, name=stages[-1], message=text, attempt=1,
            at=moment,
        )  # fmt: skip
    job.refresh_from_db()
    return job


def test_a_job_reads_its_own_events_in_order_in_one_query():
    mine = running_job_with_events(["connecting", "profiling"])
    running_job_with_events(["connecting", "sampling", "profiling"])

    with CaptureQueriesContext(connection) as queries:
        seen = timeline(mine)

    assert len(queries) == 1
    assert list(seen.times) == ["connecting", "profiling"]
    assert seen.times["profiling"][1] is None  # the stage it is in
    assert [entry.message for entry in seen.log["profiling"]] == ["", "first", "second"]
    assert "sampling" not in seen.log


def test_many_threads_at_once_read_what_one_reads_alone():
    jobs = [running_job_with_events(["connecting", "profiling"][: 1 + n % 2]) for n in range(6)]
    alone = [timeline(job) for job in jobs]

    results = at_once(12, lambda: [timeline(job) for job in jobs * 5])

    assert len(results) == 12
    assert all(seen == alone * 5 for seen in results)
