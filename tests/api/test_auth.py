"""Who may call the API: tokens (valid, revoked, malformed, missing) and the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.api import tokens
from jobs.models import ApiToken, Job
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db
ENDPOINTS = [
    ("get", "/api/jobs"),
    ("post", "/api/jobs"),
    ("get", "/api/jobs/{pk}"),
    ("get", "/api/jobs/{pk}/result"),
    ("post", "/api/jobs/{pk}/cancel"),
    ("post", "/api/jobs/{pk}/retry"),
    ("get", "/api/stats"),
]


def call(client: Client, method: str, url: str, job: Job, **headers):
    url = url.format(pk=job.pk)
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, "{}", content_type="application/json", headers=headers)


class TestTokens:
    def test_a_valid_token_acts_as_its_user(self, user):
        job = make_job(user)
        _, key = tokens.create(user, "script")

        response = Client().get("/api/jobs", headers={"Authorization": f"Bearer {key}"})

        assert response.status_code == 200
        assert [j["id"] for j in response.json()["results"]] == [str(job.pk)]

    @pytest.mark.parametrize(("method", "url"), ENDPOINTS)
    def test_every_endpoint_is_401_without_credentials(self, user, method, url):
        job = make_job(user, status=Job.Status.FAILED)

        response = call(Client(), method, url, job)

        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "error" in response.json()
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED

    @pytest.mark.parametrize(("method", "url"), ENDPOINTS)
    def test_every_endpoint_is_401_with_a_revoked_token(self, user, method, url):
        job = make_job(user, status=Job.Status.FAILED)
        token, key = tokens.create(user, "script")
        tokens.revoke(user, token.pk)

        response = call(Client(), method, url, job, Authorization=f"Bearer {key}")

        assert response.status_code == 401
        assert response.json() == {"error": "Invalid or revoked API token."}
        assert Job.objects.count() == 1

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer",
            "Bearer ",
            "Bearer lj_not-a-real-token",
            "Bearer not-even-the-prefix",
            "Token lj_abc",
            "Basic YWxpY2U6cGFzc3dvcmQ=",
            "lj_abc",
        ],
    )
    def test_a_malformed_or_unknown_token_is_401(self, user, header):
        tokens.create(user, "script")

        response = Client().get("/api/stats", headers={"Authorization": header})

        assert response.status_code == 401
        assert "token" in response.json()["error"] or "Bearer" in response.json()["error"]

    def test_a_token_that_fails_is_not_rescued_by_a_session(self, user):
        client = Client()
        client.force_login(user)

        response = client.get("/api/stats", headers={"Authorization": "Bearer lj_wrong"})

        assert response.status_code == 401

    def test_an_inactive_users_token_stops_working(self, user):
        _, key = tokens.create(user, "script")
        user.is_active = False
        user.save()

        response = Client().get("/api/stats", headers={"Authorization": f"Bearer {key}"})

        assert response.status_code == 401

    def test_only_a_hash_is_stored_with_a_short_visible_prefix(self, user):
        token, key = tokens.create(user, "script")

        token.refresh_from_db()
        assert key.startswith("lj_") and len(key) > 40
        assert token.key_hash == tokens.hash_key(key) != key
        assert key not in token.key_hash
        assert key.startswith(token.prefix) and len(token.prefix) < 12

    def test_use_is_recorded_at_most_once_a_minute(self, user):
        token, key = tokens.create(user, "script")
        client = Client(headers={"Authorization": f"Bearer {key}"})

        client.get("/api/stats")
        token.refresh_from_db()
        first = token.last_used_at
        client.get("/api/stats")
        token.refresh_from_db()

        assert first is not None
        assert token.last_used_at == first
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
        client.get("/api/stats")
        token.refresh_from_db()
        assert token.last_used_at > first - timedelta(seconds=1)
        assert token.last_used_at <= timezone.now()

    def test_a_users_token_sees_only_their_jobs(self, user):
        make_job(make_user())
        _, key = tokens.create(user, "script")

        body = Client().get("/api/jobs", headers={"Authorization": f"Bearer {key}"}).json()

        assert body["count"] == 0


class TestSession:
    def test_a_logged_in_browser_reads_the_api(self, alice_client, user):
        job = make_job(user)

        response = alice_client.get(f"/api/jobs/{job.pk}")

        assert response.status_code == 200
        assert response.json()["id"] == str(job.pk)

    @pytest.mark.parametrize(("method", "url"), [e for e in ENDPOINTS if e[0] == "post"])
    def test_a_session_post_needs_the_csrf_token(self, user, method, url):
        job = make_job(user)
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)

        response = call(client, method, url, job)

        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED
        assert Job.objects.count() == 1

    def test_with_the_csrf_token_a_session_cancels(self, user):
        job = make_job(user)
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get("/settings/tokens/")

        response = client.post(
            f"/api/jobs/{job.pk}/cancel",
            headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        )

        assert response.status_code == 200
        job.refresh_from_db()
        assert job.status == Job.Status.CANCELLED

    def test_a_token_needs_no_csrf_token_even_with_a_session_cookie(self, user):
        job = make_job(user)
        _, key = tokens.create(user, "script")
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)

        response = client.post(
            f"/api/jobs/{job.pk}/cancel", headers={"Authorization": f"Bearer {key}"}
        )

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
