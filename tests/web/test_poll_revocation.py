"""A status URL taken while a job runs stops answering as soon as the steps a user takes
against a stolen session are taken: logging out, changing the password, ending the other
sessions, or (by staff) deactivating the account. Replayed through the deployed app (the
WSGI shortcut in front of Django) and through Django's view alone, with the job still
running and once it has finished with its result."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from jobs.web import polling
from jobs.web.shortcut import StatusShortcut
from tests.factories import PASSWORD, make_job
from tests.web.test_polling import poll_url
from tests.web.test_shortcut import get

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-staple-horse-battery"


def log_out(user, stolen: Client) -> None:
    stolen.post(reverse("logout"))


def change_password(user, stolen: Client) -> None:
    """From the owner's other browser, as the profile page does it."""
    own = Client()
    own.login(username=user.username, password=PASSWORD)
    answer = own.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert answer.status_code == 302


def change_password_elsewhere(user, stolen: Client) -> None:
    """Set without the profile page (the admin, a shell): no session is ended, yet the
    old password's URLs stop answering."""
    user.set_password(NEW_PASSWORD)
    user.save()


def end_other_sessions(user, stolen: Client) -> None:
    own = Client()
    own.login(username=user.username, password=PASSWORD)
    assert own.post(reverse("accounts:session_end_others")).status_code == 302


def deactivate(user, stolen: Client) -> None:
    user.is_active = False
    user.save()


STEPS = [log_out, change_password, change_password_elsewhere, end_other_sessions, deactivate]


@pytest.fixture
def taken(alice_client, user):
    """A running job's status URL and the session cookie, as a thief would copy them."""
    job = make_job(user, status=Job.Status.RUNNING, stage="profiling", progress=0.2,
                   message="Profiling amount", attempts=1)  # fmt: skip
    url = poll_url(alice_client, job)
    tag = alice_client.get(url, headers={"HX-Request": "true"})["ETag"]
    cookie = alice_client.cookies[settings.SESSION_COOKIE_NAME].value
    return job, url, tag, cookie


def deployed(url: str, cookie: str, tag: str):
    """Through the shortcut with Django behind it, without the connection checks around
    each request that would close the test's connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        return get(StatusShortcut(WSGIHandler()), url, cookie, if_none_match=tag)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def replay(url: str, cookie: str, **headers):
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return thief.get(url, headers={"HX-Request": "true", **headers})


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.__name__)
def test_a_replayed_status_url_is_refused_after(step, taken, alice_client, user):
    job, url, tag, cookie = taken
    # Before: the URL answers, through the shortcut (progress moved: the live part).
    Job.objects.filter(pk=job.pk).update(progress=0.5)
    before = deployed(url, cookie, tag)
    assert before[0] == 200 and b'aria-valuenow="50"' in before[2]

    step(user, alice_client)
    Job.objects.filter(pk=job.pk).update(progress=0.9)
    shortcut_status, headers, body = deployed(url, cookie, tag)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, progress=1.0, result={"yaml": "secret: the whole result"}
    )
    finished = replay(url, cookie)

    assert shortcut_status == 403 and headers["HX-Refresh"] == "true"
    assert b"no longer answers" in body and b"aria-valuenow" not in body
    assert finished.status_code == 403 and b"secret" not in finished.content
    assert finished["HX-Refresh"] == "true"


def test_untouched_the_url_still_answers_the_finished_job(taken):
    job, url, tag, cookie = taken
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress=1.0)

    answer = replay(url, cookie)

    assert answer.status_code == 200 and b'id="job-status"' in answer.content


def test_a_session_past_its_expiry_gets_nothing(taken):
    job, url, tag, cookie = taken
    Session.objects.filter(session_key=cookie).update(expire_date=timezone.now())

    assert replay(url, cookie).status_code == 403


def test_the_url_is_renewed_by_an_answer_past_half_its_life(taken, settings):
    job, url, tag, cookie = taken
    settings.JOB_POLL_TOKEN_SECONDS = 6
    fresh = replay(url, cookie, if_none_match=tag)
    time.sleep(3.5)
    due = replay(url, cookie, if_none_match=tag)

    assert fresh.status_code == 304, "a third of its life gone: the page keeps its URL"
    # Half gone: the live part, as unchanged, but polling a URL with a new token.
    assert due.status_code == 200 and due["ETag"] == tag
    renewed = polling.check(job.pk, _token_in(due.content.decode()), cookie)
    assert renewed is not None and renewed.owner_id == job.owner_id
    assert _token_in(due.content.decode()) != url.split("?t=", 1)[1]


def _token_in(body: str) -> str:
    return re.search(r'hx-get="[^"]*\?t=([^"&]+)"', body).group(1)
