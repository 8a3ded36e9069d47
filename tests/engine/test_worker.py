"""Jobs run by a real qcluster process, submitted the way a browser submits them."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse
from django_q.models import OrmQ

from jobs.models import Job, JobEvent
from tests.conftest import wait_for
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_submitted_job_runs_to_success_in_a_real_worker(client, demo_table, worker):
    owner = make_user("worker-owner")
    client.login(username=owner.username, password=PASSWORD)

    response = client.post(reverse("jobs:new", args=["semantic_model"]), {"table": demo_table.key})

    job = Job.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()

    def finished():
        job.refresh_from_db()
        return not job.is_active

    wait_for(finished, timeout=60, what="the worker to finish the job")
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.progress == 1.0
    assert job.attempts == 1
    model = yaml.safe_load(job.result["yaml"])
    assert model["tables"][0]["base_table"]["table"] == "loan_applications"
    assert job.result["summary"]["rows"] == 3_000
    stages = list(
        JobEvent.objects.filter(job=job, type=JobEvent.Type.STAGE).values_list("name", flat=True)
    )
    assert stages == [
        "reading_schema", "profiling", "sampling", "relating", "classifying",
        "describing", "proposing", "validating", "saving",
    ]  # fmt: skip
    queued = [entry.name() for entry in OrmQ.objects.all()]
    assert f"job-{job.pk}" not in queued, "the queue entry is acknowledged once the job is done"

    page = client.get(job.get_absolute_url())
    assert b"Download YAML" in page.content


def test_jobs_queued_while_no_worker_runs_are_picked_up_when_one_starts(
    client, demo_table, worker_env, tmp_path
):
    from tests.conftest import Worker

    owner = make_user("patient")
    client.login(username=owner.username, password=PASSWORD)
    for _ in range(3):
        client.post(reverse("jobs:new", args=["semantic_model"]), {"table": demo_table.key})
    assert Job.objects.filter(owner=owner, status=Job.Status.QUEUED).count() == 3

    process = Worker(tmp_path / "late.log", worker_env).start()
    try:
        wait_for(
            lambda: Job.objects.filter(owner=owner, status=Job.Status.SUCCEEDED).count() == 3,
            timeout=90,
            what="three queued jobs to succeed",
        )
    finally:
        process.stop()


def submit_and_wait(client, kind: str, data: dict, timeout: float = 60) -> Job:
    response = client.post(reverse("jobs:new", args=[kind]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.latest("created_at")

    def finished():
        job.refresh_from_db()
        return not job.is_active

    wait_for(finished, timeout=timeout, what=f"the worker to finish the {kind} job")
    return job


def test_review_and_deep_dive_run_in_a_real_worker(client, worker):
    from tests.factories import demo_documents

    owner = make_user("reader")
    client.login(username=owner.username, password=PASSWORD)
    documents = {doc.filename: doc for doc in demo_documents(owner)}

    review = submit_and_wait(
        client,
        "review",
        {
            "question": "Does intermittent fasting improve glycaemic control in type 2 diabetes?",
            "documents": [doc.pk for doc in documents.values()],
            "mode": "precision",
        },
    )
    dive = submit_and_wait(
        client,
        "deep_dive",
        {"document": documents["fasting_cohort.md"].pk, "objective": "risk of diabetes"},
    )

    assert review.status == Job.Status.SUCCEEDED, review.error
    assert len(review.result["documents"]) == 3
    assert review.result["documents"][0]["anchors"]
    assert dive.status == Job.Status.SUCCEEDED, dive.error
    assert dive.result["study_design"]["value"] == "prospective cohort study"
    intervals = [ci["text"] for ci in dive.result["key_results"]["confidence_intervals"]]
    assert "95% CI 0.72-0.91" in intervals


def test_a_worker_streams_from_the_configured_provider(client, worker_env, tmp_path):
    from tests.conftest import Worker
    from tests.factories import demo_documents
    from tests.fake_openai import FakeOpenAI, Script

    owner = make_user("streamer")
    client.login(username=owner.username, password=PASSWORD)
    document = demo_documents(owner)[0]
    # The overview keeps only sentences that cite a passage given to the model (issue 16).
    script = Script(answer="The trial lowered **HbA1c** [P1].", chunks=8, delay=0.05)
    with FakeOpenAI(script=script) as fake:
        env = {**worker_env, "AI_BASE_URL": fake.base_url, "AI_MODEL": "fake-model"}
        process = Worker(tmp_path / "ai-worker.log", env).start()
        try:
            job = submit_and_wait(
                client, "deep_dive", {"document": document.pk, "objective": "HbA1c"}
            )
        finally:
            process.stop()

    assert job.status == Job.Status.SUCCEEDED, job.error + process.log()[-3000:]
    assert job.result["overview"] == "The trial lowered **HbA1c** [P1]."
    assert job.result["engine"] == "AI model fake-model"
    assert script.requests and script.requests[0]["body"]["stream"] is True
