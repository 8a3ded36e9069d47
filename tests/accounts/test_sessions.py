"""One page lists a user's sessions and API tokens; they end any of them, never another
user's."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from jobs.api import tokens
from jobs.models import UserSession
from tests.factories import PASSWORD


def log_in(username: str, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_page_lists_each_login_and_token_and_ends_one(user):
    laptop, phone = log_in(user.username, "Laptop Firefox"), log_in(user.username, "Phone Safari")
    tokens.create(user, "nightly export")

    page = laptop.get(reverse("accounts:sessions"))

    assert page.status_code == 200
    assert "Laptop Firefox" in page.text and "(this browser)" in page.text
    assert "Phone Safari" in page.text and "nightly export" in page.text
    phone_session = UserSession.objects.get(user_agent="Phone Safari")
    response = laptop.post(reverse("accounts:session_end", args=[phone_session.pk]))
    assert response.status_code == 302
    assert phone.get(reverse("jobs:list")).status_code == 302  # logged out
    assert laptop.get(reverse("jobs:list")).status_code == 200
    assert "Phone Safari" not in laptop.get(reverse("accounts:sessions")).text


def test_ending_this_browsers_own_session_logs_out(user):
    laptop = log_in(user.username, "Laptop")
    own = UserSession.objects.get(user=user)

    response = laptop.post(reverse("accounts:session_end", args=[own.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert laptop.get(reverse("jobs:list")).status_code == 302


def test_ending_every_other_session(user):
    laptop = log_in(user.username, "Laptop")
    others = [log_in(user.username, f"Other {n}") for n in range(2)]

    response = laptop.post(reverse("accounts:session_end_others"), follow=True)

    assert "2 other sessions ended" in response.text
    assert all(o.get(reverse("jobs:list")).status_code == 302 for o in others)
    assert laptop.get(reverse("jobs:list")).status_code == 200


def test_another_users_session_is_a_404_and_stays(user, other_user):
    mallory = log_in(other_user.username, "Mallory")
    alice = log_in(user.username, "Alice")
    alices = UserSession.objects.get(user=user)

    response = mallory.post(reverse("accounts:session_end", args=[alices.pk]))

    assert response.status_code == 404
    assert "Alice" not in mallory.get(reverse("accounts:sessions")).text
    assert alice.get(reverse("jobs:list")).status_code == 200


def test_a_logged_out_session_is_not_listed_nor_kept(user):
    gone = log_in(user.username, "Gone")
    here = log_in(user.username, "Here")
    gone.post(reverse("logout"))
    assert "Gone" not in here.get(reverse("accounts:sessions")).text
    assert not UserSession.objects.filter(user_agent="Gone").exists()


def test_expired_sessions_are_dropped_at_the_next_login(user):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    log_in(user.username, "Expired")
    Session.objects.update(expire_date=timezone.now())
    log_in(user.username, "Fresh")

    assert list(UserSession.objects.values_list("user_agent", flat=True)) == ["Fresh"]


def test_the_page_needs_a_login_and_ending_needs_a_post(alice_client):
    assert Client().get(reverse("accounts:sessions")).status_code == 302
    assert alice_client.get(reverse("accounts:session_end_others")).status_code == 405


def test_a_session_from_before_sessions_were_recorded_is_listed_after_its_next_visit(user):
    laptop = log_in(user.username, "Old Laptop")
    UserSession.objects.all().delete()
    session = laptop.session
    session["_seen_at"] = 0
    session.save()

    laptop.get(reverse("jobs:list"))

    assert "Old Laptop" in laptop.get(reverse("accounts:sessions")).text


FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def test_sessions_are_named_by_browser_and_system(user):
    laptop = log_in(user.username, FIREFOX_ON_WINDOWS)
    log_in(user.username, SAFARI_ON_IPHONE)

    page = laptop.get(reverse("accounts:sessions"))

    assert "Firefox 128 on Windows 10" in page.text
    assert "Mobile Safari 17.1 on iOS 17.1 (Apple iPhone)" in page.text
    assert "Mozilla/5.0" not in page.text


def test_a_header_no_rule_knows_is_shown_as_it_came_cut_short(user):
    odd = "SomeInHouseTool " + "x" * 200
    client = log_in(user.username, odd)

    page = client.get(reverse("accounts:sessions"))

    assert "SomeInHouseTool xxx" in page.text and odd not in page.text


def test_a_device_is_named_and_renamed_and_the_name_removed(user):
    laptop = log_in(user.username, FIREFOX_ON_WINDOWS)
    own = UserSession.objects.get(user=user)
    url = reverse("accounts:session_label", args=[own.pk])

    named = laptop.post(url, {"label": "  Work laptop "}, follow=True)

    assert "Device named “Work laptop”." in named.text
    assert UserSession.objects.get(pk=own.pk).label == "Work laptop"
    assert '<strong class="device-label">Work laptop</strong>' in named.text
    cleared = laptop.post(url, {"label": ""}, follow=True)
    assert "Device name removed." in cleared.text
    assert UserSession.objects.get(pk=own.pk).label == ""


def test_a_bad_device_name_is_refused_beside_its_session(user):
    laptop = log_in(user.username, FIREFOX_ON_WINDOWS)
    own = UserSession.objects.get(user=user)
    url = reverse("accounts:session_label", args=[own.pk])

    too_long = laptop.post(url, {"label": "x" * 61})
    invisible = laptop.post(url, {"label": "\u200b\u200b"})

    assert too_long.status_code == 400 and "at most 60 characters" in too_long.text
    assert invisible.status_code == 400 and "Write something visible" in invisible.text
    assert '<details class="rename" open>' in too_long.text
    assert UserSession.objects.get(pk=own.pk).label == ""


def test_another_users_device_cannot_be_named(user, other_user):
    mallory = log_in(other_user.username, "Mallory")
    log_in(user.username, FIREFOX_ON_WINDOWS)
    alices = UserSession.objects.get(user=user)

    response = mallory.post(reverse("accounts:session_label", args=[alices.pk]), {"label": "pwned"})

    assert response.status_code == 404
    assert UserSession.objects.get(pk=alices.pk).label == ""


def test_naming_a_device_needs_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=FIREFOX_ON_WINDOWS)
    client.force_login(user)
    client.get(reverse("accounts:sessions"))
    own = UserSession.objects.get(user=user)

    response = client.post(reverse("accounts:session_label", args=[own.pk]), {"label": "x"})

    assert response.status_code == 403
    assert UserSession.objects.get(pk=own.pk).label == ""
