"""The job page's status section: what it shows, for the page and for the poll that
brings a new stage or status, whether Django's handler or the WSGI shortcut in front of
it (jobs/web/shortcut.py) answers that poll."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.engine import line
from jobs.engine.registry import get_kind, stage_states
from jobs.engine.timeline import timeline
from jobs.models import Job, JobEvent
from jobs.web import polling

TEMPLATE = "jobs/job_detail.html#job-status"


def status_context(job: Job, poll_url: str, ahead: int | None = None) -> dict:
    kind = get_kind(job.kind)
    if ahead is None:
        ahead = line.place_in_line(job)
    tag = polling.etag(job, ahead)
    times = timeline(job)
    return {
        **polling.live_context(job, poll_url, tag, ahead),
        "kind": kind,
        "stages": (
            stage_states(kind, job.status, job.stage, times.times, times.log) if kind else []
        ),
        "history": attempts(job),
    }


def attempts(job: Job):
    """Each attempt's start and end, which the section lists for a job tried more than
    once. Not even built for the others: a queryset's building costs a tenth of a poll."""
    if job.attempts <= 1:
        return ()
    return job.events.filter(type=JobEvent.Type.STATUS).exclude(name="queued")


ENDINGS = {
    Job.Status.SUCCEEDED: "The job succeeded.",
    Job.Status.FAILED: "The job failed.",
    Job.Status.CANCELLED: "The job was cancelled.",
}


def announcement(job: Job, stages) -> str:
    """What screen readers hear when a poll brings a new stage or the job's end."""
    if job.status in ENDINGS:
        return ENDINGS[job.status]
    current = next((item.stage.label for item in stages if item.state == "current"), "")
    return f"Now: {current}." if current else ""


def section(
    request: HttpRequest, job: Job, granted: polling.Pass, ahead: int | None
) -> HttpResponse:
    """The poll's answer when more than the live part changed: the whole section, which
    replaces the one on the page."""
    context = status_context(job, polling.poll_url(job, granted, request), ahead)
    context["announce"] = announcement(job, context["stages"])
    response = render(request, TEMPLATE, context)
    # The request came from the live part, inside the section it replaces.
    response["HX-Retarget"] = "#job-status"
    response["HX-Reswap"] = "outerHTML"
    return polling.cacheable(response, context["etag"])
