from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, make_job, make_user

pytestmark = pytest.mark.django_db


def test_staff_see_every_users_jobs_and_their_history(client):
    staff = make_user("staff", is_staff=True, is_superuser=True)
    job = make_job(make_user("someone"), status="failed", error="worker lost")
    client.login(username=staff.username, password=PASSWORD)

    changelist = client.get(reverse("admin:jobs_job_changelist"))
    change = client.get(reverse("admin:jobs_job_change", args=[job.pk]))

    assert changelist.status_code == 200
    assert str(job.pk) in changelist.content.decode()
    assert change.status_code == 200
    body = change.content.decode()
    assert "worker lost" in body
    assert "queued" in body  # the event history inline


def test_users_without_staff_rights_cannot_open_the_admin(client, user):
    client.login(username=user.username, password=PASSWORD)

    response = client.get(reverse("admin:jobs_job_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
