"""Every page in Chromium as people use it: on a phone, in dark mode, with the keyboard
alone, and with a screen reader's needs checked by axe-core."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from jobs.models import Job
from tests.browser.conftest import app_pages, log_in
from tests.conftest import wait_for
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's iPhone 13: 390 x 844 CSS pixels, a touch screen.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}  # fmt: skip


def test_no_page_is_wider_than_a_phone(browser, live_server):
    owner = make_user("on-the-go", is_staff=True)
    paths = app_pages(owner)
    page = log_in(browser, live_server.url, owner.username, **PHONE)

    too_wide = {}
    for path in paths:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    # The job's status is on the first screen, however long its title.
    long_title = Job.objects.filter(owner=owner, status=Job.Status.RUNNING).get()
    Job.objects.filter(pk=long_title.pk).update(title="A very long question " * 9)
    page.goto(f"/jobs/{long_title.pk}/")
    status_top = page.locator("#job-status").bounding_box()["y"]

    assert too_wide == {}
    assert status_top < 844 / 2, f"the status starts {status_top:.0f} px down"
    # Every job's row keeps its actions on screen.
    page.goto("/documents/")
    delete = page.locator("tr[data-document] summary").first.bounding_box()
    assert delete["x"] + delete["width"] <= 390


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_has_accessibility_violations(browser, live_server, scheme):
    owner = make_user(f"reader-{scheme}", is_staff=True)
    paths = [*app_pages(owner)]
    page = log_in(browser, live_server.url, owner.username, color_scheme=scheme)
    axe = Axe()

    found = {}
    for path in [*paths, "/accounts/logout/"]:
        if path == "/accounts/logout/":
            page.context.clear_cookies()
            path = "/accounts/login/"
        page.goto(path)
        results = axe.run(page)
        violations = results.response["violations"]
        if violations:
            found[path] = [
                f"{v['id']}: {node['target']}" for v in violations for node in v["nodes"][:3]
            ]

    assert found == {}


def test_dark_mode_follows_the_system(browser, live_server):
    owner = make_user("night-owl")
    light = log_in(browser, live_server.url, owner.username, color_scheme="light")
    dark = log_in(browser, live_server.url, owner.username, color_scheme="dark")
    background = "getComputedStyle(document.body).backgroundColor"

    def luminance(page) -> float:
        red, green, blue = (int(part) for part in page.evaluate(background)[4:-1].split(",")[:3])
        return (red + green + blue) / 3

    assert luminance(light) > 200 and luminance(dark) < 60


def test_a_job_submitted_and_cancelled_with_the_keyboard_alone(browser, live_server, demo_table):
    owner = make_user("keys-only")
    page = log_in(browser, live_server.url, owner.username)
    page.goto("/jobs/new/semantic_model/")

    # From the top of the page: the skip link first, then on into the form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "database":
            break
    page.keyboard.press("ArrowDown")  # the app's database: its only schema's tables arrive
    page.wait_for_selector(f"input[name=tables][value='{demo_table.key}']")
    while page.evaluate("document.activeElement.value") != demo_table.key:
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    while page.evaluate("document.activeElement.type") != "submit":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#job-status")
    job = Job.objects.get(owner=owner)

    while page.evaluate("document.activeElement.textContent").strip() != "Cancel job…":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # opens the confirmation
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Yes, cancel it"
    page.keyboard.press("Enter")

    wait_for(lambda: page.get_attribute("#job-status", "data-status") == "cancelled",
             timeout=10, what="the job's page to show it cancelled")  # fmt: skip
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert page.locator(".messages").count() == 0, "said once, by the page itself"


def test_a_users_database_is_browsed_and_several_tables_chosen(browser, live_server, tmp_path):
    import sqlite3

    from jobs.analysis.tables import connections

    owner = make_user("analyst")
    path = tmp_path / "sales.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO customers (name) VALUES (?)", [("a",), ("b",), ("c",)])
    connection = connections.add("sales-db", f"sqlite:///{path}", users=[owner])
    page = log_in(browser, live_server.url, owner.username)

    page.goto("/jobs/new/semantic_model/")

    page.select_option("select[name=database]", connection.key)
    for table in ("orders", "customers"):
        page.check(f"input[name=tables][value='{connection.key}:main.{table}']")
    assert "about 3 rows" in page.inner_text("#table-choice")
    page.click("main button[type=submit]")
    page.wait_for_selector("#job-status")

    job = Job.objects.get(owner=owner)
    assert job.params == {"tables": [f"{connection.key}:main.{t}" for t in ("customers", "orders")]}
    assert "main.customers and 1 more table" in page.title()
