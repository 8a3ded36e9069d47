"""Debian's Chromium, driven by Playwright, for the tests of pages in a real browser."""

from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

from tests.factories import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes meanwhile are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        # Connections opened while Playwright's loop ran live in its context: close them
        # here, or they keep the test database from being dropped.
        connections.close_all()


def log_in(browser: Browser, base_url: str, username: str, **context) -> Page:
    """A new browser context (`context`: Playwright's options, such as a phone's viewport
    or a colour scheme), logged in as `username`."""
    page = browser.new_context(base_url=base_url, **context).new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('My jobs')")
    return page


def app_pages(owner) -> list[str]:
    """Every page of the app a user sees, with a job in each state and a document; the
    staff's stats page too for staff (the admin is Django's own, not checked here)."""
    from jobs.models import Job
    from tests.factories import make_document, make_job

    document = make_document(owner, title="Trial notes", text="Methods and results. " * 30)
    running = make_job(owner, status=Job.Status.RUNNING, stage="profiling", attempts=1,
                       message="Profiling amount (3 of 12)", progress=0.3)  # fmt: skip
    failed = make_job(owner, status=Job.Status.FAILED, attempts=1, error="No table.",
                      retryable=False)  # fmt: skip
    queued = make_job(owner)
    return [
        "/jobs/", "/jobs/new/", "/jobs/new/semantic_model/", "/jobs/new/review/",
        "/jobs/new/deep_dive/", f"/jobs/{running.pk}/", f"/jobs/{failed.pk}/",
        f"/jobs/{queued.pk}/", "/documents/", f"/documents/{document.pk}/",
        "/settings/notifications/", "/settings/tokens/", "/accounts/profile/",
        "/accounts/sessions/", "/jobs/no-such-page/",
        *(["/ops/stats/"] if owner.is_staff else []),
    ]  # fmt: skip
