"""POST /api/jobs: what it takes, what it answers, and everything it refuses."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_q.models import OrmQ

from jobs.api import tokens
from jobs.models import Job
from tests.factories import make_document, make_job, make_user

pytestmark = pytest.mark.django_db
URL = "/api/jobs"


@pytest.fixture
def api(user) -> Client:
    """Alice's script: her token, and CSRF enforced, to show a token needs none."""
    _, key = tokens.create(user, "tests")
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})


def post(client: Client, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", headers=headers)


def table_job(demo_table) -> dict:
    return {"kind": "semantic_model", "params": {"table": demo_table.key}}


class TestAccepted:
    def test_a_job_is_queued_at_once_with_its_status_url(self, api, user, demo_table):
        response = post(api, table_job(demo_table))

        job = Job.objects.get()
        assert response.status_code == 202
        assert response.json() == {
            "id": str(job.pk),
            "status": "queued",
            "status_url": f"/api/jobs/{job.pk}",
        }
        assert response["Location"] == f"/api/jobs/{job.pk}"
        assert job.owner == user
        assert job.params == {"tables": [demo_table.key]}
        assert OrmQ.objects.count() == 1

    def test_a_review_of_own_documents_takes_their_ids(self, api, user):
        first, second = make_document(user, "A"), make_document(user, "B")
        params = {"question": "What do they say?", "documents": [second.pk, str(first.pk)]}

        response = post(api, {"kind": "review", "params": {**params, "mode": "recall"}})

        assert response.status_code == 202
        job = Job.objects.get()
        assert job.params == {
            "question": "What do they say?",
            "document_ids": sorted([first.pk, second.pk]),
            "mode": "recall",
        }

    def test_a_deep_dive_takes_one_document(self, api, user):
        document = make_document(user)

        response = post(
            api,
            {"kind": "deep_dive", "params": {"document": document.pk, "objective": "effect size"}},
        )

        assert response.status_code == 202
        assert Job.objects.get().params == {"document_id": document.pk, "objective": "effect size"}

    def test_the_same_idempotency_key_gives_back_the_same_job(self, api, demo_table):
        key = {"Idempotency-Key": "nightly-2026-11-23"}

        first = post(api, table_job(demo_table), **key)
        second = post(api, table_job(demo_table), **key)

        assert first.status_code == second.status_code == 202
        assert first.json()["id"] == second.json()["id"]
        assert Job.objects.count() == 1
        assert OrmQ.objects.count() == 1

    def test_a_key_used_again_for_another_request_is_a_conflict(self, api, user, demo_table):
        key = {"Idempotency-Key": "nightly-2026-11-24"}
        document = make_document(user)
        params = {"document": document.pk, "objective": "interest rates by region"}
        dive = {"kind": "deep_dive", "params": params}
        first = post(api, dive, **key)
        other_objective = {**dive, "params": {**params, "objective": "the costs of default"}}

        answers = [post(api, body, **key) for body in (other_objective, table_job(demo_table))]

        for answer in answers:
            assert answer.status_code == 409, answer.content
            assert "already used for another request" in answer.json()["error"]
            assert answer.json()["job"] == first.json()["id"]
        assert Job.objects.count() == 1
        assert post(api, dive, **key).json()["id"] == first.json()["id"]

    def test_without_a_key_each_post_is_a_new_job(self, api, demo_table):
        post(api, table_job(demo_table))
        post(api, table_job(demo_table))

        assert Job.objects.count() == 2

    def test_keys_are_per_user(self, api, user, demo_table):
        other = make_user()
        theirs = make_job(other)
        Job.objects.filter(pk=theirs.pk).update(idempotency_key="shared-key-1")

        response = post(api, table_job(demo_table), **{"Idempotency-Key": "shared-key-1"})

        assert response.status_code == 202
        assert response.json()["id"] != str(theirs.pk)
        assert Job.objects.get(pk=response.json()["id"]).owner == user

    def test_a_session_post_with_its_csrf_token_is_accepted(self, user, demo_table):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get("/settings/tokens/")  # sets the CSRF cookie, as any page does

        response = client.post(
            URL,
            json.dumps(table_job(demo_table)),
            content_type="application/json",
            headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        )

        assert response.status_code == 202
        assert Job.objects.get().owner == user


class TestRefused:
    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
    )
    def test_a_body_that_is_not_json_is_a_415(self, api, demo_table, content_type):
        body = json.dumps(table_job(demo_table))

        response = api.post(URL, body, content_type=content_type)

        assert response.status_code == 415
        assert "Content-Type: application/json" in response.json()["error"]
        assert Job.objects.count() == 0

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ("{", "not valid JSON"),
            ("", "Field required"),
            ("[1, 2]", "valid dictionary"),
            ('"text"', "valid dictionary"),
            ("null", "valid dictionary"),
            ('{"params": {}}', "kind: Field required"),
            ('{"kind": "semantic_model"}', "params: Field required"),
            ('{"kind": 7, "params": {}}', "kind: Input should be a valid string"),
            ('{"kind": "semantic_model", "params": []}', "params: Input should be a valid dict"),
            ('{"kind": "semantic_model", "params": {}, "extra": 1}', "extra: Extra inputs"),
            ('{"kind": "poetry", "params": {}}', "Unknown kind 'poetry'"),
            ('{"kind": "semantic_model", "params": {}}', "tables: Choose at least one table."),
            ('{"kind": "semantic_model", "params": {"table": "nonsense"}}', "valid choice"),
            (
                '{"kind": "semantic_model", "params": {"table": "default:public.auth_user"}}',
                "valid choice",
            ),
            ('{"kind": "semantic_model", "params": {"table": ["a"]}}', "string or a number"),
            ('{"kind": "semantic_model", "params": {"table": {"a": 1}}}', "string or a number"),
            ('{"kind": "semantic_model", "params": {"table": true}}', "string or a number"),
            ('{"kind": "semantic_model", "params": {"tabel": "x"}}', "Unknown parameter"),
            ('{"kind": "review", "params": {"question": "Why?", "documents": "1"}}', "a list"),
            (
                '{"kind": "review", "params": {"question": "Why though?", "documents": []}}',
                "required",
            ),
            ('{"kind": "deep_dive", "params": {"document": 1, "objective": "x"}}', "objective"),
        ],
    )
    def test_bad_input_is_a_400_with_a_message_and_writes_nothing(
        self, api, demo_table, body, words
    ):
        before = Job.objects.count()

        response = post(api, body)

        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert words in response.json()["error"]
        assert Job.objects.count() == before
        assert not OrmQ.objects.exists()

    def test_a_body_that_is_not_utf8_is_400(self, api):
        response = post(api, b'{"kind": "\xff\xfe"}')

        assert response.status_code == 400
        assert "not valid JSON" in response.json()["error"]
        assert not Job.objects.exists()

    def test_form_errors_come_per_field(self, api):
        response = post(api, {"kind": "review", "params": {"question": "?", "mode": "sideways"}})

        errors = response.json()["errors"]
        assert response.status_code == 400
        assert set(errors) == {"question", "documents", "mode"}
        assert all(isinstance(message, str) for messages in errors.values() for message in messages)

    def test_another_users_document_is_refused_like_a_missing_one(self, api, other_user):
        theirs = make_document(other_user, "Secret")
        params = {"document": theirs.pk, "objective": "effect size"}

        response = post(api, {"kind": "deep_dive", "params": params})
        missing = post(api, {"kind": "deep_dive", "params": {**params, "document": 999999}})

        assert response.status_code == missing.status_code == 400
        assert response.json()["errors"] == missing.json()["errors"]
        assert "document" in response.json()["errors"]
        assert not Job.objects.exists()

    def test_a_review_may_not_include_another_users_document(self, api, user, other_user):
        mine, theirs = make_document(user), make_document(other_user)
        params = {"question": "What do they say?", "documents": [mine.pk, theirs.pk]}

        response = post(api, {"kind": "review", "params": params})

        assert response.status_code == 400
        assert "documents" in response.json()["errors"]
        assert not Job.objects.exists()

    @pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "ünïcode-key"])
    def test_a_malformed_idempotency_key_is_refused(self, api, demo_table, key):
        response = post(api, table_job(demo_table), **{"Idempotency-Key": key})

        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["error"]
        assert not Job.objects.exists()

    def test_a_body_over_one_megabyte_is_413_and_writes_nothing(self, api, demo_table):
        body = json.dumps({**table_job(demo_table), "padding": "x" * 1_100_000})

        response = post(api, body)

        assert response.status_code == 413
        assert "bytes" in response.json()["error"]
        assert not Job.objects.exists()

    def test_a_body_just_under_the_limit_is_read(self, api, demo_table):
        params = {"table": demo_table.key, "padding": "x" * 1_000_000}

        response = post(api, {"kind": "semantic_model", "params": params})

        assert response.status_code == 400, "read and refused for its unknown field, not its size"
        assert "padding" in response.json()["errors"]

    def test_past_the_active_job_limit_it_is_429(self, api, user, demo_table, settings):
        settings.MAX_ACTIVE_JOBS_PER_USER = 2
        make_job(user)
        make_job(user)

        response = post(api, table_job(demo_table))

        assert response.status_code == 429
        assert "2 jobs queued or running" in response.json()["error"]
        assert Job.objects.count() == 2

    def test_a_replayed_key_is_not_counted_against_the_limit(self, api, user, demo_table, settings):
        key = {"Idempotency-Key": "replayed-key"}
        first = post(api, table_job(demo_table), **key)
        settings.MAX_ACTIVE_JOBS_PER_USER = 1

        again = post(api, table_job(demo_table), **key)

        assert again.status_code == 202
        assert again.json()["id"] == first.json()["id"]

    def test_a_session_post_without_its_csrf_token_is_refused(self, user, demo_table):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)

        response = post(client, table_job(demo_table))

        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]
        assert not Job.objects.exists()

    def test_without_credentials_it_is_401_not_a_redirect(self, demo_table):
        response = post(Client(enforce_csrf_checks=True), table_job(demo_table))

        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["error"]
        assert not Job.objects.exists()
