"""The job page's poll: a URL that answers from one query, without the session's.

A full page load (with the session, as every page) mints a token for the poll URL. It is
signed with the app's secret, names the job and its owner, carries a digest of the
browser's session cookie, and expires after JOB_POLL_TOKEN_SECONDS. So the poll needs
no session or user lookup, yet another user, a logged-out browser (its session cookie is
gone) or a copied URL in another browser get nothing; an expired token makes the page
reload itself, which checks the session again.

The page shows a job in two parts: the live part (status line, progress bar, message),
which is what changes from one poll to the next while a stage runs, and the rest (the
stages with their times, the result, the actions), which changes only when the job moves
to another stage, another attempt or its end. The fragment's ETag has one half for
each, so a poll answers with a 304 when nothing changed, with the live part alone
(one query, one small template) when only the progress moved, and otherwise with the
whole status section (jobs/web/views.py). `answer()` gives the first two; the view and
the WSGI shortcut (jobs/web/shortcut.py) both call it.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from jobs.engine import watching
from jobs.models import Job

SALT = "jobs.poll"
LIVE_TEMPLATE = "jobs/job_detail.html#job-live"
# What a poll reads of the row: what the status section shows, never the result.
COLUMNS = (
    "id", "owner_id", "kind", "title", "status", "stage", "progress", "message", "error",
    "attempts", "priority", "created_at", "started_at", "finished_at", "watched_at",
)  # fmt: skip
# A raw query: the ORM's query building cost more than the query itself on every poll.
_READ = f"SELECT {', '.join(COLUMNS)} FROM jobs_job WHERE id = %s AND owner_id = %s"


def _cookie_digest(session_key: str | None) -> str:
    # Only a digest: the session key itself must not appear in URLs or logs.
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:24]


def token(job, session_key: str) -> str:
    value = f"{job.pk}:{job.owner_id}:{_cookie_digest(session_key)}"
    return signing.TimestampSigner(salt=SALT).sign(value)


def owner_of(job_id, token: str, session_key: str | None) -> int | None:
    """The owner's id the token vouches for, for this job and this browser's session;
    None if it is forged, expired, for another job, or from another browser."""
    if not token or not session_key:
        return None
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=settings.JOB_POLL_TOKEN_SECONDS
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None
    signed_job, _, rest = value.partition(":")
    owner, _, digest = rest.partition(":")
    if signed_job != str(job_id) or not constant_time_compare(digest, _cookie_digest(session_key)):
        return None
    return int(owner)


def requested_owner(request: HttpRequest, job_id) -> int | None:
    """The owner a poll request's token and session cookie vouch for, if they do."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return owner_of(job_id, request.GET.get("t", ""), session_key)


def read(job_id, owner_id: int) -> Job | None:
    """The job's shown columns, if it is this owner's: one query."""
    pk = Job._meta.pk.get_db_prep_value(job_id, connection)
    return next(iter(Job.objects.raw(_READ, [pk, owner_id])), None)


def _digest(values: tuple) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def etag(job: Job, ahead: int | None = None) -> str:
    """What the status section shows of the row, as an entity tag of two halves: the
    rest of the section, then the live part (with a queued job's place in line and how
    often it polls, so a 304 never keeps a stale interval). The
    elapsed time is in neither: the page counts it itself, from the timestamps shown."""
    rest = _digest((job.status, job.stage, job.attempts, job.started_at, job.finished_at))
    live = _digest((job.percent, job.message, ahead, poll_seconds(job)))
    return f'"{rest}.{live}"'


def poll_seconds(job: Job) -> float:
    """How often the page of a job asks for news: every second when the job has just
    started, then less often as it runs on, up to JOB_POLL_SECONDS: a tenth of the time
    it has run so far. A job that takes a second shows its result a second later, not
    JOB_POLL_SECONDS later, and a ticking stage timer overruns its real end by as little,
    while a long job's page still polls at the usual pace."""
    slowest = settings.JOB_POLL_SECONDS
    if job.status != Job.Status.RUNNING or job.started_at is None:
        return slowest
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return float(min(slowest, max(1, int(elapsed // 10))))


def _rest_of(tag: str) -> str:
    return tag.strip().strip('"').partition(".")[0]


def answer(request: HttpRequest, job: Job, ahead: int | None = None) -> HttpResponse | None:
    """A 304 if the page shows the job as it is, or the live part alone if only that
    changed; None if the rest of the status section must change too."""
    watching.mark(job)
    tag = etag(job, ahead)
    shown = request.headers.get("If-None-Match", "")
    if shown == tag:
        response = HttpResponseNotModified()
    elif shown and _rest_of(shown) == _rest_of(tag):
        context = live_context(job, request.get_full_path(), tag, ahead)
        response = HttpResponse(render_to_string(LIVE_TEMPLATE, context))
    else:
        return None
    return cacheable(response, tag)


def cacheable(response: HttpResponse, tag: str) -> HttpResponse:
    response["ETag"] = tag
    # Kept by the browser, but asked again each time: the 304 is the cheap answer.
    response["Cache-Control"] = "private, no-cache"
    return response


def live_context(job: Job, poll_url: str, tag: str, ahead: int | None) -> dict:
    return {
        "job": job,
        "poll_seconds": poll_seconds(job),
        "poll_url": poll_url,
        # Sent back with the next poll (If-None-Match), which then gets a 304 and leaves
        # the fragment as it is while nothing it shows has changed.
        "etag": tag,
        "poll_headers": json.dumps({"If-None-Match": tag}),
        "ahead": ahead,
    }
