"""A deep dive stopped midway keeps the steps of its analysis it finished, shows them as a
partial result, and resumes from them to the report an uninterrupted run writes."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pytest
from django.urls import reverse

from jobs.analysis.texts import dissecting
from jobs.engine import running, submitting
from jobs.kinds import deep_dive
from jobs.models import Job, JobCheckpoint
from tests.factories import PASSWORD, demo_documents, make_document, make_job, make_user

OBJECTIVE = "effect on HbA1c"
NOT_REACHED = "Not reached: the job stopped before this step."


def run(job: Job) -> Job:
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    return job


def trial(owner):
    """The demo randomised trial: every step finds something in it."""
    return next(doc for doc in demo_documents(owner) if doc.filename == "fasting_rct.md")


def with_step(monkeypatch, key: str, wrap) -> None:
    """The analysis with step `key`'s finding wrapped: what a test does at that step."""
    steps = tuple(
        dataclasses.replace(step, find=wrap(step.find)) if step.key == key else step
        for step in dissecting.STEPS
    )
    monkeypatch.setattr(dissecting, "STEPS", steps)


def saved_steps(job: Job) -> dict[str, int]:
    """Each saved step of the analysis, with the attempt that computed it."""
    rows = JobCheckpoint.objects.filter(job=job, key__startswith="analysis|")
    return {
        key.removeprefix("analysis|"): attempt
        for key, attempt in rows.values_list("key", "attempt")
    }


def downloads(client, job: Job) -> tuple[bytes, bytes]:
    return tuple(
        client.get(reverse("jobs:download", args=[job.pk, fmt])).content for fmt in ("md", "json")
    )


@pytest.mark.django_db(transaction=True)
def test_cancelled_mid_analysis_it_shows_the_finished_steps_and_resumes_to_the_same_report(
    client, monkeypatch, settings
):
    # The worker's keeper looks for cancelled jobs every cycle: twenty cycles a second.
    settings.JOB_PROGRESS_WRITE_SECONDS = 0.05
    owner = make_user("diver")
    client.login(username=owner.username, password=PASSWORD)
    # Without its figures and tables, so that the report lists more than one thing the
    # text lacks: in the same order whichever attempt read the key results.
    text = re.sub(r"\b(?:Figure|Table) ", "Panel ", trial(owner).text)
    document = make_document(owner, "Trial without figures", text)
    params = {"document_id": document.pk, "objective": OBJECTIVE}
    job = make_job(owner, kind="deep_dive", params=params)

    def cancel_after(find):
        def find_then_cancel(text, objective, found):
            fields = find(text, objective, found)
            # The owner cancels while the key results are being read; the keeper tells
            # the job within a cycle, and the job stops at its next report.
            assert submitting.cancel(Job.objects.get(pk=job.pk))
            time.sleep(1)
            return fields

        return find_then_cancel

    with monkeypatch.context() as patched:
        with_step(patched, "results", cancel_after)
        assert running.run_queued_job(str(job.pk)) == Job.Status.CANCELLED

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # The step being computed when the owner cancelled is kept, and nothing after it ran.
    assert saved_steps(job) == {"sections": 1, "design": 1, "methods": 1, "results": 1}
    result = job.result
    assert result["partial"] is True
    assert result["not_reached"] == ["overview", "limitations", "anchors"]
    assert result["study_design"]["value"] == "randomized controlled trial"
    assert "p = 0.002" in [p["text"] for p in result["key_results"]["p_values"]]
    assert "limitations" not in result and "anchors" not in result
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Partial result: what the job finished before it stopped." in page
    assert "randomized controlled trial" in page and "p = 0.002" in page
    assert ">Conclusion</a>" in page, "the sections found link to their place"
    # Overview, limitations, fact anchors: each says it was not reached, not that the
    # text lacks it.
    assert page.count(NOT_REACHED) == 3
    assert "Not stated in the text." not in page and "No checkable facts found." not in page
    markdown, _ = downloads(client, job)
    assert markdown.decode().count(NOT_REACHED) == 3
    assert "*Partial report: the job stopped before it finished.*" in markdown.decode()

    client.post(reverse("jobs:retry", args=[job.pk]))
    resumed = run(job)
    clean = run(make_job(owner, kind="deep_dive", params=params))

    assert resumed.status == clean.status == Job.Status.SUCCEEDED, resumed.error
    # The retry did only the steps the first attempt had not finished.
    assert saved_steps(resumed) == {
        "sections": 1, "design": 1, "methods": 1, "results": 1,
        "limitations": 2, "anchors": 2, "summary": 2,
    }  # fmt: skip
    assert json.dumps(resumed.result) == json.dumps(clean.result)
    assert downloads(client, resumed) == downloads(client, clean)
    assert "partial" not in resumed.result and "not_reached" not in resumed.result
    assert resumed.result["unsupported"] == ["key_results.figures", "key_results.tables"]


@pytest.mark.django_db
def test_a_failure_mid_analysis_keeps_the_finished_steps(alice_client, user, monkeypatch, settings):
    settings.MAX_JOB_RETRIES = 0
    params = {"document_id": trial(user).pk, "objective": OBJECTIVE}

    def crash(find):
        def crashing(text, objective, found):
            raise RuntimeError("the anchors could not be read")

        return crashing

    with_step(monkeypatch, "anchors", crash)
    job = run(make_job(user, kind="deep_dive", params=params))

    assert job.status == Job.Status.FAILED
    assert "the anchors could not be read" in job.error
    assert set(saved_steps(job)) == {"sections", "design", "methods", "results", "limitations"}
    assert job.result["partial"] is True
    assert job.result["not_reached"] == ["overview", "anchors"]
    assert any("open-label" in item["text"] for item in job.result["limitations"])
    page = alice_client.get(job.get_absolute_url()).content.decode()
    assert "Partial result" in page and "open-label" in page
    assert page.count(NOT_REACHED) == 2


@pytest.mark.django_db
def test_every_partial_deep_dive_renders_and_says_what_it_lacks(alice_client, user):
    params = {"document_id": trial(user).pk, "objective": OBJECTIVE}
    done = run(make_job(user, kind="deep_dive", params=params))
    saved = dict(JobCheckpoint.objects.filter(job=done).values_list("key", "value"))
    keys = [f"analysis|{step.key}" for step in dissecting.STEPS]
    assert set(saved) == set(keys)

    assert deep_dive.partial(params, {}) is None
    for finished in range(1, len(keys) + 1):
        result = deep_dive.partial(params, {key: saved[key] for key in keys[:finished]})
        job = make_job(user, kind="deep_dive", params=params, status=Job.Status.CANCELLED)
        Job.objects.filter(pk=job.pk).update(result={**result, "partial": True})

        page = alice_client.get(job.get_absolute_url())
        markdown = alice_client.get(reverse("jobs:download", args=[job.pk, "md"]))

        assert page.status_code == markdown.status_code == 200
        # The overview is never written; each part a step did not reach says so.
        missing = len(result["not_reached"])
        assert page.content.decode().count(NOT_REACHED) == missing
        assert markdown.content.decode().count(NOT_REACHED) == missing
        assert result["unsupported"] == [], "a part not reached is not a gap in the text"
    assert result["not_reached"] == ["overview"]
