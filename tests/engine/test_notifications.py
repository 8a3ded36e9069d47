"""An owner who left a job's page hears by e-mail when it ends; one who watched does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.engine import notifications, running, submitting
from jobs.engine.worker import process, recovery
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
    assert notifications.notify_ended([job.pk]) == 0, "never twice"
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
    assert notifications.notify_ended([cancelled.pk]) == 0


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


class CountingBackend(locmem.EmailBackend):
    """The test mailbox, counting the mail server connections asked for."""

    made = 0

    def __init__(self, *args, **kwargs):
        type(self).made += 1
        super().__init__(*args, **kwargs)


def ended_jobs(count: int) -> list:
    jobs = [primes(make_user(email=f"owner{n}@example.com")) for n in range(count)]
    Job.objects.filter(pk__in=[job.pk for job in jobs]).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now()
    )
    return [job.pk for job in jobs]


@pytest.mark.parametrize("count", [1, 12])
def test_a_burst_of_endings_costs_the_queries_and_connection_of_one(settings, count):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.CountingBackend"}}
    ids = ended_jobs(count)
    CountingBackend.made = 0

    with CaptureQueriesContext(connection) as queries:
        sent = notifications.notify_ended(ids)

    assert sent == count
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        f"owner{n}@example.com" for n in range(count)
    )
    assert CountingBackend.made == 1, "one mail server connection for the batch"
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 2, statements
    assert notifications.notify_ended(ids) == 0, "never twice"


def test_a_mail_server_that_refuses_leaves_the_jobs_untold(settings):
    # Nothing listens on the discard port: the connection is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    ids = ended_jobs(3)

    assert notifications.notify_ended(ids) == 0

    assert Job.objects.filter(pk__in=ids, notified_at__isnull=True).count() == 3


@pytest.mark.django_db(transaction=True)
def test_jobs_ending_together_in_one_worker_each_tell_their_owner_once(owner):
    jobs = [primes(make_user(email=f"owner{n}@example.com")) for n in range(10)]
    # Committed, run by a worker with connections of its own, as in a worker process.
    worker = process.Worker(sweep=False)
    worker.start()
    try:
        outcomes = worker.run_batch()
    finally:
        worker.stop()

    assert set(outcomes.values()) == {Job.Status.SUCCEEDED}
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        f"owner{n}@example.com" for n in range(10)
    )
    assert (
        Job.objects.filter(pk__in=[job.pk for job in jobs], notified_at__isnull=True).count() == 0
    )
