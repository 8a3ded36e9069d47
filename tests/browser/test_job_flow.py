"""The whole flow in Debian's Chromium: start a job, watch it, come back from elsewhere."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.engine.registry import get_kind
from jobs.models import Job
from tests.browser.conftest import log_in
from tests.conftest import BIG_TABLE, COPIES, wait_for
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_start_watch_leave_and_come_back_on_another_device(
    browser, live_server, big_table, worker, settings, tmp_path
):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("traveller")

    laptop = log_in(browser, live_server.url, owner.username)
    laptop.goto("/jobs/new/semantic_model/")
    laptop.select_option("select[name=database]", "default")
    laptop.check(f"input[name=tables][value='{big_table}']")
    started = time.monotonic()
    laptop.click("main button[type=submit]")
    laptop.wait_for_selector("#job-status")
    assert re.search(r"/jobs/[0-9a-f-]{36}/$", laptop.url)
    assert time.monotonic() - started < 5, "submitting must answer at once"
    job = Job.objects.get(owner=owner)

    stages, progress = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = laptop.get_attribute("#job-status", "data-status")
        current = laptop.locator("li.stage.current")
        if current.count():
            stages.append(current.get_attribute("data-stage"))
        progress.append(int(laptop.get_attribute("[role=progressbar]", "aria-valuenow")))
        if status not in ("queued", "running") or len(set(stages)) >= 3:
            break
        laptop.wait_for_timeout(250)
    distinct = list(dict.fromkeys(stages))
    assert len(distinct) >= 2, f"saw stages {distinct}"
    assert progress == sorted(progress) and len(set(progress)) >= 2, progress
    assert laptop.locator("#job-live[hx-trigger]").count() == 1
    laptop.context.close()

    phone = log_in(browser, live_server.url, owner.username)
    phone.click(f"a[href='/jobs/{job.pk}/']")
    phone.wait_for_selector("#job-status[data-status=succeeded]", timeout=90_000)

    assert phone.locator("li.stage.done").count() == len(get_kind("semantic_model").stages)
    assert phone.locator("#job-live[hx-trigger]").count() == 0
    assert phone.get_attribute("[role=progressbar]", "aria-valuenow") == "100"
    assert phone.title().startswith("✓ Succeeded · Semantic model"), phone.title()
    assert phone.locator("a", has_text="Download YAML").count() == 1
    assert f"table: {BIG_TABLE}" in phone.locator("pre.yaml").inner_text()
    # The folded log opens, and a stage's log lists what it reported after it began.
    phone.click("details.stage-list > summary")
    phone.click("#log-profiling > summary")
    reported = phone.locator("#log-profiling li.reported").last
    assert reported.is_visible() and re.search(r"\d of \d+, [\d,]+ rows\)$", reported.inner_text())
    phone.screenshot(path=str(tmp_path / "finished.png"), full_page=True)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"]["rows"] == 3_000 * COPIES


def test_a_hidden_tab_refreshes_as_soon_as_it_is_shown_again(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 600  # no timer tick during the test
    owner = make_user("phone-user")
    job = Job.objects.create(owner=owner, kind="semantic_model", status=Job.Status.RUNNING,
                             stage="profiling", message="first")  # fmt: skip
    page = log_in(browser, live_server.url, owner.username)
    page.goto(f"/jobs/{job.pk}/")
    assert "first" in page.inner_text("#job-status")

    Job.objects.filter(pk=job.pk).update(stage="sampling", message="second")
    page.evaluate(
        """() => {
            Object.defineProperty(
                document, 'visibilityState', {value: 'visible', configurable: true}
            );
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )

    wait_for(lambda: "second" in page.inner_text("#job-status"), timeout=10, what="a refresh")
    assert page.get_attribute("li.stage.current", "data-stage") == "sampling"


def test_the_page_counts_the_time_and_revalidates_its_poll(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("ticker")
    job = Job.objects.create(
        owner=owner, kind="semantic_model", status=Job.Status.RUNNING, stage="profiling",
        message="working", attempts=1, started_at=timezone.now() - timedelta(seconds=65),
    )  # fmt: skip
    page = log_in(browser, live_server.url, owner.username)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "/status/?t=" in r.url else None)
    page.goto(f"/jobs/{job.pk}/")

    # The elapsed time counts on in the browser, between polls and across them.
    first = page.inner_text("#job-status .elapsed")
    assert re.fullmatch(r"Elapsed: 1 min 0\d s", first)
    wait_for(lambda: page.inner_text("#job-status .elapsed") != first, timeout=5, what="a tick")
    # Nothing changed: the browser revalidates and the server answers 304.
    # (Playwright hands over its events while the page is asked something.)
    wait_for(lambda: page.evaluate("1") and polls.count(304) >= 2, timeout=10, what="304s")
    assert "working" in page.inner_text("#job-status")

    Job.objects.filter(pk=job.pk).update(message="moved on", progress=0.5)
    wait_for(lambda: "moved on" in page.inner_text("#job-status"), timeout=10, what="news")
    assert page.get_attribute("[role=progressbar]", "aria-valuenow") == "50"
    assert re.fullmatch(r"Elapsed: 1 min \d\d s", page.inner_text("#job-status .elapsed"))


def test_an_expired_poll_url_reloads_the_page_with_a_new_one(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 1
    settings.JOB_POLL_TOKEN_SECONDS = 2
    owner = make_user("long-reader")
    job = Job.objects.create(owner=owner, kind="semantic_model", status=Job.Status.RUNNING,
                             stage="profiling", message="working", attempts=1)  # fmt: skip
    page = log_in(browser, live_server.url, owner.username)
    page.goto(f"/jobs/{job.pk}/")
    first = page.get_attribute("#job-live", "hx-get")

    wait_for(
        lambda: page.get_attribute("#job-live", "hx-get") not in (None, first),
        timeout=15,
        what="the page to reload itself with a fresh poll URL",
    )
    Job.objects.filter(pk=job.pk).update(message="still watched")
    wait_for(lambda: "still watched" in page.inner_text("#job-status"), timeout=10, what="news")
