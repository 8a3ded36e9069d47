"""The job page's poll, answered in front of Django's middleware when it can be.

Every open job page asks for its status every few seconds, so polls are most of what the
web server answers. The signed poll URL needs neither the session middleware nor the
user's (jobs/web/polling.py: its one query checks both with the job), and its common
answers, a 304 or the live part of an active job, need nothing of the middleware that
loads them: this WSGI middleware gives those from `polling.answer()`, as the view would,
with the headers that Django's security, CSP and clickjacking middleware add. A query
string Django would refuse (too many fields) is refused here with the same 400, since
nothing would catch the error in front of Django. Anything else goes on to Django
unchanged: another method or path, a host outside ALLOWED_HOSTS, plain HTTP where HTTPS
is required, a token or session that does not hold, a job that has ended, a new
stage or status (the whole section to render), a database error. The row read here goes
along, so the view does not read it again.
"""

from __future__ import annotations

import re
import time
import uuid

from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponseBadRequest
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse

from jobs.engine import line
from jobs.models import Job
from jobs.web import polling

# Where the row read here waits for the view, in the WSGI environ (no header can set it).
READ_KEY = "jobs.poll.job"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _connection_needs_care() -> bool:
    """Whether this thread's database connection is due the checks that Django's handler
    makes around each request (close_old_connections): after an error, or past its
    CONN_MAX_AGE. Django's handler then answers, and makes them. Otherwise the shortcut
    uses the connection as it is: a broken one fails the query, which goes to Django too.
    Skipping the per-request health check (a SELECT 1) saves a round trip per poll."""
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

    def __call__(self, environ, start_response):
        match = self.path.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "GET" or _connection_needs_care():
            return self.app(environ, start_response)
        response = self.answer(environ, uuid.UUID(match["pk"]))
        if response is None:
            return self.app(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        # Not the response itself: its close() would send request_finished, whose
        # connection check costs a query on the next poll (see _connection_needs_care).
        return [response.content]

    def answer(self, environ, pk: uuid.UUID):
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
                response = polling.answer(request, job, granted, ahead)
        except DatabaseError:
            return None  # Django's handler answers, and logs it
        if response is None:
            if job is not None:
                environ[READ_KEY] = job
            return None
        return self.headed(request, response)

    def headed(self, request, response):
        """With the headers Django's middleware gives every answer."""
        response = self.security.process_response(request, response)
        response = self.csp.process_response(request, response)
        return self.frames.process_response(request, response)


def job_read(request: HttpRequest, pk, granted: polling.Pass) -> Job | None:
    """The row the shortcut read for this poll, if it did."""
    job = request.META.get(READ_KEY)
    if job is not None and job.pk == pk and job.owner_id == granted.owner_id:
        return job
    return None
