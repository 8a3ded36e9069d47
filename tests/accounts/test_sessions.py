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
