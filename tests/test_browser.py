"""End to end in Debian's Chromium: start a job, watch its stages, come back on another device.

The job profiles the session's `big_table` (600,000 rows, about 13 s in a real worker), so
the page has time to show the stages advance before the first browser context closes.
demo.loan_applications, which other tests count, is left untouched.
"""

from __future__ import annotations

import re
import time

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import BIG_TABLE
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
JOB_URL = re.compile(
    r"/jobs/(?P<pk>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$"
)
ALL_STAGES = 8  # of the semantic-model kind
WATCH_SECONDS = 60
FINISH_SECONDS = 90

# One atomic read of the status fragment, so that an htmx swap between two reads can
# never pair the stage of one fragment with the progress of the next.
SNAPSHOT_JS = """() => {
    const section = document.querySelector('#job-status');
    const current = section && section.querySelector('li.stage.current');
    const bar = section && section.querySelector('[role=progressbar]');
    return {
        status: section ? section.dataset.status : null,
        stage: current ? current.dataset.stage : null,
        percent: bar ? Number(bar.getAttribute('aria-valuenow')) : null,
    };
}"""


@pytest.fixture
def chromium(monkeypatch):
    # Playwright's sync API runs an event loop in the test thread; Django would then
    # refuse the test's own (synchronous) ORM calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's connections in the
            # loop's context: close them from inside it, or they outlive the test and
            # keep the test database from being dropped.
            connections.close_all()


def log_in(browser: Browser, base_url: str, username: str) -> Page:
    page = browser.new_context(base_url=base_url).new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('My jobs')")
    return page


def test_watch_the_stages_then_pick_the_job_up_on_a_second_device(
    big_table, worker, live_server, chromium, settings, tmp_path
):
    settings.JOB_POLL_SECONDS = 1  # the live server runs in this process
    owner = make_user("two-devices")

    # Device A: start the job; the POST answers with a redirect to the job page at once.
    laptop = log_in(chromium, live_server.url, owner.username)
    laptop.goto("/jobs/new/semantic_model/")
    laptop.select_option("select[name=table]", big_table)
    started = time.monotonic()
    laptop.click("main button[type=submit]")
    laptop.wait_for_url(JOB_URL, timeout=5_000)
    job_pk = JOB_URL.search(laptop.url)["pk"]
    laptop.wait_for_selector("#job-status")

    # Watch the page (not the database) until it has shown two stages and moving progress.
    stages: list[str] = []
    percents: list[int] = []
    statuses: list[str] = []
    deadline = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < deadline:
        snapshot = laptop.evaluate(SNAPSHOT_JS)
        statuses.append(snapshot["status"])
        if snapshot["status"] != "running":
            if snapshot["status"] == "queued":
                laptop.wait_for_timeout(500)
                continue
            break  # finished before the watch was done: the asserts below say so
        if snapshot["stage"]:
            stages.append(snapshot["stage"])
        percents.append(snapshot["percent"])
        if len(set(stages)) >= 2 and len(set(percents)) >= 2:
            break
        laptop.wait_for_timeout(500)
    seen = list(dict.fromkeys(stages))
    print(f"A watched {time.monotonic() - started:.1f} s: stages {seen}, progress {percents}")
    assert len(seen) >= 2, f"current stages seen while running: {seen}, statuses {statuses}"
    assert percents == sorted(percents), f"progress went back: {percents}"
    assert len(set(percents)) >= 2, f"progress never moved: {percents}"
    assert statuses[-1] == "running", "the job should still be running when A leaves"
    assert laptop.locator("#job-status[hx-trigger]").count() == 1, "a running job polls"
    laptop.context.close()

    # Device B: the same user finds the job in "My jobs" and follows it to the end.
    phone = log_in(chromium, live_server.url, owner.username)
    row = phone.locator(f"tr[data-job='{job_pk}']")
    assert row.count() == 1, "the job is listed as the user's"
    assert f"demo.{BIG_TABLE}" in row.inner_text()
    row.locator(f"a[href='/jobs/{job_pk}/']").click()
    phone.wait_for_url(JOB_URL)
    phone.wait_for_selector("#job-status[data-status=succeeded]", timeout=FINISH_SECONDS * 1000)

    assert phone.locator("li.stage").count() == ALL_STAGES
    assert phone.locator("li.stage.done").count() == ALL_STAGES
    assert phone.locator("#job-status[hx-trigger]").count() == 0, "polling stops at the end"
    assert phone.locator("#job-status[hx-get]").count() == 0
    assert phone.get_attribute("[role=progressbar]", "aria-valuenow") == "100"
    download = phone.locator("a", has_text="Download YAML")
    assert download.count() == 1
    assert "loan_applications" in phone.locator("pre.yaml").inner_text()
    response = phone.context.request.get(download.get_attribute("href"))
    assert response.ok
    assert f"table: {BIG_TABLE}" in response.text()
    print(f"B saw it succeed {time.monotonic() - started:.1f} s after Start")
    phone.screenshot(path=str(tmp_path / "job-succeeded.png"), full_page=True)
    assert (tmp_path / "job-succeeded.png").stat().st_size > 0
