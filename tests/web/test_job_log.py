"""A job's page after the fact: each stage's log, times that agree with each other, a
cancelled job's partial result, and a poll quick enough to show a short job's end."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.engine import running
from jobs.engine.registry import get_kind
from jobs.engine.timeline import stage_log
from jobs.models import Job, JobCheckpoint, JobEvent
from jobs.web import polling
from tests.factories import demo_documents, make_job

pytestmark = pytest.mark.django_db
QUESTION = "Does intermittent fasting improve glycaemic control in adults with type 2 diabetes?"


def review_params(user) -> dict:
    documents = demo_documents(user)
    return {"question": QUESTION, "document_ids": [d.pk for d in documents], "mode": "precision"}


def test_each_stage_opens_into_its_log_after_the_end(alice_client, user):
    job = make_job(user, kind="review", params=review_params(user))
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()

    page = alice_client.get(job.get_absolute_url()).content.decode()
    logs = re.findall(
        r'<li class="stage done" data-stage="(\w+)">\s*'
        r'<details class="stage-log" id="log-\1">(.*?)</details>',
        page,
        re.S,
    )

    assert [key for key, _ in logs] == [stage.key for stage in get_kind("review").stages]
    for key, body in logs:
        assert re.search(r"<time datetime=\"[^\"]+\">\d\d:\d\d:\d\d</time> Started", body), key
    assert "Ranking 5 documents…" in page, "a stage's first message is in its log"
    assert "Ended" in logs[0][1] and "Job succeeded" in logs[-1][1]


def test_a_stages_later_messages_stay_in_its_log_escaped(alice_client, user, settings):
    settings.JOB_KIND_MODULES = ["tests.chatty_kind"]
    settings.JOB_LOG_MESSAGE_SECONDS = 0
    said = ["Reading <b>notes.pdf</b>", "Asking the model", "Writing the answer"]
    job = make_job(user, kind="chatty", params={"messages": said})
    running.run_queued_job(str(job.pk))

    page = alice_client.get(job.get_absolute_url()).content.decode()
    talking = re.search(
        r'<details class="stage-log" id="log-talking">(.*?)</details>', page, re.S
    ).group(1)
    lines = re.findall(
        r'<li class="reported"><time datetime="[^"]+">\d\d:\d\d:\d\d</time> (.*?)</li>', talking
    )

    assert lines == ["Reading &lt;b&gt;notes.pdf&lt;/b&gt;", *said[1:]]
    assert "<b>notes.pdf" not in page, "a kind's words are text"
    assert talking.index("Started") < talking.index("Asking the model") < talking.index("Ended")
    assert "Writing the answer" not in page.split('id="log-done"')[1], "in its own stage only"


def test_the_stages_times_stay_within_the_jobs(alice_client, user):
    job = make_job(user, kind="review", params=review_params(user))
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()

    page = alice_client.get(job.get_absolute_url()).content.decode()
    spans = [
        (int(since), int(until))
        for since, until in re.findall(r'data-since="(\d+)" data-until="(\d+)"', page)
    ]

    started, finished = int(job.started_at.timestamp()), int(job.finished_at.timestamp())
    assert len(spans) == 7, "the job's elapsed time and each of its 6 stages"
    assert all(started <= since <= until <= finished for since, until in spans)
    assert 'data-since="' in page and "data-until" in page
    assert "[data-since]:not([data-until])" not in page  # nothing counts on after the end


def test_a_retried_stage_shows_both_attempts():
    at = timezone.now()

    def event(seconds, type_, name, message="", attempt=1):
        return JobEvent(type=type_, name=name, message=message, attempt=attempt,
                        at=at + timedelta(seconds=seconds))  # fmt: skip

    stage, status = JobEvent.Type.STAGE, JobEvent.Type.STATUS
    log = stage_log([
        event(0, status, "queued"),
        event(1, status, "running"),
        event(1, stage, "loading", "Loading…"),
        event(2, stage, "ranking", "Ranking…"),
        event(3, status, "retrying", "Attempt 1 failed: timeout"),
        event(5, status, "running", attempt=2),
        event(5, stage, "ranking", "Ranking…", attempt=2),
        event(6, status, "cancelled", "Cancelled by its owner.", attempt=2),
    ])  # fmt: skip

    assert [(e.what, e.attempt) for e in log["loading"]] == [
        ("Picked up by a worker", 1), ("Started", 1), ("Ended", 1),
    ]  # fmt: skip
    assert [(e.what, e.message, e.attempt) for e in log["ranking"]] == [
        ("Started", "Ranking…", 1),
        ("Attempt failed; to be retried", "Attempt 1 failed: timeout", 1),
        ("Picked up by a worker", "", 2),
        ("Started", "Ranking…", 2),
        ("Job cancelled", "Cancelled by its owner.", 2),
    ]


def test_a_cancelled_job_shows_what_it_finished(alice_client, user):
    params = review_params(user)
    done = make_job(user, kind="review", params=params)
    running.run_queued_job(str(done.pk))
    done.refresh_from_db()
    analysis = done.result["documents"][0]
    job = make_job(user, kind="review", params=params, status=Job.Status.RUNNING,
                   stage="analysing", attempts=1, started_at=timezone.now())  # fmt: skip
    JobCheckpoint.objects.create(job=job, key=f"analysed|{analysis['document_id']}",
                                 value=analysis, attempt=1)  # fmt: skip

    page = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()

    assert "The job was cancelled. What it finished before it stopped is below." in page
    assert "Partial result: what the job finished before it stopped." in page
    assert f'data-document="{analysis["document_id"]}"' in page
    assert f"?highlight={analysis['anchors'][0]['start']}-" in page
    assert '<details class="stage-list" open>' in page


def test_a_job_cancelled_before_any_step_says_there_is_nothing_to_show(alice_client, user):
    job = make_job(user, kind="review", params=review_params(user), status=Job.Status.RUNNING,
                   stage="loading", attempts=1, started_at=timezone.now())  # fmt: skip

    page = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()

    assert "No step had finished when the job stopped, so there is no partial result" in page


@pytest.mark.parametrize(("ran", "every"), [(0, 1.0), (25, 2.0), (45, 4.0), (600, 5.0)])
def test_a_young_job_is_polled_often_then_less(alice_client, user, settings, ran, every):
    settings.JOB_POLL_SECONDS = 5.0
    job = make_job(user, status=Job.Status.RUNNING, stage="profiling", attempts=1,
                   started_at=timezone.now() - timedelta(seconds=ran))  # fmt: skip

    page = alice_client.get(job.get_absolute_url()).content.decode()

    assert polling.poll_seconds(job) == every
    assert f"every {every}s, visibilitychange" in page
    # The interval is part of the live half of the ETag: a 304 never keeps a stale one.
    older = copy.copy(job)
    older.started_at = job.started_at - timedelta(seconds=3600)
    live = [polling.etag(each).split(".")[1] for each in (job, older)]
    assert (live[0] != live[1]) == (every != 5.0)


@pytest.mark.parametrize(("waited", "every"), [(0.2, 1.0), (0.9, 1.0), (3, 5.0), (40, 5.0)])
def test_a_job_that_waited_in_line_is_polled_at_the_regular_pace(
    alice_client, user, settings, waited, every
):
    """A job a worker took up at once is polled every second through its first seconds;
    one that waited in line started in a busy moment (a burst), and its page does not
    add a poll a second to it."""
    settings.JOB_POLL_SECONDS = 5.0
    started = timezone.now()
    job = make_job(user, status=Job.Status.RUNNING, stage="profiling", attempts=1,
                   started_at=started)  # fmt: skip
    Job.objects.filter(pk=job.pk).update(created_at=started - timedelta(seconds=waited))
    job.refresh_from_db()

    page = alice_client.get(job.get_absolute_url()).content.decode()

    assert polling.poll_seconds(job) == every
    assert f"every {every}s, visibilitychange" in page
