"""The job page's poll, answered in front of Django's middleware when it can be.

Every open job page asks for its status every few seconds, so polls are most of what the
web server answers. The signed poll URL needs neither the session middleware nor the
user's (jobs/web/polling.py: its one query checks both with the job), and an active
job's answers, a 304, the live part or the whole status section when the job moved to
another stage or status, need nothing of the middleware that loads them: this WSGI
middleware gives those from `polling.answer()` and `status.section()`, as the view
would, with the headers that Django's security, CSP, clickjacking and CSRF middleware
add (the section holds the cancel form's CSRF token, and sets the cookie as Django
does). In a burst's first seconds most polls bring a new status or stage; through
Django's handler each cost a quarter more of the web's CPU (docs/benchmarks.md, 6.7). A
query string Django would refuse (too many fields) is refused here with the same 400,
since nothing would catch the error in front of Django. Anything else goes on to Django
unchanged: another method or path, a host outside ALLOWED_HOSTS, plain HTTP where HTTPS
is required, a token or session that does not hold, a job that has ended (its result
is read and shown by the view), a database error. The row read here goes along, so the
view does not read it again.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponseBadRequest
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse, set_script_prefix
from django_htmx.middleware import HtmxDetails

from jobs.engine import line
from jobs.models import Job
from jobs.web import polling, status

logger = logging.getLogger(__name__)

# Where the row read here waits for the view, in the WSGI environ (no header can set it).
READ_KEY = "jobs.poll.job"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _connection_needs_care() -> bool:
    """Whether this thread's database connection is due the checks that Django's handler
    makes around each request (close_old_connections): after an error, or past its
    CONN_MAX_AGE. Django's handler then answers, and makes them. Otherwise the shortcut
    uses the connection as it is: a broken one fails the query, which goes to Django too.
    Skipping the per-request health check saves its work on every poll (a look at the
    socket, or a SELECT 1 when something is there: jobs/lib/postgresql/base.py)."""
    close_at = connection.close_at
    return connection.errors_occurred or (close_at is not None and time.monotonic() >= close_at)


def _not_called(request):  # the middleware below only process responses here
    raise AssertionError("the shortcut's middleware has no view to call")


class StatusShortcut:
    def __init__(self, app):
        self.app = app
        sample = str(uuid.UUID(int=0))
        before, _, after = reverse("jobs:status", args=[sample]).partition(sample)
        self.path = re.compile(f"{re.escape(before)}(?P<pk>{_UUID}){re.escape(after)}")
        self.security = SecurityMiddleware(_not_called)
        self.frames = XFrameOptionsMiddleware(_not_called)
        self.csp = ContentSecurityPolicyMiddleware(_not_called)
        self.csrf = CsrfViewMiddleware(_not_called)

    def __call__(self, environ, start_response):
        match = self.path.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "GET" or _connection_needs_care():
            return self.app(environ, start_response)
        response = self.answer(environ, uuid.UUID(match["pk"]))
        if response is None:
            return self.app(environ, start_response)
        headers = [
            *response.items(),
            *(("Set-Cookie", cookie.OutputString()) for cookie in response.cookies.values()),
        ]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        # Not the response itself: its close() would send request_finished, which makes
        # the next poll's connection due a health check (see _connection_needs_care).
        return [response.content]

    def answer(self, environ, pk: uuid.UUID):
        # As Django's handler does: the section's links carry a deployment's sub-path.
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if self.security.process_request(request) is not None:  # a redirect to HTTPS
            return None
        self.csp.process_request(request)
        try:
            granted = polling.requested(request, pk)
        except SuspiciousOperation as error:  # TooManyFieldsSent and the like
            return self.headed(
                request,
                HttpResponseBadRequest(
                    f"Bad request: {error}", content_type="text/plain; charset=utf-8"
                ),
            )
        if granted is None:
            return None
        try:
            job = polling.read(pk, granted)
            if job is None or not job.is_active:
                response = None
            else:
                ahead = line.place_in_line(job)
                response = polling.answer(request, job, granted, ahead) or self.section(
                    request, job, granted, ahead
                )
        except DatabaseError:
            return None  # Django's handler answers, and logs it
        if response is None:
            if job is not None:
                environ[READ_KEY] = job
            return None
        return self.headed(request, response)

    def section(self, request, job: Job, granted: polling.Pass, ahead: int | None):
        """The whole status section, with what the middleware in front of the view gives
        its template: the CSRF cookie's secret and the htmx details. None if rendering it
        fails: Django's handler then renders it again and reports the error as it does
        any view's."""
        self.csrf.process_request(request)
        request.htmx = HtmxDetails(request)
        try:
            response = status.section(request, job, granted, ahead)
        except Exception:
            # Logged, so that a failure of this path alone (which Django's then hides, at
            # the cost of a second render on every such poll) does not go unseen.
            logger.exception("The poll shortcut could not render job %s's section", job.pk)
            return None
        return self.csrf.process_response(request, response)

    def headed(self, request, response):
        """With the headers Django's middleware gives every answer."""
        response = self.security.process_response(request, response)
        response = self.csp.process_response(request, response)
        response = self.frames.process_response(request, response)
        if not response.has_header("Content-Length"):  # as CommonMiddleware does
            response.headers["Content-Length"] = str(len(response.content))
        return response


def job_read(request: HttpRequest, pk, granted: polling.Pass) -> Job | None:
    """The row the shortcut read for this poll, if it did."""
    job = request.META.get(READ_KEY)
    if job is not None and job.pk == pk and job.owner_id == granted.owner_id:
        return job
    return None
