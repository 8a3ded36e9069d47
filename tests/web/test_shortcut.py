"""The WSGI shortcut in front of Django for the job page's polls (jobs/web/shortcut.py):
it answers the common polls exactly as the view would, and hands everything else on."""

from __future__ import annotations

import io
import re
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import timezone

import wsgi
from jobs.engine import line
from jobs.models import Job
from jobs.web import status as status_section
from jobs.web.shortcut import READ_KEY, StatusShortcut
from tests.factories import make_job
from tests.web.test_polling import live, poll_url

pytestmark = pytest.mark.django_db


class Behind:
    """The app behind the shortcut, standing in for Django: it notes what it was given."""

    def __init__(self):
        self.environs = []

    def __call__(self, environ, start_response):
        self.environs.append(environ)
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [b"django"]


def get(
    app, url: str, cookie: str, csrf: str = "", environ: dict | None = None, **headers
) -> tuple[int, dict, bytes]:
    """A request as a WSGI server hands it on: the session cookie, the CSRF cookie if
    given, more of the environ and HTTP headers by name."""
    path, _, query = url.partition("?")
    cookies = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    if csrf:
        cookies += f"; {settings.CSRF_COOKIE_NAME}={csrf}"
    environ = {
        "REQUEST_METHOD": headers.pop("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": headers.pop("host", "testserver"),
        "HTTP_COOKIE": cookies,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
        **(environ or {}),
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


@pytest.fixture
def page(alice_client, user):
    """A running job's poll URL, the owner's session cookie and the page's ETag."""
    job = make_job(user, status=Job.Status.RUNNING, stage="profiling", progress=0.2,
                   message="Profiling amount", attempts=1)  # fmt: skip
    url = poll_url(alice_client, job)
    tag = alice_client.get(url, headers={"HX-Request": "true"})["ETag"]
    cookie = alice_client.cookies[settings.SESSION_COOKIE_NAME].value
    return job, url, cookie, tag


def test_it_answers_a_poll_as_the_view_does_without_django(alice_client, page):
    job, url, cookie, tag = page
    behind = Behind()
    shortcut = StatusShortcut(behind)

    unchanged = get(shortcut, url, cookie, if_none_match=tag)
    Job.objects.filter(pk=job.pk).update(progress=0.5, message="Profiling rate")
    with CaptureQueriesContext(connection) as queries:
        status, headers, body = get(shortcut, url, cookie, if_none_match=tag)
    read = len(queries)  # counted now: the test client's request clears the log
    view = live(alice_client, url, tag)

    assert behind.environs == [], "Django was not asked"
    assert unchanged[0] == 304 and unchanged[2] == b""
    assert status == 200 and read == 1
    assert body == view.content and headers["ETag"] == view["ETag"]
    assert b"Profiling rate" in body and b'aria-valuenow="50"' in body
    # The headers Django's security and clickjacking middleware give every answer.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "private, no-cache"


def test_the_deployed_app_has_it_in_front(page):
    job, url, cookie, tag = page
    Job.objects.filter(pk=job.pk).update(progress=0.7)

    with CaptureQueriesContext(connection) as queries:
        status, _, body = get(wsgi.application, url, cookie, if_none_match=tag)

    assert status == 200 and b'aria-valuenow="70"' in body and len(queries) == 1


def test_anything_else_goes_on_to_django(page, other_user, client):
    job, url, cookie, tag = page
    behind = Behind()
    shortcut = StatusShortcut(behind)
    client.force_login(other_user)
    mallory = client.cookies[settings.SESSION_COOKIE_NAME].value

    asked = [
        get(shortcut, url, mallory, if_none_match=tag),  # another user's browser
        get(shortcut, url.replace("?t=", "?t=x"), cookie, if_none_match=tag),  # forged
        get(shortcut, url, cookie, if_none_match=tag, method="POST"),
        get(shortcut, url, cookie, if_none_match=tag, host="evil.example"),
        get(shortcut, job.get_absolute_url(), cookie),  # not a poll
    ]

    assert [status for status, _, _ in asked] == [418] * 5
    assert len(behind.environs) == 5
    assert all(READ_KEY not in environ for environ in behind.environs)


def test_a_queued_job_is_answered_with_its_place_in_line_as_the_view_does(
    alice_client, user, other_user
):
    older = make_job(other_user)
    job = make_job(user)
    url = poll_url(alice_client, job)
    tag = alice_client.get(url, headers={"HX-Request": "true"})["ETag"]
    cookie = alice_client.cookies[settings.SESSION_COOKIE_NAME].value
    behind = Behind()
    shortcut = StatusShortcut(behind)

    with CaptureQueriesContext(connection) as queries:
        unchanged = get(shortcut, url, cookie, if_none_match=tag)
    read = len(queries)
    Job.objects.filter(pk=older.pk).update(status=Job.Status.RUNNING)  # it started
    line.forget()  # the next poll is seconds later, past the process's reading
    status, headers, body = get(shortcut, url, cookie, if_none_match=tag)
    view = live(alice_client, url, tag)

    assert behind.environs == [], "Django was not asked"
    assert unchanged[0] == 304 and read == 1, "the row; the line from the reading of it"
    assert status == 200 and body == view.content and headers["ETag"] == view["ETag"]
    assert b"Next in line." in body


# A form's CSRF token is masked afresh on each render: blanked to compare two renders.
CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")(?P<token>[^"]+)"')


def unmasked(body: bytes) -> bytes:
    return CSRF_FIELD.sub(rb'\1"', body)


@pytest.mark.parametrize(
    "moved",
    [{"stage": "saving"}, {"status": Job.Status.QUEUED}, {"attempts": 2}],
    ids=["new stage", "back in line", "new attempt"],
)
def test_a_new_stage_or_status_is_the_whole_section_as_the_view_gives_it(alice_client, page, moved):
    job, url, cookie, tag = page
    behind = Behind()
    shortcut = StatusShortcut(behind)
    csrf = alice_client.cookies[settings.CSRF_COOKIE_NAME].value

    Job.objects.filter(pk=job.pk).update(**moved)
    line.forget()
    with CaptureQueriesContext(connection) as queries:
        status, headers, body = get(
            shortcut, url, cookie, csrf=csrf, if_none_match=tag, hx_request="true"
        )
    read = [query["sql"] for query in queries.captured_queries]
    view = alice_client.get(url, headers={"HX-Request": "true", "If-None-Match": tag})

    assert behind.environs == [], "Django was not asked"
    assert status == 200 == view.status_code
    assert unmasked(body) == unmasked(view.content)
    assert b'<section id="job-status"' in body and b"Cancel job" in body
    for name in ("ETag", "HX-Retarget", "HX-Reswap", "Content-Type", "Cache-Control"):
        assert headers[name] == view[name], name
    assert set(headers["Vary"].split(", ")) == set(view["Vary"].split(", "))
    # Neither the session nor the user: the row, the stages' times, and for a job on
    # another attempt its history (and the line's reading, for a queued job).
    assert not any("django_session" in sql and "jobs_usersession" not in sql for sql in read)
    assert not any('FROM "auth_user"' in sql for sql in read)


def test_the_sections_cancel_form_carries_a_token_the_cancel_accepts(alice_client, page, user):
    """The section sets the CSRF cookie as Django's middleware does, for a browser that
    has one (renewed) and for one that has none yet (a new one), and the cancel button
    it holds posts with a token that cookie accepts."""
    job, url, cookie, tag = page
    shortcut = StatusShortcut(Behind())
    had = alice_client.cookies[settings.CSRF_COOKIE_NAME].value

    for sent in (had, ""):
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, stage="saving")
        status, headers, body = get(shortcut, url, cookie, csrf=sent, if_none_match=tag)
        assert status == 200
        set_cookie = SimpleCookie(headers["Set-Cookie"])[settings.CSRF_COOKIE_NAME].value
        assert set_cookie == sent if sent else set_cookie, "the browser's own, or a new one"
        token = CSRF_FIELD.search(body).group("token").decode()
        browser = Client(enforce_csrf_checks=True)
        browser.cookies[settings.SESSION_COOKIE_NAME] = cookie
        browser.cookies[settings.CSRF_COOKIE_NAME] = set_cookie
        cancel = reverse("jobs:cancel", args=[job.pk])

        assert browser.post(cancel, {}).status_code == 403, "no token: refused"
        assert browser.post(cancel, {"csrfmiddlewaretoken": token}).status_code == 302
        job.refresh_from_db()
        assert job.status == Job.Status.CANCELLED


def test_the_sections_links_carry_the_deployments_sub_path(page):
    job, url, cookie, tag = page
    Job.objects.filter(pk=job.pk).update(stage="saving")

    try:
        _, _, body = get(
            StatusShortcut(Behind()), url, cookie, environ={"SCRIPT_NAME": "/sub"},
            if_none_match=tag,
        )  # fmt: skip
    finally:
        set_script_prefix("/")  # the thread's, for the tests after this one

    assert f'action="/sub/jobs/{job.pk}/cancel/"'.encode() in body
    assert f'hx-get="/sub/jobs/{job.pk}/status/?t='.encode() in body


def test_an_ended_job_goes_to_django_with_the_row_read(page, user):
    job, url, cookie, tag = page
    behind = Behind()

    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
    status, _, _ = get(StatusShortcut(behind), url, cookie, if_none_match=tag)

    assert status == 418
    (environ,) = behind.environs
    assert environ[READ_KEY].pk == job.pk and environ[READ_KEY].status == Job.Status.CANCELLED


def test_a_section_that_fails_to_render_goes_to_django_with_the_row_read(page, monkeypatch, caplog):
    """Django's handler renders it again and reports the error, as for any view."""
    job, url, cookie, tag = page
    behind = Behind()

    def broken(*args):
        raise ValueError("a template error")

    monkeypatch.setattr(status_section, "section", broken)
    Job.objects.filter(pk=job.pk).update(stage="saving")
    status, _, _ = get(StatusShortcut(behind), url, cookie, if_none_match=tag)

    assert status == 418 and behind.environs[0][READ_KEY].stage == "saving"
    assert f"could not render job {job.pk}'s section" in caplog.text
    assert "a template error" in caplog.text


@pytest.fixture
def django_app():
    """Django's WSGI handler, without the connection checks around each request that
    would close the test's connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_view_does_not_read_the_row_again(page, django_app):
    job, url, cookie, tag = page
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now())

    with CaptureQueriesContext(connection) as queries:
        status, headers, body = get(StatusShortcut(django_app), url, cookie, if_none_match=tag)

    assert status == 200 and headers["HX-Retarget"] == "#job-status"
    assert b"The job was cancelled." in body
    reads = [q["sql"] for q in queries.captured_queries if "jobs_usersession" in q["sql"]]
    assert len(reads) == 1, "the poll's read of the row, in the shortcut only"


def test_its_answers_carry_djangos_security_headers_and_vary_on_the_cookie(page):
    job, url, cookie, tag = page
    behind = Behind()
    Job.objects.filter(pk=job.pk).update(progress=0.4)

    status, headers, _ = get(StatusShortcut(behind), url, cookie, if_none_match=tag)
    unchanged = get(StatusShortcut(behind), url, cookie, if_none_match=headers["ETag"])

    assert status == 200 and unchanged[0] == 304 and behind.environs == []
    for answer in (headers, unchanged[1]):
        assert "default-src 'self'" in answer["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in answer["Content-Security-Policy"]
        assert "Cookie" in answer["Vary"]
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert answer["Referrer-Policy"] == "same-origin"


def test_too_many_query_fields_are_a_400_not_a_crash(page, settings):
    job, url, cookie, tag = page
    behind = Behind()
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    status, headers, body = get(StatusShortcut(behind), f"{url}&{fields}", cookie)

    assert status == 400 and b"parameters exceeded" in body
    assert behind.environs == [] and "Content-Security-Policy" in headers
