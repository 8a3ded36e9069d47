"""The marks that say an owner is watching their job: the first at once, renewals in
batches, so that polling a job costs three SQL queries however many pages are open."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.engine import watching
from jobs.models import Job
from tests.conftest import wait_for
from tests.factories import make_job

AWAY = 30


@pytest.fixture(autouse=True)
def away_time(settings):
    settings.JOB_NOTIFY_AWAY_SECONDS = AWAY
    settings.JOB_WATCH_FLUSH_SECONDS = 5


def watched_at(job) -> timezone.datetime | None:
    return Job.objects.values_list("watched_at", flat=True).get(pk=job.pk)


@pytest.mark.django_db
def test_the_first_mark_is_written_at_once(alice_client, user):
    job = make_job(user, status=Job.Status.RUNNING)

    alice_client.get(job.get_absolute_url())

    assert watched_at(job) is not None, "a job ending now must not e-mail its watcher"


@pytest.mark.django_db
def test_polls_of_a_watched_job_cost_three_queries_each(alice_client, user):
    job = make_job(user, status=Job.Status.RUNNING)
    alice_client.get(job.get_absolute_url())
    counts, renewals = [], 0
    # A poll every 5 s for two minutes: the mark comes due for renewal again and again.
    for _ in range(24):
        # The clock moves on 5 s: the mark is 5 s older.
        Job.objects.filter(pk=job.pk).update(watched_at=watched_at(job) - timedelta(seconds=5))
        with CaptureQueriesContext(connection) as queries:
            response = alice_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        assert response.status_code == 200
        counts.append(len(queries))
        # What the writer thread does every JOB_WATCH_FLUSH_SECONDS, out of the request.
        renewals += watching.flush()

    assert counts == [3] * 24, [q["sql"][:60] for q in queries.captured_queries]
    assert renewals >= 5, "the mark was renewed all along"
    assert timezone.now() - watched_at(job) < timedelta(seconds=AWAY), "never lapsed"


@pytest.mark.django_db
def test_one_update_renews_every_pending_mark_of_active_jobs(user):
    old = timezone.now() - timedelta(seconds=AWAY / 2)
    jobs = [make_job(user, status=Job.Status.RUNNING, watched_at=old) for _ in range(3)]
    for job in jobs:
        watching.mark(job)
    assert {watched_at(job) for job in jobs} == {old}, "nothing written yet"
    Job.objects.filter(pk=jobs[2].pk).update(status=Job.Status.SUCCEEDED)

    with CaptureQueriesContext(connection) as queries:
        marked = watching.flush()

    assert len(queries) == 1 and marked == 2
    assert watched_at(jobs[0]) > old and watched_at(jobs[1]) > old
    assert watched_at(jobs[2]) == old, "an ended job's mark no longer matters"
    assert watching.flush() == 0, "each mark is written once"


@pytest.mark.django_db
def test_a_recent_mark_or_an_ended_job_needs_no_write(user):
    fresh = make_job(user, status=Job.Status.RUNNING, watched_at=timezone.now())
    ended = make_job(user, status=Job.Status.FAILED)

    with CaptureQueriesContext(connection) as queries:
        watching.mark(fresh)
        watching.mark(ended)

    assert len(queries) == 0 and not watching._pending
    assert watched_at(ended) is None


@pytest.mark.django_db
def test_after_the_away_time_the_next_mark_is_written_at_once(user):
    long_ago = timezone.now() - timedelta(seconds=AWAY + 1)
    job = make_job(user, status=Job.Status.QUEUED, watched_at=long_ago)

    watching.mark(job)

    assert watched_at(job) > long_ago and not watching._pending


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_the_batch_on_its_own(settings, user):
    settings.JOB_WATCH_FLUSH_SECONDS = 0.1
    old = timezone.now() - timedelta(seconds=AWAY / 2)
    job = make_job(user, status=Job.Status.RUNNING, watched_at=old)

    watching.mark(job)

    wait_for(lambda: watched_at(job) > old, timeout=5, what="the writer thread")
    writer = watching._writer
    watching.stop_writer()
    assert writer is not None and not writer.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_row_another_transaction_is_writing_is_skipped_not_waited_for(user):
    old = timezone.now() - timedelta(seconds=AWAY / 2)
    busy, free = (make_job(user, status=Job.Status.RUNNING, watched_at=old) for _ in range(2))
    unseen = make_job(user, status=Job.Status.RUNNING)  # its page's first load
    holding, release = threading.Event(), threading.Event()

    def report() -> None:
        # As a worker's progress report, a claim or an ending holds its jobs' rows.
        try:
            with transaction.atomic():
                list(Job.objects.select_for_update().filter(pk__in=[busy.pk, unseen.pk]))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=report)
    worker.start()
    assert holding.wait(5)
    try:
        began = time.monotonic()
        for job in (busy, free, unseen):
            watching.mark(job)
        first_left_to_the_batch = str(unseen.pk) in watching._pending
        marked = watching.flush()
        took = time.monotonic() - began
    finally:
        release.set()
        worker.join()

    assert took < 0.5, "neither the page nor the batch waited for the rows"
    assert first_left_to_the_batch
    assert marked == 1 and watched_at(free) > old
    assert watched_at(busy) == old and watched_at(unseen) is None, "skipped"
    assert not watching._pending, "the next poll marks them again"
    watching.mark(Job.objects.get(pk=unseen.pk))
    assert watched_at(unseen) is not None, "the next load, once the row is free"
