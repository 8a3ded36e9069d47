"""Guessing is slowed, then locked: logins per username and address together, and per
address (django-axes, in the database), so nobody can lock someone else out; API tokens
per address. Staff unlock in the admin."""

from __future__ import annotations

import time

from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from jobs.api import tokens
from jobs.models import BadTokenAttempt
from tests.factories import PASSWORD, make_user


def attempt(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_someone_guessing_a_username_locks_their_address_not_its_owner(throttled, user):
    for _ in range(2):
        response = attempt(user.username, "wrong", address="10.6.6.6")
        assert response.status_code == 200 and "Please enter a correct" in response.text
    # The failure that reaches the limit is answered with the lock already.
    assert attempt(user.username, "wrong", address="10.6.6.6").status_code == 429

    guesser = attempt(user.username, PASSWORD, address="10.6.6.6")
    owner = attempt(user.username, PASSWORD, address="10.0.9.9")

    assert guesser.status_code == 429
    assert "Too many failed logins" in guesser.text and "failed attempts" in guesser.text
    assert "Try again in 15 min" in guesser.text
    assert AccessAttempt.objects.filter(username=user.username).exists()
    # The account's owner, from their own address, logs in while the guesser is locked.
    assert owner.status_code == 302


def test_guesses_from_many_addresses_lock_none_of_the_owners(throttled, user):
    for n in range(6):
        attempt(user.username, "wrong", address=f"10.0.0.{n + 1}")

    assert attempt(user.username, PASSWORD, address="10.0.9.9").status_code == 302
    assert attempt(user.username, PASSWORD, address="10.0.0.1").status_code == 302


def test_repeated_failures_from_one_address_lock_it_for_every_username(throttled, user):
    for n in range(3):
        attempt(f"guess{n}", "wrong", address="10.6.6.6")

    assert attempt(user.username, PASSWORD, address="10.6.6.6").status_code == 429
    assert attempt(user.username, PASSWORD, address="10.7.7.7").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(throttled, user):
    attempt(user.username, "wrong")
    attempt(user.username, "wrong")
    assert attempt(user.username, PASSWORD).status_code == 302
    attempt(user.username, "wrong")
    attempt(user.username, "wrong")
    assert attempt(user.username, PASSWORD).status_code == 302


def test_each_failure_is_answered_more_slowly(throttled, user):
    throttled.AXES_FAILURE_LIMIT = 10
    throttled.LOGIN_FAILURE_DELAY_SECONDS = 0.5
    durations = []
    for _ in range(3):
        started = time.monotonic()
        attempt(user.username, "wrong")
        durations.append(time.monotonic() - started)

    assert durations[0] < 0.5 <= durations[1] < 1.0 <= durations[2], durations


def test_a_locked_login_is_answered_without_a_pause(throttled, user):
    throttled.LOGIN_FAILURE_DELAY_SECONDS = 1.0
    attempt(user.username, "wrong")
    started = time.monotonic()
    locking = attempt(user.username, "wrong")
    assert time.monotonic() - started >= 1.0 and locking.status_code == 200

    for _ in range(2):
        started = time.monotonic()
        assert attempt(user.username, "wrong").status_code == 429
        assert time.monotonic() - started < 1.0


def test_staff_unlock_in_the_admin(throttled, user):
    for _ in range(3):
        attempt(user.username, "wrong")
    assert attempt(user.username, PASSWORD).status_code == 429
    staff = make_user("root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and user.username in listing.text

    admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )

    assert not AccessAttempt.objects.exists()
    assert attempt(user.username, PASSWORD).status_code == 302


def api(key: str, address: str):
    return Client(REMOTE_ADDR=address).get("/api/jobs", headers={"Authorization": f"Bearer {key}"})


def test_a_burst_of_bad_tokens_from_one_address_is_answered_429(settings, user):
    settings.API_BAD_TOKEN_LIMIT = 3
    _, good = tokens.create(user, "script")
    for _ in range(3):
        assert api("lj_guess", "10.1.1.1").status_code == 401

    throttled = api("lj_guess", "10.1.1.1")

    assert throttled.status_code == 429
    assert "Too many invalid API tokens" in throttled.json()["error"]
    assert 0 < int(throttled["Retry-After"]) <= settings.API_BAD_TOKEN_WINDOW_SECONDS
    # Even a good key waits from that address (a guess that happens to match must not
    # get through), while everyone else's tokens are unaffected.
    assert api(good, "10.1.1.1").status_code == 429
    assert api(good, "10.2.2.2").status_code == 200
    assert BadTokenAttempt.objects.filter(ip_address="10.1.1.1").count() == 3


def test_bad_tokens_stop_counting_once_the_window_passed(settings, user):
    settings.API_BAD_TOKEN_LIMIT = 2
    settings.API_BAD_TOKEN_WINDOW_SECONDS = 1
    api("lj_guess", "10.1.1.1")
    api("lj_guess", "10.1.1.1")
    assert api("lj_guess", "10.1.1.1").status_code == 429
    time.sleep(1.1)
    assert api("lj_guess", "10.1.1.1").status_code == 401
    # The old attempts went when the new one came.
    assert BadTokenAttempt.objects.filter(ip_address="10.1.1.1").count() == 1


def test_api_tokens_are_not_locked_by_failed_logins(throttled, user):
    _, good = tokens.create(user, "script")
    for _ in range(3):
        attempt(user.username, "wrong", address="10.3.3.3")
    assert attempt(user.username, PASSWORD, address="10.3.3.3").status_code == 429
    assert api(good, "10.3.3.3").status_code == 200


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings, user):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_BAD_TOKEN_LIMIT = 2

    def via_proxy(client_sent: str, proxy_saw: str):
        return Client(REMOTE_ADDR="10.9.9.9").get(
            "/api/jobs",
            headers={
                "Authorization": "Bearer lj_guess",
                "X-Forwarded-For": f"{client_sent}, {proxy_saw}",
            },
        )

    # A client that makes up a new X-Forwarded-For each time is still one address.
    for n in range(2):
        via_proxy(f"1.1.1.{n}", "203.0.113.5")
    assert via_proxy("1.1.1.99", "203.0.113.5").status_code == 429
    assert via_proxy("1.1.1.99", "203.0.113.6").status_code == 401
