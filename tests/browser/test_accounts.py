"""A newcomer's way in, in Chromium: staff invite them in the admin (no mail server, so
the admin shows the link), they choose a password, log in, forget it, and reset it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.accounts.conftest import link_in_last_email, path_of
from tests.browser.conftest import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = "plum-orchard-velvet-9"
SECOND = "quartz-lantern-meadow-7"


def log_in_with(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_invite_set_a_password_log_in_and_reset_it(browser, live_server, settings):
    settings.EMAIL_ENABLED = False
    staff = make_user("root", is_staff=True, is_superuser=True)
    admin = log_in(browser, live_server.url, staff.username)
    admin.goto("/admin/jobs/invitation/")
    admin.click(".object-tools a.addlink")
    admin.fill("input[name=email]", "newcomer@example.com")
    admin.click("input[type=submit]")
    link = admin.locator("[data-invitation-link]").inner_text()

    newcomer = browser.new_context(base_url=live_server.url).new_page()
    newcomer.set_default_timeout(15_000)
    newcomer.goto(path_of(link))
    assert "/accounts/invitation/accept/" in newcomer.url  # the token left the address bar
    assert newcomer.locator("text=newcomer@example.com").is_visible()
    newcomer.fill("input[name=username]", "newcomer")
    newcomer.fill("input[name=password1]", FIRST)
    newcomer.fill("input[name=password2]", FIRST)
    newcomer.click("button[type=submit]")
    # Logged in at once, on their jobs.
    newcomer.wait_for_selector("text=your account is ready")
    newcomer.wait_for_selector("h1:has-text('My jobs')")
    newcomer.goto("/accounts/profile/")
    assert newcomer.locator("[data-current-email]").inner_text().count("newcomer@example.com")
    # The link was used: opening it again gets nowhere.
    newcomer.goto(path_of(link))
    assert newcomer.locator("h1").inner_text() == "This invitation link does not work"

    # Logged out, the password forgotten: reset by e-mail.
    settings.EMAIL_ENABLED = True
    forgetful = browser.new_context(base_url=live_server.url).new_page()
    forgetful.set_default_timeout(15_000)
    forgetful.goto("/accounts/login/")
    forgetful.click("text=Forgot your password?")
    forgetful.fill("input[name=email]", "newcomer@example.com")
    forgetful.click("button[type=submit]")
    forgetful.wait_for_selector("[data-reset-sent]")
    reset_link = link_in_last_email("newcomer@example.com")
    forgetful.goto(path_of(reset_link))
    forgetful.fill("input[name=new_password1]", SECOND)
    forgetful.fill("input[name=new_password2]", SECOND)
    forgetful.click("button[type=submit]")
    forgetful.wait_for_selector("h1:has-text('Your password was set')")
    # The newcomer's earlier session ended with the reset.
    newcomer.goto("/jobs/")
    assert "/accounts/login/" in newcomer.url
    log_in_with(forgetful, "newcomer", FIRST)
    forgetful.wait_for_selector("text=Please enter a correct username and password")
    log_in_with(forgetful, "newcomer", SECOND)
    forgetful.wait_for_selector("h1:has-text('My jobs')")
    forgetful.goto(path_of(reset_link))
    assert forgetful.locator("[data-invalid-link]").is_visible()
    assert get_user_model().objects.get(username="newcomer").email == "newcomer@example.com"
