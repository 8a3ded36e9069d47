"""The owner cancels a queued or running job from its page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.engine import running
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.conftest import start_profiling, wait_for
from tests.factories import PASSWORD, make_job, make_user


def cancel_url(job: Job) -> str:
    return reverse("jobs:cancel", args=[job.pk])


@pytest.mark.django_db
class TestCancel:
    def test_a_queued_job_is_cancelled_and_its_task_does_nothing(self, alice_client, user):
        job = make_job(user)

        response = alice_client.post(cancel_url(job), follow=True)

        job.refresh_from_db()
        assert job.status == Job.Status.CANCELLED and job.finished_at
        assert "The job was cancelled." in response.content.decode()
        assert running.run_queued_job(str(job.pk)) == "skipped"
        job.refresh_from_db()
        assert job.attempts == 0

    def test_cancelling_twice_is_harmless(self, alice_client, user):
        job = make_job(user)
        alice_client.post(cancel_url(job))

        response = alice_client.post(cancel_url(job), follow=True)

        assert "already ended (cancelled)" in response.content.decode()
        assert JobEvent.objects.filter(job=job, name="cancelled").count() == 1

    def test_a_finished_job_stays_finished(self, alice_client, user):
        job = make_job(user, status=Job.Status.SUCCEEDED)

        alice_client.post(cancel_url(job))

        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED

    def test_the_page_offers_cancel_only_while_active(self, alice_client, user):
        active = make_job(user, status=Job.Status.RUNNING)
        done = make_job(user, status=Job.Status.SUCCEEDED)

        assert cancel_url(active) in alice_client.get(active.get_absolute_url()).content.decode()
        assert cancel_url(done) not in alice_client.get(done.get_absolute_url()).content.decode()

    def test_only_the_owner_can_cancel_and_only_by_post(self, client, user):
        job = make_job(user)
        client.login(username=make_user("other").username, password=PASSWORD)

        assert client.post(cancel_url(job)).status_code == 404
        client.login(username=user.username, password=PASSWORD)
        assert client.get(cancel_url(job)).status_code == 405
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_running_job_stops_within_seconds_and_the_worker_goes_on(client, big_table, worker):
    owner = make_user("canceller")
    job = start_profiling(client, owner, big_table)
    wait_for(
        lambda: JobCheckpoint.objects.filter(job=job, key__startswith="profiled|").count() >= 2,
        timeout=30,
        what="two columns to be profiled",
    )

    client.post(cancel_url(job))

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # The worker's next progress write finds the job cancelled, and the run ends there.
    wait_for(
        lambda: (
            f"job finished id={job.pk} kind=semantic_model attempt=1 status=cancelled"
            in worker.log()
        ),
        timeout=5,
        what="the worker to stop the cancelled job",
    )
    assert not JobEvent.objects.filter(job=job, type="stage", name="saving").exists()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # It keeps what it finished: the columns profiled before it stopped.
    saved = JobCheckpoint.objects.filter(job=job, key__startswith="profiled|").count()
    (table,) = job.result["profile"]
    assert job.result["partial"] is True and "yaml" not in job.result
    assert len(table["columns"]) == saved >= 2
    assert all(column["role"] and column["row_count"] == 600_000 for column in table["columns"])
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Partial result" in page and table["columns"][0]["name"] in page
    assert client.get(reverse("jobs:download", args=[job.pk, "yaml"])).status_code == 404

    client.post(reverse("jobs:new", args=["semantic_model"]), {"table": "default:demo.lenders"})
    later = Job.objects.filter(owner=owner).exclude(pk=job.pk).get()
    wait_for(
        lambda: Job.objects.get(pk=later.pk).status == Job.Status.SUCCEEDED,
        timeout=60,
        what="the next job to run",
    )


@pytest.mark.django_db
def test_the_owner_retries_a_cancelled_job_from_its_page(alice_client, user):
    job = make_job(user)
    alice_client.post(cancel_url(job))
    assert (
        reverse("jobs:retry", args=[job.pk])
        in alice_client.get(job.get_absolute_url()).content.decode()
    )

    response = alice_client.post(reverse("jobs:retry", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert "queued again" in response.content.decode()
    again = alice_client.post(reverse("jobs:retry", args=[job.pk]), follow=True)
    assert "Only a failed or cancelled job can be retried" in again.content.decode()
    assert alice_client.get(reverse("jobs:retry", args=[job.pk])).status_code == 405
