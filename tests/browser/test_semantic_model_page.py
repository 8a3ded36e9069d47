"""A finished semantic model's page in Chromium, under the Content-Security-Policy: the
YAML coloured, the Copy button copying it, the diagram drawn, nothing blocked."""

from __future__ import annotations

import pytest
import yaml

from jobs.models import Job
from tests.browser.conftest import log_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tests.factories import make_job, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def store_model() -> dict:
    def table(name, key, *columns):
        dims = [{"name": c, "expr": c, "data_type": "NUMBER(38,0)"} for c in (key, *columns)]
        return {
            "name": name,
            "base_table": {"database": "store", "schema": "main", "table": name},
            "primary_key": {"columns": [key]},
            "dimensions": dims,
        }

    def joins(left, column, right, key):
        return {
            "name": f"{left}_to_{right}",
            "left_table": left,
            "right_table": right,
            "relationship_columns": [{"left_column": column, "right_column": key}],
            "join_type": "left_outer",
            "relationship_type": "many_to_one",
        }

    return {
        "name": "store_model",
        "tables": [
            table("invoice_line", "invoice_line_id", "invoice_id", "track_id"),
            table("invoice", "invoice_id", "customer_id"),
            table("track", "track_id", "album_id"),
            table("customer", "customer_id"),
            table("album", "album_id"),
        ],
        "relationships": [
            joins("invoice_line", "invoice_id", "invoice", "invoice_id"),
            joins("invoice_line", "track_id", "track", "track_id"),
            joins("invoice", "customer_id", "customer", "customer_id"),
            joins("track", "album_id", "album", "album_id"),
        ],
    }


def test_the_model_page_copies_and_draws_under_the_policy(browser, live_server, tmp_path):
    owner = make_user("modeller")
    text = yaml.safe_dump(store_model(), sort_keys=False)
    summary = dict.fromkeys(
        ["tables", "rows", "columns", "dimensions", "time_dimensions", "facts", "metrics",
         "filters", "relationships", "checks_passed", "checks_failed"], 1,
    )  # fmt: skip
    job = make_job(
        owner,
        status=Job.Status.SUCCEEDED,
        attempts=1,
        result={"yaml": text, "summary": summary, "profile": [], "relationships": []},
    )
    page = log_in(browser, live_server.url, owner.username)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.context.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"/jobs/{job.pk}/")
    page.wait_for_load_state("networkidle")
    shown = page.eval_on_selector("#model-yaml", "pre => pre.innerText")
    page.click("button[data-copy-target='#model-yaml']")
    page.wait_for_selector("button[data-copy-target='#model-yaml']:has-text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    downloaded = page.request.get(f"/jobs/{job.pk}/download/yaml/").text()
    key_colour = page.eval_on_selector(
        "#model-yaml .nt", "element => getComputedStyle(element).color"
    )
    page.screenshot(path=str(tmp_path / "model.png"), full_page=True)

    assert page.evaluate("window.__violations") == []
    # The YAML exactly as downloaded, its last line break included; the highlighting's
    # spans add nothing to the text shown.
    assert copied == shown == downloaded == text
    assert key_colour != page.eval_on_selector("#model-yaml", "e => getComputedStyle(e).color")
    assert page.locator(".model-diagram rect.table-box").count() == 5
    assert page.locator(".model-diagram path.link").count() == 4
    boxes = {
        name: page.locator(
            f".model-diagram g.table:has(text:text-is('{name}')) rect.table-box"
        ).first.bounding_box()["x"]
        for name in ("invoice_line", "invoice", "customer")
    }
    # Every arrow points right: lines, then invoices, then customers.
    assert boxes["invoice_line"] < boxes["invoice"] < boxes["customer"]


def test_the_profile_reads_as_one_card_per_column_on_a_phone(browser, live_server):
    owner = make_user("phone-modeller")
    why = "a number paired one to one with the text column loan_type_description is its code"
    columns = [
        {"name": f"very_long_column_name_number_{n}", "source_type": "DOUBLE PRECISION",
         "role": "fact", "distinct": 2_981, "nulls": 0, "min": "0.000123456789",
         "max": "98765432101234.5", "reasons": [why, "values spread over 2,981 distinct"]}
        for n in range(3)
    ]  # fmt: skip
    job = make_job(
        owner,
        status=Job.Status.SUCCEEDED,
        attempts=1,
        result={
            "yaml": "name: m\n",
            "summary": {},
            "profile": [{"table": "demo.loans", "row_count": 3_000, "columns": columns}],
            "relationships": [],
        },
    )
    page = log_in(
        browser, live_server.url, owner.username,
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
    )  # fmt: skip

    page.goto(f"/jobs/{job.pk}/")
    page.wait_for_selector("table.profile")

    rows = page.locator("table.profile tbody tr")
    assert rows.count() == 3
    for index in range(3):
        why_cell = rows.nth(index).locator("td[data-label=Why]")
        box = why_cell.bounding_box()
        # Each card fits the screen: its "Why" is on it, not off to the side.
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert why_cell.is_visible() and why in why_cell.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    label = page.eval_on_selector(
        "table.profile td[data-label=Why]", "cell => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Why"'
