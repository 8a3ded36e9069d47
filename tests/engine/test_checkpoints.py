"""A step's checkpoint: saved once computed, reused by a later attempt, and written
together with its neighbours inside `checkpoints_together` however the block ends."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.engine.context import JobCancelled, JobContext
from jobs.engine.registry import get_kind
from jobs.engine.worker import claiming
from jobs.models import Job, JobCheckpoint
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kinds(settings):
    settings.JOB_KIND_MODULES = ["tests.kinds_for_tests"]


def context() -> JobContext:
    job = claiming.claim(str(make_job(make_user(), kind="primes", params={"n": 5}).pk))
    return JobContext(job, get_kind("primes"), write_interval=0)


def saved(ctx: JobContext) -> dict:
    return dict(JobCheckpoint.objects.filter(job_id=ctx.job_id).values_list("key", "value"))


def test_a_checkpoint_is_written_at_once_and_reused_by_the_next_attempt():
    ctx = context()

    assert ctx.checkpoint("a", lambda: {"n": 1}) == {"n": 1}
    assert saved(ctx) == {"a": {"n": 1}}
    Job.objects.filter(pk=ctx.job_id).update(attempts=2)
    again = JobContext(Job.objects.get(pk=ctx.job_id), get_kind("primes"), write_interval=0)

    assert again.checkpoint("a", lambda: pytest.fail("computed again")) == {"n": 1}
    assert again.reused == 1


def test_steps_inside_the_block_are_written_together_in_one_statement():
    ctx = context()

    with CaptureQueriesContext(connection) as queries, ctx.checkpoints_together():
        for step in range(7):
            ctx.checkpoint(f"step{step}", lambda step=step: {"step": step})
        written_inside = len(queries)

    assert written_inside == 0, "nothing written while the steps run"
    statements = [q["sql"] for q in queries if "jobs_jobcheckpoint" in q["sql"]]
    assert len(statements) == 1 and statements[0].startswith("INSERT"), statements
    assert saved(ctx) == {f"step{step}": {"step": step} for step in range(7)}


def test_a_cancel_inside_the_block_keeps_the_steps_finished_before_it():
    ctx = context()

    with pytest.raises(JobCancelled), ctx.checkpoints_together():
        ctx.checkpoint("first", lambda: 1)
        ctx.checkpoint("second", lambda: 2)
        raise JobCancelled("cancelled by its owner")

    assert saved(ctx) == {"first": 1, "second": 2}
