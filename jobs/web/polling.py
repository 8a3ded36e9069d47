"""The job page's poll: a URL that answers from one query, without the session's.

A full page load (with the session, as every page) mints a token for the poll URL. It is
signed with the app's secret, names the job and its owner, carries a digest of the
browser's session cookie and one of the owner's password, and expires after
JOB_POLL_TOKEN_SECONDS, a few minutes: every answer past half of that gives the page a
new one. The poll does not load the session or the user, but its one query reads the job
only together with the session's row (it must exist, be the owner's and not have
expired) and the owner's (active, and the password the token was minted under). So
another user, a copied URL in another browser, and a browser whose session was logged
out, ended from elsewhere, or outlived a password change or its user's deactivation get
nothing: a 403 that makes the page reload itself, which checks the session again.

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
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotModified
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare, salted_hmac

from jobs.engine import watching
from jobs.models import Job, UserSession

SALT = "jobs.poll"
LIVE_TEMPLATE = "jobs/job_detail.html#job-live"
# What a poll reads of the row: what the status section shows, never the result.
COLUMNS = (
    "id", "owner_id", "kind", "title", "status", "stage", "progress", "message", "error",
    "attempts", "priority", "created_at", "started_at", "finished_at", "watched_at",
)  # fmt: skip
# A raw query: the ORM's query building cost more than the query itself on every poll.
# The job's row comes only with its owner's (active) and the browser's session's (alive,
# recorded as the owner's at login: jobs/accounts/sessions.py), in one statement.
_READ = (
    f"SELECT {', '.join(f'j.{column}' for column in COLUMNS)}, u.password AS owner_password"
    f" FROM {Job._meta.db_table} j"
    f" JOIN {get_user_model()._meta.db_table} u ON u.id = j.owner_id"
    f" JOIN {UserSession._meta.db_table} us ON us.user_id = j.owner_id"
    f" JOIN {Session._meta.db_table} s ON s.session_key = us.session_key"
    " WHERE j.id = %s AND j.owner_id = %s AND u.is_active = %s"
    " AND us.session_key = %s AND s.expire_date > %s"
)


def _cookie_digest(session_key: str | None) -> str:
    # Only a digest: the session key itself must not appear in URLs or logs.
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:24]


def _password_digest(password_hash: str) -> str:
    """Changes with the password, as Django's session auth hash does."""
    return salted_hmac(SALT, password_hash, algorithm="sha256").hexdigest()[:16]


def token(job, session_key: str, password_hash: str) -> str:
    value = (
        f"{job.pk}:{job.owner_id}:{_cookie_digest(session_key)}:{_password_digest(password_hash)}"
    )
    return signing.TimestampSigner(salt=SALT).sign(value)


def url(job, session_key: str, password_hash: str) -> str:
    """The poll URL for this job, this browser and this password, good for a few minutes."""
    # A signed value's characters (letters, digits, -_:) need no quoting in a query.
    return f"{reverse('jobs:status', args=[job.pk])}?t={token(job, session_key, password_hash)}"


class Pass:
    """What a poll's token vouches for: whose job, under which password, and whether the
    page is due a new token."""

    __slots__ = ("owner_id", "password_digest", "session_key", "stale")

    def __init__(self, owner_id: int, password_digest: str, session_key: str, stale: bool):
        self.owner_id = owner_id
        self.password_digest = password_digest
        self.session_key = session_key
        self.stale = stale


def check(job_id, token: str, session_key: str | None) -> Pass | None:
    """What the token vouches for, for this job and this browser's session; None if it
    is forged, expired, for another job, or from another browser."""
    if not token or not session_key:
        return None
    lifetime = settings.JOB_POLL_TOKEN_SECONDS
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=lifetime)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    parts = value.split(":")
    if len(parts) != 4:
        return None
    signed_job, owner, digest, password_digest = parts
    if signed_job != str(job_id) or not constant_time_compare(digest, _cookie_digest(session_key)):
        return None
    signed_at = signing.b62_decode(token.rsplit(":", 2)[1])
    return Pass(int(owner), password_digest, session_key, time.time() - signed_at > lifetime / 2)


def requested(request: HttpRequest, job_id) -> Pass | None:
    """What a poll request's token and session cookie vouch for, if they do."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return check(job_id, request.GET.get("t", ""), session_key)


def read(job_id, granted: Pass) -> Job | None:
    """The job's shown columns, if it is the owner's, the owner is active under the
    password the token was minted with, and the browser's session is still theirs and
    alive: one query."""
    pk = Job._meta.pk.get_db_prep_value(job_id, connection)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [pk, granted.owner_id, True, granted.session_key, now]
    job = next(iter(Job.objects.raw(_READ, params)), None)
    if job is None:
        return None
    # Kept aside (not a column the page shows), to mint the page's next token.
    job._owner_password = job.__dict__.pop("owner_password")
    if not constant_time_compare(_password_digest(job._owner_password), granted.password_digest):
        return None
    return job


def poll_url(job: Job, granted: Pass, request: HttpRequest) -> str:
    """The URL the page polls next: the same, or a new one once half its time is gone."""
    if not granted.stale:
        return request.get_full_path()
    return url(job, granted.session_key, job._owner_password)


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


# A job that started later than this after its submission waited in line: a busy moment.
QUICK_START = timedelta(seconds=1)


def poll_seconds(job: Job) -> float:
    """How often the page of a job asks for news: every second when the job has just
    started, then less often as it runs on, up to JOB_POLL_SECONDS: a tenth of the time
    it has run so far. A job that takes a second shows its result a second later, not
    JOB_POLL_SECONDS later, and a ticking stage timer overruns its real end by as little,
    while a long job's page still polls at the usual pace.

    Only for a job a worker took up at once: one that waited in line started in a busy
    moment, a burst of hundreds, whose pages polling every second would triple the
    server's load just when it has the least to spare (docs/benchmarks.md, 6.4)."""
    slowest = settings.JOB_POLL_SECONDS
    if not _taken_up_at_once(job):
        return slowest
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return float(min(slowest, max(1, int(elapsed // 10))))


def first_poll_soon(job: Job, ahead: int | None) -> bool:
    """Whether a page opening on the job asks for news after a second rather than after
    poll_seconds: for a job that may start or end in the next second, the next in line
    or one a worker took up at once a moment ago, so that it does not look stuck.

    Not in a busy moment, for the reason poll_seconds gives: a job with others ahead of
    it in line, or one that waited there before it started. In a burst of hundreds those
    soon polls were half the requests of its first seconds, when the pages load too
    (docs/benchmarks.md, 6.11), and showed little: the place in line, which the
    page's next poll shows as well."""
    if job.status == Job.Status.QUEUED:
        return not ahead
    if not _taken_up_at_once(job):
        return False
    return timezone.now() - job.started_at < timedelta(seconds=settings.JOB_POLL_SECONDS)


def _taken_up_at_once(job: Job) -> bool:
    """A running job a worker started within QUICK_START of its submission."""
    return (
        job.status == Job.Status.RUNNING
        and job.started_at is not None
        and job.started_at - job.created_at <= QUICK_START
    )


def _rest_of(tag: str) -> str:
    return tag.strip().strip('"').partition(".")[0]


def answer(
    request: HttpRequest, job: Job, granted: Pass, ahead: int | None = None
) -> HttpResponse | None:
    """A 304 if the page shows the job as it is, or the live part alone if only that
    changed (or the page is due a new token); None if the rest of the status section must
    change too."""
    watching.mark(job)
    tag = etag(job, ahead)
    shown = request.headers.get("If-None-Match", "")
    if shown == tag and not granted.stale:
        response = HttpResponseNotModified()
    elif shown and _rest_of(shown) == _rest_of(tag):
        context = live_context(job, poll_url(job, granted, request), tag, ahead)
        response = HttpResponse(render_to_string(LIVE_TEMPLATE, context))
    else:
        return None
    return cacheable(response, tag)


def cacheable(response: HttpResponse, tag: str) -> HttpResponse:
    response["ETag"] = tag
    # Kept by the browser, but asked again each time: the 304 is the cheap answer.
    response["Cache-Control"] = "private, no-cache"
    # Whose answer it is depends on the session cookie.
    patch_vary_headers(response, ("Cookie",))
    return response


REFUSED = (
    "This status link no longer answers: the session it was opened in has ended, or it "
    "has expired. Reload the page (you may be asked to log in again)."
)


def refused() -> HttpResponse:
    """A poll the token or the session does not hold up: the page reloads itself through
    the session's checks (a new token, or the login page)."""
    response = HttpResponseForbidden(REFUSED, content_type="text/plain; charset=utf-8")
    response["HX-Refresh"] = "true"
    patch_vary_headers(response, ("Cookie",))
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
