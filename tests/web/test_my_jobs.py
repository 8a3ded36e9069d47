"""My jobs: searching by title, cancelling and deleting ticked jobs (after a page that
says what would happen), and "Run again" asking first for a big job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job, JobEvent
from tests.factories import make_document, make_job

pytestmark = pytest.mark.django_db

BULK = "/jobs/bulk/"


def titles(response) -> list[str]:
    return [job.title for job in response.context["page"]]


def test_search_finds_own_jobs_by_every_word_of_the_title(alice_client, user, other_user):
    make_job(user, title="Fasting and HbA1c in type 2 diabetes", status=Job.Status.SUCCEEDED)
    make_job(user, title="Loan applications", status=Job.Status.SUCCEEDED)
    make_job(other_user, title="Fasting diabetes (not Alice's)", status=Job.Status.SUCCEEDED)

    found = alice_client.get("/jobs/", {"q": "  DIABETES fasting "})
    none = alice_client.get("/jobs/", {"q": "diabetes loan"})

    assert titles(found) == ["Fasting and HbA1c in type 2 diabetes"]
    assert 'type="search" name="q" value="  DIABETES fasting "' in found.text
    assert titles(none) == []
    assert "No jobs match these filters" in none.text and 'href="/jobs/">Show all' in none.text


def test_a_user_without_jobs_is_told_so_not_that_filters_hide_them(client, other_user):
    client.force_login(other_user)

    page = client.get("/jobs/")

    assert "No jobs yet." in page.text and "match these filters" not in page.text
    assert 'id="bulk-jobs"' not in page.text


def test_search_combines_with_the_other_filters_and_the_polls_keep_it(alice_client, user):
    make_job(user, title="Diabetes review", kind="review", status=Job.Status.RUNNING,
             params={"question": "q", "document_ids": [], "mode": "recall"})  # fmt: skip
    make_job(user, title="Diabetes model", status=Job.Status.SUCCEEDED)

    page = alice_client.get("/jobs/", {"q": "diabetes", "status": "running"})
    poll = alice_client.get("/jobs/?q=diabetes&status=running", headers={"HX-Request": "true"})

    assert titles(page) == ["Diabetes review"]
    assert 'hx-get="/jobs/?q=diabetes&amp;status=running"' in page.text
    assert "Diabetes review" in poll.text and "Diabetes model" not in poll.text
    assert "<h1>" not in poll.text


def test_a_search_too_long_is_refused_with_a_message(alice_client, user):
    make_job(user, title="Anything", status=Job.Status.SUCCEEDED)

    page = alice_client.get("/jobs/", {"q": "x" * 201})

    assert "at most 200 characters" in page.text
    assert titles(page) == ["Anything"]  # the filter is dropped, not the page


def test_every_row_can_be_ticked_for_the_bulk_form(alice_client, user):
    jobs = [make_job(user, title=f"J{n}", status=Job.Status.SUCCEEDED) for n in range(3)]

    page = alice_client.get("/jobs/").text

    assert '<form method="post" action="/jobs/bulk/" id="bulk-jobs"' in page
    assert page.count('form="bulk-jobs"') == 3
    for job in jobs:
        assert f'value="{job.pk}" form="bulk-jobs" id="pick-{job.pk}" hx-preserve' in page
    assert 'aria-label="Tick J0"' in page


def test_bulk_cancel_asks_first_then_cancels_through_the_engine(alice_client, user):
    running = make_job(user, title="Running one", status=Job.Status.RUNNING, attempts=1)
    queued = make_job(user, title="Queued one")
    done = make_job(user, title="Done one", status=Job.Status.SUCCEEDED)
    ids = [running.pk, queued.pk, done.pk]

    asked = alice_client.post(BULK, {"action": "cancel", "ids": ids})

    assert asked.status_code == 200 and "<h1>Cancel 2 jobs?</h1>" in asked.text
    assert "Running one" in asked.text and "Queued one" in asked.text
    assert "1 of the ticked jobs is left alone (already ended, so nothing to cancel)" in asked.text
    assert Job.objects.filter(status=Job.Status.CANCELLED).count() == 0  # nothing yet

    done_response = alice_client.post(
        BULK, {"action": "cancel", "ids": ids, "confirmed": "1"}, follow=True
    )

    assert "Cancelled 2 jobs. 1 job was left alone (already ended" in done_response.text
    for job in (running, queued):
        job.refresh_from_db()
        assert job.status == Job.Status.CANCELLED and job.finished_at is not None
        assert job.events.filter(type=JobEvent.Type.STATUS, name="cancelled").exists()
    done.refresh_from_db()
    assert done.status == Job.Status.SUCCEEDED


def test_bulk_delete_deletes_ended_jobs_and_keeps_running_ones(alice_client, user):
    failed = make_job(user, title="Failed one", status=Job.Status.FAILED)
    cancelled = make_job(user, title="Cancelled one", status=Job.Status.CANCELLED)
    running = make_job(user, title="Still running", status=Job.Status.RUNNING, attempts=1)
    ids = [failed.pk, cancelled.pk, running.pk]

    asked = alice_client.post(BULK, {"action": "delete", "ids": ids})

    assert "<h1>Delete 2 jobs?</h1>" in asked.text
    assert "(still queued or running; cancel first, then delete)" in asked.text
    assert 'class="danger solid">Yes, delete them</button>' in asked.text
    assert f'name="ids" value="{running.pk}"' not in asked.text
    assert Job.objects.count() == 3

    response = alice_client.post(BULK, {"action": "delete", "ids": ids, "confirmed": "1"})

    assert response.status_code == 302
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]
    assert not JobEvent.objects.filter(job_id__in=[failed.pk, cancelled.pk]).exists()
    message = alice_client.get(response["Location"]).text
    assert "Deleted 2 jobs. 1 job was left alone (still queued or running" in message


def test_a_job_that_started_again_meanwhile_is_not_deleted(alice_client, user):
    job = make_job(user, title="Retried meanwhile", status=Job.Status.FAILED)
    alice_client.post(BULK, {"action": "delete", "ids": [job.pk]})  # the page that asks
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # retried in another tab

    response = alice_client.post(
        BULK, {"action": "delete", "ids": [job.pk], "confirmed": "1"}, follow=True
    )

    assert Job.objects.filter(pk=job.pk).exists()
    assert "Deleted 0 jobs. 1 job was left alone (still queued or running" in response.text


def test_another_users_jobs_in_a_bulk_post_are_ignored(alice_client, user, other_user):
    mine = make_job(user, title="Mine", status=Job.Status.SUCCEEDED)
    theirs = make_job(other_user, title="Mallory's secret", status=Job.Status.SUCCEEDED)
    their_running = make_job(other_user, title="Mallory's run", status=Job.Status.RUNNING)

    asked = alice_client.post(BULK, {"action": "delete", "ids": [mine.pk, theirs.pk]})
    alice_client.post(BULK, {"action": "delete", "ids": [mine.pk, theirs.pk], "confirmed": "1"})
    only_theirs = alice_client.post(
        BULK, {"action": "cancel", "ids": [their_running.pk], "confirmed": "1"}, follow=True
    )

    assert "<h1>Delete 1 job?</h1>" in asked.text and "Mallory" not in asked.text
    assert not Job.objects.filter(pk=mine.pk).exists()
    assert Job.objects.filter(pk=theirs.pk).exists()
    assert "Nothing was done: none of the ticked jobs exists" in only_theirs.text
    their_running.refresh_from_db()
    assert their_running.status == Job.Status.RUNNING


def test_bulk_actions_need_the_csrf_token(user):
    job = make_job(user, title="Kept", status=Job.Status.SUCCEEDED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(BULK, {"action": "delete", "ids": [job.pk], "confirmed": "1"})

    assert response.status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "delete"}, "Tick at least one job first."),
        ({"action": "delete", "ids": ["not-a-uuid"]}, "That is not a job of yours."),
        ({"action": "explode", "ids": ["7d0f3a4e-0000-4000-8000-000000000000"]}, "valid choice"),
    ],
)
def test_bad_bulk_input_is_refused_with_a_message(alice_client, user, data, error):
    job = make_job(user, status=Job.Status.SUCCEEDED)

    response = alice_client.post(BULK, {**data, "confirmed": "1"})

    assert response.status_code == 400 and error in response.text
    assert Job.objects.filter(pk=job.pk).exists()


def test_after_a_bulk_action_my_jobs_is_as_it_was_left(alice_client, user):
    job = make_job(user, title="Old", status=Job.Status.SUCCEEDED)
    data = {"action": "delete", "ids": [job.pk], "confirmed": "1"}

    kept = alice_client.post(BULK, {**data, "next": "/jobs/?q=old&page=2"})
    elsewhere = alice_client.post(BULK, {**data, "next": "https://evil.example/jobs/"})

    assert kept["Location"] == "/jobs/?q=old&page=2"
    assert elsewhere["Location"] == "/jobs/"


def test_run_again_asks_first_for_a_job_over_a_big_document(alice_client, user):
    document = make_document(user, title="Big manual", text="Seven. " * 300_000)
    old = make_job(user, kind="deep_dive", title="Big manual: safety",
                   params={"document_id": document.pk, "objective": "safety"},
                   status=Job.Status.SUCCEEDED)  # fmt: skip

    asked = alice_client.post(f"/jobs/{old.pk}/rerun/")

    assert asked.status_code == 200 and Job.objects.count() == 1
    assert "Run “Big manual: safety” again?" in asked.text
    assert "It reads 2,100,000 characters of text (2.0\xa0MB)." in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    assert f"/jobs/new/deep_dive/?from={old.pk}" in asked.text
    started = alice_client.post(f"/jobs/{old.pk}/rerun/", {"confirmed": "1"})
    new = Job.objects.exclude(pk=old.pk).get()
    assert started["Location"] == new.get_absolute_url()


def test_run_again_asks_first_for_a_job_whose_last_run_took_long(alice_client, user):
    now = timezone.now()
    old = make_job(user, title="Slow model", status=Job.Status.SUCCEEDED,
                   started_at=now - timedelta(minutes=7), finished_at=now)  # fmt: skip

    asked = alice_client.post(f"/jobs/{old.pk}/rerun/")

    assert "Its last run took about 7 minutes." in asked.text
    assert Job.objects.count() == 1


def test_run_again_starts_a_small_quick_job_at_once(alice_client, user):
    document = make_document(user, title="Short note", text="Short. " * 300)
    now = timezone.now()
    old = make_job(user, kind="deep_dive", params={"document_id": document.pk, "objective": "x"},
                   status=Job.Status.SUCCEEDED, started_at=now - timedelta(seconds=8),
                   finished_at=now)  # fmt: skip

    response = alice_client.post(f"/jobs/{old.pk}/rerun/")

    assert response.status_code == 302
    assert Job.objects.count() == 2
