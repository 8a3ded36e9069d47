"""Asking the model from a job: the stage's progress moves while the answer streams."""

from __future__ import annotations

import pytest

from jobs.engine.context import DirectSink, JobContext
from jobs.engine.registry import get_kind
from jobs.kinds.asking import ask
from jobs.models import Job
from tests.factories import make_job
from tests.fake_openai import fake_openai, split  # noqa: F401

pytestmark = pytest.mark.django_db


class RecordingSink(DirectSink):
    """Writes as usual, and keeps the progress of each write."""

    def __init__(self):
        self.progress: list[float] = []

    def write(self, job_id, fields: dict) -> bool:
        self.progress.append(fields["progress"])
        return super().write(job_id, fields)


def test_progress_moves_towards_its_goal_as_chunks_arrive(user, fake_openai):  # noqa: F811
    fake_openai.script.chunks = 10
    job = make_job(user, status=Job.Status.RUNNING, attempts=1)
    sink = RecordingSink()
    kind = get_kind("semantic_model")
    ctx = JobContext(job, kind, write_interval=0, sink=sink)
    ctx.stage("describing")
    ctx.progress(0.2)
    before = list(sink.progress)

    answer = ask(ctx, "Describing", "system", "user", until=0.6, expected=20)

    assert answer
    during = sink.progress[len(before) :]
    assert len(during) >= 5, "a write per chunk, at least"
    assert during == sorted(during), "never backwards"
    # The chunks received of the twenty expected: that share of the way from 0.2 to 0.6.
    chunks = len(split(fake_openai.script.answer, 10))
    assert ctx.stage_fraction == pytest.approx(0.2 + 0.4 * chunks / 20)
    assert during[-1] > before[-1]


def test_a_lower_fraction_never_moves_the_bar_back(user):
    job = make_job(user, status=Job.Status.RUNNING, attempts=1)
    ctx = JobContext(job, get_kind("semantic_model"), write_interval=0)
    ctx.stage("profiling")
    ctx.progress(0.7)
    ctx.progress(0.3, "a step that restarted its count")

    job.refresh_from_db()
    assert ctx.stage_fraction == 0.7
    assert job.message == "a step that restarted its count"
