"""A double click, a refreshed POST or a retried request gives back the same job."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import OrmQ

from jobs.engine import submitting
from jobs.engine.registry import get_kind
from jobs.models import Job
from tests.factories import PASSWORD, make_user

URL = reverse("jobs:new", args=["semantic_model"])
KEY = "3f1c2a9e-77aa-4c1e-9b1e-1a2b3c4d5e6f"


@pytest.mark.django_db
def test_the_form_carries_a_fresh_key(alice_client, demo_table):
    first = alice_client.get(URL).content.decode()
    second = alice_client.get(URL).content.decode()

    assert 'name="idempotency_key"' in first
    assert (
        first.split('name="idempotency_key" value="')[1][:36]
        != (second.split('name="idempotency_key" value="')[1][:36])
    )


@pytest.mark.django_db
def test_the_same_key_twice_gives_one_job(alice_client, demo_table):
    data = {"table": demo_table.key, "idempotency_key": KEY}

    first = alice_client.post(URL, data)
    second = alice_client.post(URL, data)

    assert Job.objects.count() == 1
    assert OrmQ.objects.count() == 1
    assert first["Location"] == second["Location"] == Job.objects.get().get_absolute_url()


@pytest.mark.django_db
def test_different_keys_or_no_key_give_separate_jobs(alice_client, demo_table):
    alice_client.post(URL, {"table": demo_table.key, "idempotency_key": KEY})
    alice_client.post(URL, {"table": demo_table.key, "idempotency_key": KEY[::-1]})
    alice_client.post(URL, {"table": demo_table.key})
    alice_client.post(URL, {"table": demo_table.key, "idempotency_key": "bad key!"})

    assert Job.objects.count() == 4


@pytest.mark.django_db
def test_a_key_never_reaches_another_users_job(client, user, demo_table):
    client.login(username=user.username, password=PASSWORD)
    client.post(URL, {"table": demo_table.key, "idempotency_key": KEY})
    other = make_user("other")
    client.login(username=other.username, password=PASSWORD)

    response = client.post(URL, {"table": demo_table.key, "idempotency_key": KEY})

    assert Job.objects.count() == 2
    assert response["Location"] == Job.objects.get(owner=other).get_absolute_url()


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_with_one_key_make_one_job():
    owner = make_user("racer")
    kind = get_kind("semantic_model")
    params = {"database": "default", "schema": "demo", "table": "loan_applications"}
    barrier = threading.Barrier(4)
    jobs = []

    def submit():
        barrier.wait()
        try:
            jobs.append(
                submitting.submit(owner=owner, kind=kind, params=params, idempotency_key=KEY)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(jobs) == 4
    assert len({job.pk for job in jobs}) == 1
    assert Job.objects.count() == 1
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_submission_writes_its_job_once_and_looks_a_key_up_only_when_it_clashes():
    owner = make_user("writer")
    kind = get_kind("semantic_model")
    params = {"database": "default", "schema": "demo", "table": "loan_applications"}

    with CaptureQueriesContext(connection) as first:
        job = submitting.submit(owner=owner, kind=kind, params=params, idempotency_key=KEY)
    with CaptureQueriesContext(connection) as again:
        same = submitting.submit(owner=owner, kind=kind, params=params, idempotency_key=KEY)

    statements = [query["sql"].split()[0].upper() for query in first]
    # The active-job count, then the job with its task's id, its task and its event.
    assert statements.count("SELECT") == 1
    assert "UPDATE" not in statements
    assert statements.count("INSERT") == 3
    task = OrmQ.objects.get()
    assert Job.objects.get(pk=job.pk).task_id == task.task_id() != ""
    # The key sent again: the INSERT refused, the job found and given back.
    assert same.pk == job.pk
    assert any("idempotency_key" in query["sql"] for query in again)
    assert Job.objects.count() == 1
    assert OrmQ.objects.count() == 1
