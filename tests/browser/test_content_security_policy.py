"""Every page works under the Content-Security-Policy, in Chromium: nothing it loads or
runs is blocked, and a job page still polls (htmx runs without eval)."""

from __future__ import annotations

import pytest

from jobs.models import Job
from tests.browser.conftest import log_in
from tests.conftest import wait_for
from tests.factories import make_document, make_job, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected in the page itself, before any of its scripts run.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_no_page_breaks_the_policy(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("careful", is_staff=True, is_superuser=True)
    job = make_job(owner, status=Job.Status.RUNNING, stage="profiling", message="working",
                   attempts=1)  # fmt: skip
    document = make_document(owner)
    page = log_in(browser, live_server.url, owner.username)
    page.context.add_init_script(RECORD_VIOLATIONS)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    paths = [
        "/", "/jobs/new/", "/jobs/new/semantic_model/", "/jobs/new/review/",
        f"/jobs/{job.pk}/", "/documents/", f"/documents/{document.pk}/",
        "/settings/notifications/", "/settings/tokens/", "/ops/stats/", "/admin/",
        "/admin/jobs/job/", f"/admin/jobs/job/{job.pk}/change/", "/api/docs",
        "/accounts/profile/", "/accounts/sessions/", "/admin/jobs/invitation/add/",
        "/admin/axes/accessattempt/", "/accounts/password_reset/",
    ]  # fmt: skip

    seen = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
        seen[path] = page.evaluate("window.__violations")

    assert {path: found for path, found in seen.items() if found} == {}
    assert [error for error in errors if "Content Security Policy" in error] == []


def test_a_job_page_polls_under_the_policy(browser, live_server, settings):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("watcher")
    job = make_job(owner, status=Job.Status.RUNNING, stage="profiling", message="first",
                   progress=0.1, attempts=1)  # fmt: skip
    page = log_in(browser, live_server.url, owner.username)
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"/jobs/{job.pk}/")

    Job.objects.filter(pk=job.pk).update(progress=0.5, message="halfway")
    wait_for(lambda: "halfway" in page.inner_text("#job-live"), timeout=10, what="a poll")
    Job.objects.filter(pk=job.pk).update(stage="saving", message="saving now")
    wait_for(
        lambda: page.locator("li.stage.current[data-stage=saving]").count() == 1,
        timeout=10,
        what="the next stage, in the whole section",
    )

    assert page.get_attribute("[role=progressbar]", "aria-valuenow") == "50"
    assert page.evaluate("window.__violations") == []
