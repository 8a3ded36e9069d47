"""Where queued jobs stand in line: the whole line read at once (dispatch.places_in_line)
and a process's requests answered from that reading for a moment (jobs/engine/line.py)."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.engine import dispatch, line
from jobs.engine.worker import claiming
from jobs.models import Job
from tests.conftest import at_once
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def unlimited(settings):
    settings.MAX_CONCURRENT_JOBS = 1000
    settings.MAX_ACTIVE_JOBS_PER_USER = 1000
    settings.JOB_LINE_SECONDS = 60  # no reading expires during a test unless it says so


def a_line(seed: int, jobs: int = 24) -> list[Job]:
    """Users with jobs at several priorities, some served before in a known order."""
    rng = random.Random(seed)
    users = [make_user() for _ in range(5)]
    for minutes, user in zip((30, 10, 20), users, strict=False):
        served = timezone.now() - timedelta(minutes=minutes)
        make_job(user, status=Job.Status.SUCCEEDED, started_at=served)
    for _ in range(jobs):
        make_job(
            rng.choice(users),
            priority=rng.choice((0, 0, 0, 2, 5)),
            created_at=timezone.now() - timedelta(seconds=rng.randrange(600)),
        )
    return list(Job.objects.filter(status=Job.Status.QUEUED))


def start_all() -> list:
    started = []
    while job := claiming.claim_next():
        started.append(job.pk)
    return started


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_whole_line_read_at_once_is_the_order_jobs_start_in(seed):
    a_line(seed)
    with CaptureQueriesContext(connection) as queries:
        places = dispatch.places_in_line()

    order = start_all()

    assert len(queries) == 2, "the owners in line, then their jobs"
    assert sorted(places, key=places.get) == order
    assert sorted(places.values()) == list(range(len(order)))


def test_a_line_of_equal_priority_reads_as_each_job_asked_alone():
    a_line(4)
    Job.objects.update(priority=0)
    waiting = list(Job.objects.filter(status=Job.Status.QUEUED))

    places = dispatch.places_in_line()

    assert places == {job.pk: dispatch.jobs_ahead(job) for job in waiting}


def test_a_process_answers_from_one_reading_until_it_is_old(settings):
    waiting = a_line(5)
    before = dispatch.places_in_line()
    line.jobs_ahead(waiting[0])  # the reading

    with CaptureQueriesContext(connection) as queries:
        reused = {job.pk: line.jobs_ahead(job) for job in waiting}
    started = claiming.claim_next()
    last = max(before, key=before.get)
    still = line.jobs_ahead(Job.objects.get(pk=last))
    settings.JOB_LINE_SECONDS = 0.2
    time.sleep(0.25)
    moved = {job.pk: line.jobs_ahead(job) for job in waiting if job.pk != started.pk}

    assert len(queries) == 0
    assert reused == before
    assert still == before[last] == len(before) - 1, "the reading, until it is old"
    assert moved == dispatch.places_in_line(), "read again"
    assert moved[last] == len(before) - 2, "one job fewer ahead of the last"


def test_a_job_the_reading_does_not_hold_is_asked_about_alone():
    waiting = a_line(6)
    line.jobs_ahead(waiting[0])
    newer = make_job(make_user())  # submitted after the reading

    with CaptureQueriesContext(connection) as queries:
        ahead = line.jobs_ahead(newer)

    assert len(queries) == 1
    assert ahead == dispatch.jobs_ahead(newer)


def test_with_no_reuse_each_job_is_asked_about_alone(settings):
    settings.JOB_LINE_SECONDS = 0
    waiting = a_line(7)

    with CaptureQueriesContext(connection) as queries:
        places = [line.jobs_ahead(job) for job in waiting]

    assert len(queries) == len(waiting)
    assert places == [dispatch.jobs_ahead(job) for job in waiting]


def test_many_threads_at_once_read_the_line_once_and_answer_as_one_alone(monkeypatch):
    waiting = a_line(8, jobs=40)
    alone = dispatch.places_in_line()
    readings = []
    read = dispatch.places_in_line

    def counted():
        readings.append(threading.get_ident())
        return read()

    monkeypatch.setattr(dispatch, "places_in_line", counted)

    results = at_once(16, lambda: [line.jobs_ahead(job) for job in waiting * 3])

    assert len(results) == 16
    assert all(seen == [alone[job.pk] for job in waiting] * 3 for seen in results)
    assert len(readings) == 1, "one thread read the line for all"
