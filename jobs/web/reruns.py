"""When "Run again" asks first: a job that reads a lot of text, or whose last run took
long, is not started again on one tap without a word about what it costs."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat

from jobs.models import Document, Job

# About a megabyte of text: a deep dive over it runs for minutes.
BIG_INPUT_CHARS = 1_000_000
LONG_RUN_SECONDS = 60


def reasons_to_ask(job: Job) -> list[str]:
    """Why running `job` again deserves a confirmation; empty when it does not."""
    reasons = []
    # The document kinds name their documents in their params (one or many).
    params = job.params or {}
    ids = params.get("document_ids") or ([params["document_id"]] if "document_id" in params else [])
    if ids:
        sizes = (
            Document.objects.for_user(job.owner).filter(pk__in=ids).values_list("chars", flat=True)
        )
        chars = sum(sizes)
        if chars >= BIG_INPUT_CHARS:
            reasons.append(f"It reads {chars:,} characters of text ({filesizeformat(chars)}).")
    if job.started_at and job.finished_at:
        seconds = (job.finished_at - job.started_at).total_seconds()
        if seconds >= LONG_RUN_SECONDS:
            reasons.append(f"Its last run took {_minutes(seconds)}.")
    return reasons


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return "about a minute" if minutes <= 1 else f"about {minutes} minutes"
