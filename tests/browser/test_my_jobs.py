"""My jobs, the sessions and the tokens pages in Chromium: ticking jobs survives the
list's polls, a bulk cancel asks then acts, a new token copies with one button, and axe
finds nothing serious on these pages in light, dark and on a phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from jobs.api import tokens
from jobs.models import Job
from tests.browser.conftest import log_in
from tests.factories import make_document, make_job, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}  # fmt: skip
WIDE = {"viewport": {"width": 1280, "height": 800}}


def test_ticks_survive_a_poll_and_a_bulk_cancel_asks_then_cancels(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("ticker")
    running = make_job(owner, title="Long review", status=Job.Status.RUNNING, attempts=1,
                       message="Reading 1 of 5", progress=0.2)  # fmt: skip
    make_job(owner, title="Finished model", status=Job.Status.SUCCEEDED)
    page = log_in(browser, live_server.url, owner.username, **WIDE)

    page.check(f"#pick-{running.pk}")
    # The next poll brings new rows (a new message); the tick stays.
    Job.objects.filter(pk=running.pk).update(message="Reading 4 of 5")
    page.wait_for_selector("text=Reading 4 of 5", timeout=10_000)
    assert page.is_checked(f"#pick-{running.pk}")
    page.click("button:has-text('Cancel…')")

    page.wait_for_selector("h1:has-text('Cancel 1 job?')")
    assert page.locator("[data-acted-on]").inner_text().startswith("Long review")
    running.refresh_from_db()
    assert running.status == Job.Status.RUNNING  # asked, not done
    page.click("button:has-text('Yes, cancel it')")

    page.wait_for_selector("text=Cancelled 1 job.")
    assert page.url.endswith("/jobs/")
    running.refresh_from_db()
    assert running.status == Job.Status.CANCELLED


def test_search_and_bulk_delete_on_a_phone(browser, live_server):
    owner = make_user("thumbs")
    for n in range(3):
        make_job(owner, title=f"Old diabetes model {n}", status=Job.Status.FAILED)
    make_job(owner, title="Loan model", status=Job.Status.SUCCEEDED)
    page = log_in(browser, live_server.url, owner.username, **PHONE)

    page.fill("input[name=q]", "diabetes")
    page.get_by_role("button", name="Filter").tap()
    page.wait_for_url("**/jobs/?q=diabetes*")
    rows = page.locator("tr[data-job]")
    assert rows.count() == 3
    # A compact row: three at least on one phone screen, none wider than it.
    boxes = [rows.nth(n).bounding_box() for n in range(3)]
    assert all(box["height"] < 130 for box in boxes), boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for n in range(2):
        rows.nth(n).locator("input[type=checkbox]").tap()
    page.get_by_role("button", name="Delete…").tap()
    page.wait_for_selector("h1:has-text('Delete 2 jobs?')")
    page.get_by_role("button", name="Yes, delete them").tap()

    page.wait_for_selector("text=Deleted 2 jobs.")
    assert "q=diabetes" in page.url  # back where the user was
    assert page.locator("tr[data-job]").count() == 1
    assert Job.objects.filter(owner=owner).count() == 2


def test_a_new_token_copies_with_one_button(browser, live_server):
    owner = make_user("scripter")
    page = log_in(browser, live_server.url, owner.username, **WIDE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/settings/tokens/")

    page.fill("input[name=name]", "nightly export")
    page.click("button:has-text('Create token')")
    token = page.locator("#new-token").inner_text()
    page.click("button[data-copy-target='#new-token']")

    page.wait_for_selector("button[data-copy-target='#new-token']:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert len(token) > 20


SCREENS = {
    "light": {"color_scheme": "light", **WIDE},
    "dark": {"color_scheme": "dark", **WIDE},
    "phone": {"color_scheme": "light", **PHONE},
    "phone-dark": {"color_scheme": "dark", **PHONE},
}


@pytest.mark.parametrize("screen", SCREENS)
def test_my_jobs_sessions_and_tokens_have_no_serious_axe_findings(browser, live_server, screen):
    owner = make_user(f"axe-{screen}")
    big = make_document(owner, title="Manual", text="Long text. " * 100_000)
    make_job(owner, kind="deep_dive", title="Manual: safety", status=Job.Status.SUCCEEDED,
             params={"document_id": big.pk, "objective": "safety"})  # fmt: skip
    make_job(owner, title="Running model", status=Job.Status.RUNNING, attempts=1,
             message="Profiling", progress=0.5)  # fmt: skip
    make_job(owner, title="Failed model", status=Job.Status.FAILED)
    tokens.create(owner, "export")
    page = log_in(browser, live_server.url, owner.username, **SCREENS[screen])
    axe = Axe()
    found = {}

    def check(name: str) -> None:
        violations = axe.run(page).response["violations"]
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        found[name] = [f"{v['id']}: {n['target']}" for v in serious for n in v["nodes"][:3]]
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        if width > viewport:
            found[name].append(f"{width} px wide in {viewport}")

    for path in ["/jobs/", "/jobs/?q=model&status=failed", "/jobs/?q=nothing-like-this",
                 "/accounts/sessions/", "/settings/tokens/"]:  # fmt: skip
        page.goto(path)
        check(path)
    page.goto("/accounts/sessions/")
    page.locator("details.rename summary").first.click()
    check("sessions, a device being named")
    page.goto("/settings/tokens/")
    page.fill("input[name=name]", "another")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("#new-token")
    check("tokens, a new one shown")
    page.goto("/jobs/")
    page.locator("tr[data-job] input[type=checkbox]").first.check()
    page.locator("tr[data-job] input[type=checkbox]").last.check()
    page.click("button:has-text('Delete…')")
    page.wait_for_selector("h1:has-text('Delete')")
    check("bulk delete, asked")
    page.goto("/jobs/")
    page.locator("tr:has-text('Manual: safety') button:has-text('Run again')").click()
    page.wait_for_selector("h1:has-text('again?')")
    check("run again, asked")
    if "phone" in screen:
        page.get_by_text("Menu", exact=True).click()
        check("the phone menu, open")

    assert {name: problems for name, problems in found.items() if problems} == {}
