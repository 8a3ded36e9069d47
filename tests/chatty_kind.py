"""A test kind that reports many messages within a stage: what a stage's log keeps of them."""

from __future__ import annotations

from django import forms

from jobs.engine.context import JobContext
from jobs.engine.registry import JobKind, Stage


class ChattyForm(forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


def talk(ctx: JobContext, params: dict) -> dict:
    """Says each of `params["messages"]` in the talking stage, half of them as progress."""
    ctx.stage("talking", "Clearing its throat…")
    messages = params["messages"]
    for index, text in enumerate(messages):
        if index % 2:
            ctx.message(text)
        else:
            ctx.progress((index + 1) / len(messages), text)
    ctx.stage("done")
    return {"said": len(messages)}


KIND = JobKind(
    slug="chatty",
    label="Chatty",
    description="Says what it is told to, within one stage.",
    form_class=ChattyForm,
    stages=(Stage("talking", "Talking"), Stage("done", "Done")),
    run=talk,
    result_template="jobs/results/semantic_model.html",
)
