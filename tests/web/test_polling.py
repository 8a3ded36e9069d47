"""The job page's poll: a signed URL bound to the owner and their browser, answered from
one query, with a 304 while nothing the page shows has changed."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.engine import line
from jobs.models import Job, JobEvent
from jobs.web import polling
from tests.factories import PASSWORD, make_job

pytestmark = pytest.mark.django_db


def poll_url(client: Client, job: Job) -> str:
    """The URL the owner's page polls, as its full load gives it."""
    page = client.get(job.get_absolute_url()).content.decode()
    return re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")


@pytest.fixture
def running_job(user):
    return make_job(user, status=Job.Status.RUNNING, stage="profiling", progress=0.2,
                    message="Profiling amount", attempts=1)  # fmt: skip


def test_the_page_polls_its_signed_status_url(alice_client, running_job):
    url = poll_url(alice_client, running_job)

    assert url.startswith(f"/jobs/{running_job.pk}/status/?t=")
    fragment = alice_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert '<section id="job-status"' in body and "Profiling amount" in body
    assert f'hx-get="{url.replace("&", "&amp;")}"' in body, "the fragment polls the same URL"
    # The next poll sends the tag of what it shows, to get a 304 if nothing changed.
    sent = re.search(r'hx-headers="([^"]+)"', body).group(1)
    assert json.loads(html.unescape(sent)) == {"If-None-Match": fragment["ETag"]}


def live(client: Client, url: str, tag: str):
    return client.get(url, headers={"HX-Request": "true", "If-None-Match": tag})


def test_a_poll_costs_one_query_unless_the_stage_changed(alice_client, running_job):
    url = poll_url(alice_client, running_job)
    first = alice_client.get(url, headers={"HX-Request": "true"})

    with CaptureQueriesContext(connection) as unchanged:
        again = live(alice_client, url, first["ETag"])
    Job.objects.filter(pk=running_job.pk).update(progress=0.6, message="Profiling rate")
    with CaptureQueriesContext(connection) as progressed:
        moved = live(alice_client, url, first["ETag"])
    Job.objects.filter(pk=running_job.pk).update(stage="saving", message="Saving the model")
    # The stage's log, later messages and all, comes with the one query of its history.
    JobEvent.objects.create(job=running_job, type="stage", name="profiling", attempt=1)
    JobEvent.objects.bulk_create(
        JobEvent(job=running_job, type="message", name="profiling", message=f"Column {n}",
                 attempt=1) for n in range(20)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as staged:
        next_stage = live(alice_client, url, moved["ETag"])

    assert again.status_code == 304 and again.content == b""
    assert len(unchanged) == 1
    # Only the progress moved: the live part alone, from the row.
    assert moved.status_code == 200 and len(progressed) == 1
    body = moved.content.decode()
    assert body.strip().startswith('<div id="job-live"') and "Profiling rate" in body
    assert "job-status" not in body and "stages" not in body and "csrf" not in body
    assert 'aria-valuenow="60"' in body and moved["ETag"] != first["ETag"]
    assert "HX-Retarget" not in moved
    # Another stage: the whole section, in place of the one the live part is in.
    assert next_stage.status_code == 200
    assert len(staged) == 2, [q["sql"][:120] for q in staged.captured_queries]
    assert next_stage["HX-Retarget"] == "#job-status" and next_stage["HX-Reswap"] == "outerHTML"
    section = next_stage.content.decode()
    assert '<section id="job-status"' in section and 'data-stage="saving" aria-current' in section
    assert "</time> Column 19</li>" in section
    assert first["Cache-Control"] == "private, no-cache"


def test_a_queued_job_shows_its_place_in_line_as_it_moves(alice_client, user, other_user):
    ahead = make_job(other_user)
    queued = make_job(user)
    url = poll_url(alice_client, queued)
    first = alice_client.get(url, headers={"HX-Request": "true"})
    assert "1 job ahead of it in line." in first.content.decode()

    Job.objects.filter(pk=ahead.pk).update(status=Job.Status.RUNNING)
    line.forget()  # the next poll is seconds later, past the process's reading
    moved = live(alice_client, url, first["ETag"])

    assert moved.status_code == 200 and "Next in line." in moved.content.decode()
    assert live(alice_client, url, moved["ETag"]).status_code == 304


def test_another_user_with_the_copied_url_gets_nothing(alice_client, running_job, other_user):
    url = poll_url(alice_client, running_job)
    mallory = Client()
    mallory.login(username=other_user.username, password=PASSWORD)

    answer = mallory.get(url, headers={"HX-Request": "true"})

    assert answer.status_code == 403
    assert b"Profiling" not in answer.content
    assert answer["HX-Refresh"] == "true"


def test_a_logged_out_browser_gets_nothing(alice_client, running_job):
    url = poll_url(alice_client, running_job)
    alice_client.post("/accounts/logout/")

    assert alice_client.get(url).status_code == 403
    assert Client().get(url).status_code == 403, "nor one that never logged in"


def test_an_expired_url_gets_nothing_and_the_page_reloads(alice_client, running_job, settings):
    url = poll_url(alice_client, running_job)
    settings.JOB_POLL_TOKEN_SECONDS = 1
    time.sleep(2)

    answer = alice_client.get(url, headers={"HX-Request": "true"})

    assert answer.status_code == 403 and answer["HX-Refresh"] == "true"
    # A full load of the page (with the session) gives a fresh URL that works.
    assert alice_client.get(poll_url(alice_client, running_job)).status_code == 200


def test_a_token_names_one_job_and_cannot_be_altered(alice_client, running_job, user):
    other = make_job(user, status=Job.Status.RUNNING, attempts=1)
    url = poll_url(alice_client, running_job)
    token = url.split("?t=", 1)[1]

    assert alice_client.get(f"/jobs/{other.pk}/status/?t={token}").status_code == 403
    value, _, signature = token.rpartition(":")
    forged = f"{value}:{'A' * len(signature)}"
    assert alice_client.get(f"/jobs/{running_job.pk}/status/?t={forged}").status_code == 403
    session = alice_client.cookies[settings.SESSION_COOKIE_NAME].value
    assert polling.check(running_job.pk, token, session).owner_id == user.pk


def test_a_queued_or_just_started_job_is_polled_after_a_second(alice_client, user, running_job):
    queued = make_job(user)

    page = alice_client.get(queued.get_absolute_url()).content.decode()
    fragment = alice_client.get(poll_url(alice_client, queued), headers={"HX-Request": "true"})
    long_running = make_job(user, status=Job.Status.RUNNING, attempts=1,
                            started_at=running_job.created_at.replace(year=2020))  # fmt: skip
    later = alice_client.get(long_running.get_absolute_url()).content.decode()

    assert 'hx-trigger="load delay:1s, every 5.0s' in page
    assert "load delay" not in fragment.content.decode(), "then every JOB_POLL_SECONDS"
    assert "load delay" not in later


def test_a_page_opened_in_a_busy_moment_polls_at_the_regular_pace(alice_client, user):
    """Others ahead in line, or a wait in line before the start: a burst of hundreds, whose
    pages polling a second after they open doubled the requests of its first seconds."""
    first, second = make_job(user), make_job(user)
    started = timezone.now()
    waited, quick = (make_job(user, status=Job.Status.RUNNING, attempts=1, started_at=started)
                     for _ in range(2))  # fmt: skip
    Job.objects.filter(pk=waited.pk).update(created_at=started - timedelta(seconds=3))
    line.forget()

    pages = {
        job.pk: alice_client.get(job.get_absolute_url()).content.decode()
        for job in (first, second, waited, quick)
    }

    assert "Next in line." in pages[first.pk] and "load delay:1s" in pages[first.pk]
    assert "1 job ahead of it in line." in pages[second.pk]
    assert "load delay" not in pages[second.pk]
    assert 'hx-trigger="every 5.0s' in pages[waited.pk], "waited in line: the regular pace"
    assert 'hx-trigger="load delay:1s, every 1.0s' in pages[quick.pk], "taken up at once"


def test_the_elapsed_time_carries_the_servers_timestamps(alice_client, running_job):
    page = alice_client.get(running_job.get_absolute_url()).content.decode()

    since = int(running_job.started_at.timestamp()) if running_job.started_at else None
    assert re.search(r'data-server-now="\d+"', page)
    assert f'data-since="{since or int(running_job.created_at.timestamp())}"' in page
    assert "data-until" not in page, "an active job's time counts on"


def test_each_stage_shows_its_duration(alice_client, running_job):
    start = running_job.created_at
    for key, seconds in (("reading_schema", 0), ("profiling", 75)):
        JobEvent.objects.create(job=running_job, type=JobEvent.Type.STAGE, name=key,
                                attempt=1, at=start + timedelta(seconds=seconds))  # fmt: skip

    body = alice_client.get(poll_url(alice_client, running_job)).content.decode()

    done = re.search(r'data-stage="reading_schema".*?</li>', body, re.S).group(0)
    current = re.search(r'data-stage="profiling".*?</li>', body, re.S).group(0)
    todo = re.search(r'data-stage="saving".*?</li>', body, re.S).group(0)
    assert "1 min 15 s" in done and "data-until" in done
    # The current stage's time counts on in the browser, from when it began.
    assert f'data-since="{int((start + timedelta(seconds=75)).timestamp())}"' in current
    assert "data-until" not in current
    assert "duration" not in todo
