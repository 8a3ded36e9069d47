"""A job is its owner's alone: everyone else gets 404 from every URL of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.engine import running, submitting
from tests.factories import PASSWORD, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(user, demo_table):
    job = make_job(user, params=demo_table.as_params())
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    assert job.result["yaml"]
    return job


def job_urls(job) -> list[tuple[str, dict]]:
    detail = reverse("jobs:detail", args=[job.pk])
    return [
        (detail, {}),
        (detail, {"HX-Request": "true"}),
        (reverse("jobs:download", args=[job.pk, "yaml"]), {}),
    ]


def test_the_owner_reaches_every_url(client, user, finished_job):
    client.login(username=user.username, password=PASSWORD)

    for url, headers in job_urls(finished_job):
        assert client.get(url, headers=headers).status_code == 200, url


def test_another_user_gets_404_everywhere(client, other_user, finished_job):
    client.login(username=other_user.username, password=PASSWORD)

    for url, headers in job_urls(finished_job):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert finished_job.result["yaml"].encode() not in response.content


def test_another_users_jobs_are_not_listed(client, other_user, finished_job):
    client.login(username=other_user.username, password=PASSWORD)

    body = client.get(reverse("jobs:list")).content.decode()

    assert str(finished_job.pk) not in body
    assert "No jobs yet" in body


def test_anonymous_visitors_are_sent_to_log_in(client, finished_job):
    for url, headers in job_urls(finished_job):
        response = client.get(url, headers=headers)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_same_jobs_from_another_device(user, finished_job):
    from django.test import Client

    phone, laptop = Client(), Client()
    phone.login(username=user.username, password=PASSWORD)
    laptop.login(username=user.username, password=PASSWORD)

    assert str(finished_job.pk) in phone.get(reverse("jobs:list")).content.decode()
    assert str(finished_job.pk) in laptop.get(reverse("jobs:list")).content.decode()


@pytest.mark.parametrize("action", ["jobs:cancel", "jobs:retry"])
def test_another_user_cannot_cancel_or_retry(client, other_user, user, action):
    job = make_job(user)
    submitting.cancel(job)
    client.login(username=other_user.username, password=PASSWORD)

    assert client.post(reverse(action, args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == "cancelled" and job.attempt_offset == 0
