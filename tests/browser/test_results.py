"""Results in Chromium as people read them: review, deep dive and semantic model pages
with real results checked by axe (light, dark, phone), a citation that opens its passage
marked, Copy, a stage's log, a cancelled job's partial result, and a cancel confirmation
that outlives a poll, all under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from jobs.engine import running
from jobs.models import Job, JobCheckpoint, JobEvent
from tests.browser.conftest import log_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tests.browser.test_pages import PHONE
from tests.conftest import wait_for
from tests.factories import demo_documents, make_document, make_job, make_user
from tests.fake_openai import fake_openai  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
QUESTION = "Does intermittent fasting improve glycaemic control in adults with type 2 diabetes?"
LONG_TEXT = "".join(
    f"## {n}. Finding number {n}\n\nThe rate was {n}.5 per 1,000 person-years "
    f"(p = 0.0{n % 9 + 1}; 95% CI {n}.1 to {n}.9), see Table {n}.\n\n"
    for n in range(1, 2001)
)


def run(job: Job) -> Job:
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def review_job(owner) -> Job:
    documents = demo_documents(owner)
    params = {"question": QUESTION, "document_ids": [d.pk for d in documents], "mode": "precision"}
    return run(make_job(owner, kind="review", params=params))


def deep_dive_job(owner) -> Job:
    document = make_document(owner, title="Registry of findings", text=LONG_TEXT)
    params = {"document_id": document.pk, "objective": "How high was the rate?"}
    return run(make_job(owner, kind="deep_dive", params=params))


def serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {node['target']}"
        for v in violations
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"][:3]
    ]


SCREENS = pytest.mark.parametrize(
    "context",
    [{"color_scheme": "light"}, {"color_scheme": "dark"}, {"color_scheme": "light", **PHONE}],
    ids=["light", "dark", "phone"],
)


@SCREENS
def test_result_pages_pass_axe_and_fit(
    browser,
    live_server,
    context,
    fake_openai,  # noqa: F811
):
    fake_openai.script.answer = "**Fasting helped** [P1]. Weight fell too [P2]."
    owner = make_user()
    review, dive = review_job(owner), deep_dive_job(owner)
    page = log_in(browser, live_server.url, owner.username, **context)
    page.context.add_init_script(RECORD_VIOLATIONS)
    citation = page  # the document page a review's first citation opens
    width = context.get("viewport", {}).get("width", 1280)

    found, too_wide = {}, {}
    for path in [review.get_absolute_url(), dive.get_absolute_url(), "citation"]:
        if path == "citation":
            page.goto(review.get_absolute_url())
            page.locator(".quote cite a").first.click()
            page.wait_for_selector("mark.passage")
            path = page.url
        else:
            page.goto(path)
        # Folds and logs open, so what they hold is checked too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        found[path] = serious(page)
        if page.evaluate("document.documentElement.scrollWidth") > width:
            too_wide[path] = page.evaluate("document.documentElement.scrollWidth")
        assert page.evaluate("window.__violations") == [], path

    assert {path: issues for path, issues in found.items() if issues} == {}
    assert too_wide == {}
    assert citation.locator("mark.passage").count() >= 1


@SCREENS
def test_a_semantic_models_page_passes_axe_and_fits(browser, live_server, context, demo_table):
    owner = make_user()
    # Two tables: the page draws their diagram and lists their relationship too.
    params = {"tables": [demo_table.key, "default:demo.lenders"]}
    job = run(make_job(owner, params=params))
    page = log_in(browser, live_server.url, owner.username, **context)
    page.context.add_init_script(RECORD_VIOLATIONS)
    width = context.get("viewport", {}).get("width", 1280)

    page.goto(job.get_absolute_url())
    page.wait_for_selector("button[data-copy-target='#model-yaml']:visible")
    # The validation checks' fold open, so what it holds is checked too.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")

    assert page.locator(".model-diagram rect.table-box").count() == 2
    assert page.locator("table.profile").count() == 2
    assert serious(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("window.__violations") == []


def test_a_citation_opens_its_passage_marked_and_in_view(
    browser,
    live_server,
    fake_openai,  # noqa: F811
):
    fake_openai.script.answer = "**Fasting helped** [P1]."
    owner = make_user("checker")
    job = review_job(owner)
    page = log_in(browser, live_server.url, owner.username, **PHONE)
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.goto(job.get_absolute_url())
    quotes = page.locator(".analysis .quote >> visible=true")
    quote = quotes.nth(quotes.count() - 1)  # the last one shown: far down the page
    said = quote.locator("p").inner_text()

    link = quote.locator("cite a")
    link.focus()
    page.keyboard.press("Enter")  # the keyboard reaches it as a tap does
    page.wait_for_selector("mark.passage")

    marked = " ".join(page.locator("mark.passage").all_inner_texts())
    assert " ".join(marked.split()) in " ".join(said.split())
    assert len(marked.strip()) > 20
    box = page.locator("mark.passage").first.bounding_box()
    assert 0 <= box["y"] < 844, "scrolled to the passage"
    assert page.locator(".prose-document strong, .prose-document h1, .prose-document h2").count()
    assert "**" not in page.locator(".prose-document").inner_text()
    page.click("text=Plain text")
    assert page.locator("pre.document-text mark.passage").count() == 1
    assert page.evaluate("window.__violations") == []


def test_copy_buttons_copy_the_answer_and_a_quote(
    browser,
    live_server,
    fake_openai,  # noqa: F811
):
    fake_openai.script.answer = "**Fasting helped** [P1]."
    owner = make_user("copier")
    job = review_job(owner)
    page = log_in(browser, live_server.url, owner.username)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.goto(job.get_absolute_url())

    page.click("button[data-copy-target='#rv-summary-text']")
    summary = page.evaluate("navigator.clipboard.readText()")
    button = page.locator(".analysis .quote button.copy").first
    button.click()
    quote = page.evaluate("navigator.clipboard.readText()")

    assert summary.startswith("Fasting helped") and "[P1] “" in summary
    assert "Copy quote" not in summary
    assert quote == page.locator(".analysis .quote p").first.inner_text().strip()
    assert "characters" in quote
    assert button.inner_text() == "Copied"
    assert page.evaluate("window.__violations") == []


def test_a_deep_dive_of_a_long_document_stays_short_with_contents(browser, live_server):
    owner = make_user("diver")
    job = deep_dive_job(owner)
    page = log_in(browser, live_server.url, owner.username)
    page.goto(job.get_absolute_url())

    height = page.evaluate("document.documentElement.scrollHeight")
    page.click("nav.contents a[href='#dd-sections']")
    summary = page.locator("#dd-sections ~ details.more summary").first.inner_text()
    chip = page.locator("a.chip").first
    chip.click()
    page.wait_for_selector("mark.passage")

    assert height < 8000, f"{height} px for a document of {len(LONG_TEXT)} characters"
    assert summary.startswith("200 more sections of ")
    assert page.locator("mark.passage").first.is_visible()


def test_a_stage_log_opens_by_keyboard(browser, live_server):
    owner = make_user("auditor")
    job = deep_dive_job(owner)
    page = log_in(browser, live_server.url, owner.username)
    page.goto(job.get_absolute_url())

    page.locator("details.stage-list > summary").focus()
    page.keyboard.press("Enter")
    first = page.locator("li.stage details.stage-log > summary").first
    first.focus()
    page.keyboard.press("Enter")

    events = page.locator("li.stage details.stage-log[open] .events li")
    assert events.count() >= 2
    said = events.all_inner_texts()
    assert any("Started" in line for line in said) and any("Ended" in line for line in said)


def test_the_cancel_confirmation_outlives_a_poll_and_keeps_the_partial_result(
    browser, live_server, settings
):
    settings.JOB_POLL_SECONDS = 1
    owner = make_user("canceller")
    done = review_job(owner)
    analysis = done.result["documents"][0]
    job = make_job(owner, kind="review", params=done.params, status=Job.Status.RUNNING,
                   stage="analysing", attempts=1, started_at=timezone.now(),
                   message="Analysing", progress=0.4)  # fmt: skip
    JobCheckpoint.objects.create(job=job, key=f"analysed|{analysis['document_id']}",
                                 value=analysis, attempt=1)  # fmt: skip
    for key in ("planning", "loading", "ranking", "analysing"):
        JobEvent.objects.create(job=job, type=JobEvent.Type.STAGE, name=key, attempt=1)
    page = log_in(browser, live_server.url, owner.username, **PHONE)
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.goto(job.get_absolute_url())
    # Outlined opener, filled destructive action.
    opener = page.locator("#cancel-job > summary")
    opener_background = opener.evaluate("e => getComputedStyle(e).backgroundColor")

    opener.click()
    page.click("#log-planning > summary")  # a stage's log, opened before the poll
    Job.objects.filter(pk=job.pk).update(stage="synthesising", message="Themes")
    wait_for(
        lambda: page.locator("li.stage.current[data-stage=synthesising]").count() == 1,
        timeout=10,
        what="a poll that brings the next stage",
    )
    page.wait_for_timeout(1500)  # and another poll or two

    assert page.locator("#cancel-job").evaluate("e => e.open") is True
    assert page.locator("#log-planning").evaluate("e => e.open") is True
    confirm = page.locator("#cancel-job button.danger")
    assert confirm.is_visible()
    confirm_background = confirm.evaluate("e => getComputedStyle(e).backgroundColor")
    assert confirm_background != opener_background
    confirm.click()
    page.wait_for_selector("#job-status[data-status=cancelled]")
    assert page.locator("text=Partial result: what the job finished before it stopped.").count()
    assert page.locator(f"article[data-document='{analysis['document_id']}']").is_visible()
    assert page.evaluate("window.__violations") == []
