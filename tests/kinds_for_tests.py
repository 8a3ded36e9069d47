"""Small job kinds that exercise the engine's paths: success, readable failure, a crash."""

from __future__ import annotations

from django import forms

from jobs.engine.context import JobContext, JobError
from jobs.engine.registry import JobKind, Stage


class CountForm(forms.Form):
    n = forms.IntegerField(min_value=1, max_value=10_000)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def to_params(self) -> dict:
        return {"n": self.cleaned_data["n"]}


def count_primes(ctx: JobContext, params: dict) -> dict:
    ctx.stage("counting")
    found = ctx.checkpoint("counted", lambda: primes_up_to(ctx, params["n"]))
    ctx.stage("reporting")
    if params.get("fail"):
        raise JobError("There were too many primes to report.")
    if params.get("crash"):
        raise ZeroDivisionError("division by zero")
    return {"primes": len(found)}


def primes_up_to(ctx: JobContext, n: int) -> list[int]:
    found = []
    for number in range(2, n + 1):
        if all(number % p for p in found if p * p <= number):
            found.append(number)
        ctx.progress(number / n, f"checked {number}")
    return found


KIND = JobKind(
    slug="primes",
    label="Primes",
    description="Counts primes up to n.",
    form_class=CountForm,
    stages=(Stage("counting", "Counting", 3), Stage("reporting", "Reporting", 1)),
    run=count_primes,
    result_template="jobs/results/semantic_model.html",
    partial=lambda params, saved: {"primes": len(saved["counted"])} if saved else None,
)
