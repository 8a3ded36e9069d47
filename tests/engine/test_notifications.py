"""An owner who left a job's page hears by e-mail when it ends; one who watched does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from jobs.engine import notifications, running, submitting
from jobs.engine.worker import recovery
from jobs.models import Job, Preferences
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db
KINDS = ["jobs.kinds.semantic_model", "tests.kinds_for_tests"]


@pytest.fixture(autouse=True)
def test_kinds(settings):
    settings.JOB_KIND_MODULES = KINDS
    settings.JOB_NOTIFY_AWAY_SECONDS = 30
    settings.SITE_URL = "https://jobs.example.com"


@pytest.fixture
def owner():
    return make_user("away", email="away@example.com")


def primes(owner, fail: bool = False, **fields) -> Job:
    return make_job(owner, kind="primes", params={"n": 20, "fail": fail}, **fields)


def test_a_job_that_ends_with_nobody_watching_sends_one_email(owner):
    job = primes(owner)

    running.run_queued_job(str(job.pk))

    (email,) = mail.outbox
    assert email.to == ["away@example.com"]
    assert email.subject == "Your Primes is ready"
    assert f"https://jobs.example.com/jobs/{job.pk}/" in email.body
    assert not notifications.notify_if_away(job.pk), "never twice"
    assert len(mail.outbox) == 1


def test_a_failure_says_why(owner):
    job = primes(owner, fail=True)

    running.run_queued_job(str(job.pk))

    (email,) = mail.outbox
    assert email.subject == "Your Primes failed"
    assert "There were too many primes to report." in email.body


def test_no_email_when_the_owner_watched_it_end(client, owner):
    job = primes(owner)
    client.force_login(owner)
    client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert Job.objects.get(pk=job.pk).watched_at is not None

    running.run_queued_job(str(job.pk))

    assert mail.outbox == []


def test_a_page_left_long_ago_counts_as_away(owner):
    job = primes(owner, watched_at=timezone.now() - timedelta(minutes=5))

    running.run_queued_job(str(job.pk))

    assert len(mail.outbox) == 1


def test_polling_writes_the_watch_mark_at_most_every_few_seconds(client, owner):
    job = primes(owner, status=Job.Status.RUNNING)
    client.force_login(owner)
    client.get(job.get_absolute_url())
    first = Job.objects.get(pk=job.pk).watched_at

    client.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    assert Job.objects.get(pk=job.pk).watched_at == first


def test_no_email_when_turned_off_cancelled_or_without_an_address(client, owner):
    client.force_login(owner)
    page = client.get(reverse("jobs:notification_settings")).content.decode()
    assert "away@example.com" in page
    response = client.post(reverse("jobs:notification_settings"), {})  # unticked
    assert response.status_code == 302, response.content.decode()
    assert Preferences.objects.get(user=owner).email_when_done is False
    running.run_queued_job(str(primes(owner).pk))

    cancelled = primes(make_user(email="c@example.com"))
    submitting.cancel(cancelled)
    no_address = primes(make_user())
    running.run_queued_job(str(no_address.pk))

    assert mail.outbox == []
    assert not notifications.notify_if_away(cancelled.pk)


def test_a_worker_lost_for_good_is_told_too(owner, settings, django_capture_on_commit_callbacks):
    settings.MAX_JOB_RETRIES = 0
    job = primes(
        owner,
        status=Job.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )

    with django_capture_on_commit_callbacks(execute=True):
        recovery.recover_lost_jobs()

    (email,) = mail.outbox
    assert "Worker lost" in email.body and job.title in email.subject


def test_without_a_mail_server_nothing_pretends_to_send(client, owner, settings):
    # Production without EMAIL_HOST (site/settings.py): notifications are off, and said so.
    settings.EMAIL_ENABLED = False
    job = primes(owner)

    running.run_queued_job(str(job.pk))
    client.force_login(owner)
    page = client.get(reverse("jobs:notification_settings")).content.decode()

    assert mail.outbox == []
    job.refresh_from_db()
    assert job.notified_at is None
    assert "sends no e-mails: notifications are off" in page
    assert "E-mails go to" not in page
