"""What the throughput benchmark runs: a bare django-q2 task and a job kind that does
nothing, so that only the cost of the job lifecycle is measured."""

from __future__ import annotations

from django import forms

from jobs.engine.registry import JobKind, Stage


def bare_task() -> None:
    return None


class NoopForm(forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def to_params(self) -> dict:
        return {}


def run(ctx, params: dict) -> dict:
    ctx.stage("nothing")
    return {}


KIND = JobKind(
    slug="noop",
    label="No-op",
    description="Does nothing: for benchmarks.",
    form_class=NoopForm,
    stages=(Stage("nothing", "Nothing"),),
    run=run,
    result_template="jobs/results/semantic_model.html",
)
