"""What a user does with a job once it has ended, and how the lists tell jobs apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.engine import running
from jobs.engine.registry import get_kind
from jobs.models import Document, Job
from tests.factories import PASSWORD, make_document, make_job

pytestmark = pytest.mark.django_db


def review_params(*documents: Document, question: str = "Which rates were measured?") -> dict:
    return {"question": question, "document_ids": [d.pk for d in documents], "mode": "recall"}


def test_run_again_makes_a_new_job_with_the_same_inputs(alice_client, user, demo_table):
    old = make_job(user, params=demo_table.as_params(), status=Job.Status.SUCCEEDED)

    response = alice_client.post(f"/jobs/{old.pk}/rerun/")

    new = Job.objects.exclude(pk=old.pk).get()
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert (new.kind, new.params, new.status) == (old.kind, old.params, Job.Status.QUEUED)
    old.refresh_from_db()
    assert old.status == Job.Status.SUCCEEDED, "the old job stays as it was"


def test_edit_and_run_again_fills_the_form_from_the_job(alice_client, user):
    first, second = make_document(user, title="A"), make_document(user, title="B")
    old = make_job(user, kind="review", params=review_params(second), status=Job.Status.FAILED)

    page = alice_client.get(f"/jobs/new/review/?from={old.pk}").content.decode()

    assert "Which rates were measured?</textarea>" in page
    assert re.search(rf'value="{second.pk}"[^>]*checked', page)
    assert not re.search(rf'value="{first.pk}"[^>]*checked', page)
    assert re.search(r'value="recall"[^>]*checked', page)


def test_nobody_edits_from_another_users_job(alice_client, other_user):
    theirs = make_job(other_user, kind="review", params={"question": "Secret question?"})

    response = alice_client.get(f"/jobs/new/review/?from={theirs.pk}")

    assert response.status_code == 404
    assert b"Secret question" not in response.content
    assert alice_client.post(f"/jobs/{theirs.pk}/rerun/").status_code == 404


def test_a_failure_that_would_repeat_offers_an_edit_not_a_retry(alice_client, user, settings):
    settings.JOB_KIND_MODULES = ["jobs.kinds.semantic_model", "tests.kinds_for_tests"]
    lasting = make_job(user, kind="primes", params={"n": 20, "fail": True})
    running.run_queued_job(str(lasting.pk))
    lasting.refresh_from_db()
    passing = make_job(user, status=Job.Status.FAILED, error="The provider timed out.",
                       retryable=True)  # fmt: skip

    lasting_page = alice_client.get(lasting.get_absolute_url()).content.decode()
    passing_page = alice_client.get(passing.get_absolute_url()).content.decode()
    refused = alice_client.post(f"/jobs/{lasting.pk}/retry/", follow=True)

    assert lasting.status == Job.Status.FAILED and not lasting.retryable
    assert "Resume from the last step" not in lasting_page
    assert "Edit and run again" in lasting_page and "Run again" in lasting_page
    assert "Resume from the last step" in passing_page
    assert "would fail the same way" in refused.content.decode()
    lasting.refresh_from_db()
    assert lasting.status == Job.Status.FAILED


def test_an_ended_job_shows_its_result_and_actions_first_and_its_stages_folded(
    alice_client, user, demo_table
):
    job = make_job(user, params=demo_table.as_params())
    running.run_queued_job(str(job.pk))

    page = alice_client.get(job.get_absolute_url()).content.decode()

    assert page.index("Run again") < page.index("Download YAML") < page.index('class="stages"')
    stages = re.search(r'<details class="stage-list">\s*<summary>(.*?)</summary>', page, re.S)
    count = len(get_kind("semantic_model").stages)
    assert stages and stages.group(1).startswith(f"Log: {count} stages · ")
    assert page.count('class="duration muted"') == count, "each stage with its duration"


def test_cancel_asks_first_and_says_so_once(alice_client, user):
    job = make_job(user, status=Job.Status.RUNNING, attempts=1)

    page = alice_client.get(job.get_absolute_url()).content.decode()
    after = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()

    assert re.search(
        r'<details class="confirm cancel" id="cancel-job" hx-preserve>\s*'
        r'<summary class="button danger-outline" role="button">Cancel job…</summary>'
        r'.*<button type="submit" class="danger">Yes, cancel it</button>',
        page,
        re.S,
    )
    assert after.count("cancelled.") == 1 and 'class="messages"' not in after


def test_a_poll_that_brings_a_new_stage_or_the_end_is_announced(alice_client, user):
    job = make_job(user, status=Job.Status.RUNNING, stage="profiling", attempts=1)
    page = alice_client.get(job.get_absolute_url()).content.decode()
    url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    tag = alice_client.get(url, headers={"HX-Request": "true"})["ETag"]

    Job.objects.filter(pk=job.pk).update(stage="sampling")
    staged = alice_client.get(url, headers={"HX-Request": "true", "If-None-Match": tag})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    ended = alice_client.get(url, headers={"HX-Request": "true", "If-None-Match": staged["ETag"]})

    # One live region on the page, never replaced: polls fill it out of band.
    assert page.count('aria-live="polite"') == 1 and 'id="job-announcer"' in page
    assert '<div id="job-announcer" hx-swap-oob="innerHTML">Now: Sampling values.</div>' in (
        staged.content.decode()
    )
    assert 'hx-swap-oob="innerHTML">The job succeeded.</div>' in ended.content.decode()


def test_my_jobs_counts_by_status_and_tells_lookalikes_apart(alice_client, user):
    documents = [make_document(user, title=f"D{n}") for n in range(3)]
    one = make_job(user, kind="review", params=review_params(documents[0]),
                   title="Which rates were measured?")  # fmt: skip
    three = make_job(user, kind="review", params=review_params(*documents),
                     title="Which rates were measured?", status=Job.Status.FAILED)  # fmt: skip
    make_job(user, status=Job.Status.SUCCEEDED, title="demo.loans")
    Job.objects.filter(pk=one.pk).update(created_at=timezone.now() - timedelta(minutes=3))

    page = alice_client.get("/jobs/").content.decode()

    assert "1 queued" in page and "1 failed" in page and "1 succeeded" in page
    assert f"#{str(one.pk)[:8]} · 1 document, recall" in page
    assert f"#{str(three.pk)[:8]} · 3 documents, recall" in page
    assert page.count('class="lookalike') == 2, "only the jobs that look alike"
    assert "3\xa0minutes ago" in page
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', page)
    assert 'class="progress small failed"' in page
    assert '<label for="id_status">Status' in page and '<label for="id_kind">Kind' in page


def test_a_deep_dive_is_listed_with_its_documents_title(alice_client, user):
    document = make_document(user, title="Fasting trial", text="Methods and results. " * 20)

    alice_client.post("/jobs/new/deep_dive/",
                      {"document": document.pk, "objective": "effect sizes"})  # fmt: skip

    assert Job.objects.get().title == "Fasting trial: effect sizes"


def test_pages_not_found_look_like_the_app(client, user):
    client.login(username=user.username, password=PASSWORD)

    response = client.get("/jobs/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "css/app" in body and "<h1>Not found</h1>" in body


def test_the_server_error_page_looks_like_the_app():
    from django.template.loader import render_to_string

    body = render_to_string("500.html")

    assert "css/app" in body and "Something went wrong" in body


def test_every_page_has_a_skip_link_and_a_favicon(alice_client):
    page = alice_client.get("/jobs/").content.decode()

    assert '<a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<main id="main"' in page and 'rel="icon"' in page


def test_the_documents_table_labels_every_column(alice_client, user):
    make_document(user)

    page = alice_client.get("/documents/").content.decode()

    assert "<th></th>" not in page
    assert '<span class="visually-hidden">Actions</span>' in page


def test_a_logged_out_user_cannot_rerun(user):
    job = make_job(user, status=Job.Status.SUCCEEDED)

    response = Client().post(f"/jobs/{job.pk}/rerun/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Job.objects.count() == 1
