"""The navigation on a phone: every link behind one Menu button, none cut at the edge;
on a wide screen, every link in a row."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}  # fmt: skip
NAV_ITEMS = ["My jobs", "New job", "Documents", "Settings", "API tokens", "Profile", "Stats",
             "Admin", "Log out"]  # fmt: skip


def visible_items(page) -> list[dict]:
    """The navigation's links and buttons a reader can see: name and box."""
    return page.evaluate(
        """() => [...document.querySelectorAll('header nav a, header nav button')]
          .filter(el => el.checkVisibility())
          .map(el => { const r = el.getBoundingClientRect();
                       return {name: el.textContent.trim(), left: r.left, right: r.right,
                               top: r.top, bottom: r.bottom}; })"""
    )


def test_every_link_is_on_screen_behind_the_phone_menu(browser, live_server):
    staff = make_user("commuter", is_staff=True)
    page = log_in(browser, live_server.url, staff.username, **PHONE)

    assert visible_items(page) == []  # folded: the page starts with its content
    page.get_by_text("Menu", exact=True).tap()
    items = visible_items(page)

    assert [item["name"] for item in items] == NAV_ITEMS
    off_screen = [
        i["name"] for i in items if i["left"] < 0 or i["right"] > 390 or i["bottom"] > 844
    ]
    assert off_screen == []
    # Each is big enough to tap (WCAG 2.5.8: 24 px at least) and none overlaps the next.
    assert all(i["bottom"] - i["top"] >= 24 for i in items)
    assert all(a["bottom"] <= b["top"] + 1 for a, b in zip(items, items[1:], strict=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="Documents").tap()
    page.wait_for_url("**/documents/")
    assert visible_items(page) == []  # a new page starts with the menu folded


def test_the_phone_menu_works_from_the_keyboard(browser, live_server):
    owner = make_user("keyboard-rider")
    page = log_in(browser, live_server.url, owner.username, **PHONE)

    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "My jobs"
    for _ in range(4):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "API tokens"
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('API tokens')")


def test_a_wide_screen_shows_every_link_in_a_row(browser, live_server):
    staff = make_user("at-a-desk", is_staff=True)
    page = log_in(browser, live_server.url, staff.username, viewport={"width": 1280, "height": 800})

    items = visible_items(page)

    assert [item["name"] for item in items] == NAV_ITEMS
    assert len({round(item["top"]) for item in items}) == 1
    assert all(i["left"] >= 0 and i["right"] <= 1280 for i in items)
    assert not page.get_by_text("Menu", exact=True).is_visible()
