"""Reading and acting on jobs: list, detail, result, cancel, retry, stats."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.api import tokens
from jobs.engine import running, submitting
from jobs.models import Job, JobCheckpoint
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db
KINDS = ["jobs.kinds.semantic_model", "jobs.kinds.review", "tests.kinds_for_tests"]


@pytest.fixture(autouse=True)
def test_kinds(settings):
    settings.JOB_KIND_MODULES = KINDS


@pytest.fixture
def api(user) -> Client:
    _, key = tokens.create(user, "tests")
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})


def primes(owner, n: int = 50, **fields) -> Job:
    return make_job(owner, kind="primes", params={"n": n}, **fields)


def ran(job: Job) -> Job:
    """The job after a worker's attempt at it, run here in the test's process."""
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    return job


class TestList:
    def test_only_your_jobs_newest_first(self, api, user):
        now = timezone.now()
        old = primes(user, created_at=now - timedelta(hours=2))
        new = primes(user, created_at=now - timedelta(hours=1))
        primes(make_user())

        response = api.get("/api/jobs")

        body = response.json()
        assert response.status_code == 200
        assert body["count"] == 2
        assert [job["id"] for job in body["results"]] == [str(new.pk), str(old.pk)]
        assert body["results"][0]["status_url"] == f"/api/jobs/{new.pk}"
        assert body["next"] is None and body["previous"] is None

    def test_limit_and_offset_page_through_with_links(self, api, user):
        now = timezone.now()
        made = [primes(user, created_at=now - timedelta(minutes=i)) for i in range(5)]

        first = api.get("/api/jobs?limit=2").json()
        second = api.get(first["next"]).json()
        last = api.get("/api/jobs?limit=2&offset=4").json()

        assert [j["id"] for j in first["results"]] == [str(made[0].pk), str(made[1].pk)]
        assert [j["id"] for j in second["results"]] == [str(made[2].pk), str(made[3].pk)]
        assert second["offset"] == 2
        assert api.get(second["previous"]).json()["results"] == first["results"]
        assert [j["id"] for j in last["results"]] == [str(made[4].pk)]
        assert last["next"] is None

    def test_page_counts_from_one(self, api, user):
        now = timezone.now()
        made = [primes(user, created_at=now - timedelta(minutes=i)) for i in range(3)]

        body = api.get("/api/jobs?limit=2&page=2").json()

        assert body["offset"] == 2
        assert [j["id"] for j in body["results"]] == [str(made[2].pk)]

    def test_past_the_end_is_an_empty_page(self, api, user):
        primes(user)

        body = api.get("/api/jobs?page=9").json()

        assert body["count"] == 1
        assert body["results"] == []

    def test_filters_by_status_and_kind(self, api, user):
        done = primes(user, status=Job.Status.SUCCEEDED)
        primes(user)
        table = make_job(user, status=Job.Status.SUCCEEDED)

        by_status = api.get("/api/jobs?status=succeeded").json()
        both = api.get("/api/jobs?status=succeeded&kind=primes").json()

        assert {j["id"] for j in by_status["results"]} == {str(done.pk), str(table.pk)}
        assert [j["id"] for j in both["results"]] == [str(done.pk)]
        assert both["count"] == 1

    @pytest.mark.parametrize(
        ("query", "words"),
        [
            ("status=done", "status"),
            ("status=", "status"),
            ("kind=poetry", "Unknown kind"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("offset=-1", "offset"),
            ("page=0", "page"),
            ("page=1.5", "page"),
            ("page=1&offset=0", "either offset or page"),
            # Past what PostgreSQL's OFFSET (a bigint) takes: refused, not a 500.
            ("page=99999999999999999999", "page"),
            ("offset=99999999999999999999", "offset"),
            ("page=10000001", "page"),
        ],
    )
    def test_bad_filters_and_pagination_are_400(self, api, user, query, words):
        primes(user)

        response = api.get(f"/api/jobs?{query}")

        assert response.status_code == 400
        assert words in response.json()["error"]


class TestDetail:
    def test_a_queued_job_shows_its_stages_and_place_in_line(self, api, user):
        primes(make_user())
        job = primes(user)

        response = api.get(f"/api/jobs/{job.pk}")

        body = response.json()
        assert response.status_code == 200
        assert body["id"] == str(job.pk)
        assert body["kind"] == "primes"
        assert body["status"] == "queued"
        assert body["jobs_ahead"] == 1
        assert body["stages"] == [
            {"key": "counting", "label": "Counting", "state": "todo"},
            {"key": "reporting", "label": "Reporting", "state": "todo"},
        ]
        assert body["attempts"] == 0
        assert body["priority"] == 0
        assert body["result_url"] == f"/api/jobs/{job.pk}/result"
        for stamp in ("started_at", "finished_at", "progress_at"):
            assert body[stamp] is None

    def test_a_running_job_shows_its_stage_and_progress(self, api, user):
        now = timezone.now()
        job = primes(
            user,
            status=Job.Status.RUNNING,
            stage="reporting",
            progress=0.75,
            message="checked 40",
            attempts=1,
            started_at=now,
            progress_at=now,
        )

        body = api.get(f"/api/jobs/{job.pk}").json()

        assert body["status"] == "running"
        assert body["progress"] == 0.75
        assert body["message"] == "checked 40"
        assert body["jobs_ahead"] is None
        assert [s["state"] for s in body["stages"]] == ["done", "current"]
        assert body["started_at"] is not None and body["progress_at"] is not None

    def test_a_failed_job_shows_its_error_and_failed_stage(self, api, user):
        job = primes(user)
        Job.objects.filter(pk=job.pk).update(params={"n": 10, "fail": True})
        ran(job)

        body = api.get(f"/api/jobs/{job.pk}").json()

        assert body["status"] == "failed"
        assert body["error"] == "There were too many primes to report."
        assert [s["state"] for s in body["stages"]] == ["done", "failed"]
        assert body["finished_at"] is not None


class TestResult:
    def test_409_while_queued_or_running(self, api, user):
        queued = primes(user)
        running = primes(user, status=Job.Status.RUNNING)

        for job in (queued, running):
            response = api.get(f"/api/jobs/{job.pk}/result")
            assert response.status_code == 409
            assert "not finished" in response.json()["error"]
            assert response.json()["status"] == job.status

    def test_a_succeeded_job_gives_its_result(self, api, user):
        job = ran(primes(user, n=100))

        response = api.get(f"/api/jobs/{job.pk}/result")

        assert job.status == Job.Status.SUCCEEDED
        assert response.status_code == 200
        assert response.json() == {"primes": 25}

    def test_a_failed_job_gives_its_partial_result(self, api, user):
        job = primes(user)
        Job.objects.filter(pk=job.pk).update(params={"n": 10, "fail": True})
        ran(job)

        response = api.get(f"/api/jobs/{job.pk}/result")

        assert response.status_code == 200
        assert response.json() == {"primes": 4, "partial": True}

    def test_a_cancelled_job_gives_what_it_finished(self, api, user):
        job = primes(user, status=Job.Status.RUNNING, stage="reporting")
        JobCheckpoint.objects.create(job=job, key="counted", value=[2, 3, 5])
        api.post(f"/api/jobs/{job.pk}/cancel")

        response = api.get(f"/api/jobs/{job.pk}/result")

        assert response.status_code == 200
        assert response.json() == {"primes": 3, "partial": True}

    def test_an_ended_job_with_nothing_to_show_is_409(self, api, user):
        job = primes(user)
        api.post(f"/api/jobs/{job.pk}/cancel")

        response = api.get(f"/api/jobs/{job.pk}/result")

        assert response.status_code == 409
        assert response.json()["status"] == "cancelled"
        assert "no result" in response.json()["error"]


class TestCancel:
    def test_a_queued_job_is_cancelled(self, api, user):
        job = primes(user)

        response = api.post(f"/api/jobs/{job.pk}/cancel")

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        job.refresh_from_db()
        assert job.status == Job.Status.CANCELLED
        assert ran(job).status == Job.Status.CANCELLED, "its task starts nothing"

    def test_cancelling_an_ended_job_changes_nothing_and_says_how_it_ended(self, api, user):
        job = ran(primes(user))
        finished_at = job.finished_at

        response = api.post(f"/api/jobs/{job.pk}/cancel")
        again = api.post(f"/api/jobs/{job.pk}/cancel")

        assert response.status_code == again.status_code == 200
        assert response.json()["status"] == "succeeded"
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED
        assert job.finished_at == finished_at


class TestRetry:
    def test_a_failed_job_is_queued_again(self, api, user):
        job = primes(user)
        Job.objects.filter(pk=job.pk).update(params={"n": 10, "fail": True})
        ran(job)

        response = api.post(f"/api/jobs/{job.pk}/retry")

        assert response.status_code == 202
        assert response.json()["status"] == "queued"
        assert response.json()["error"] == ""
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED

    def test_a_cancelled_job_is_queued_again(self, api, user):
        job = primes(user)
        api.post(f"/api/jobs/{job.pk}/cancel")

        response = api.post(f"/api/jobs/{job.pk}/retry")

        assert response.status_code == 202
        assert ran(job).status == Job.Status.SUCCEEDED

    @pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING])
    def test_an_active_job_cannot_be_retried(self, api, user, status):
        job = primes(user, status=status)

        response = api.post(f"/api/jobs/{job.pk}/retry")

        assert response.status_code == 409
        assert response.json()["status"] == status
        job.refresh_from_db()
        assert job.status == status

    def test_a_succeeded_job_cannot_be_retried(self, api, user):
        job = ran(primes(user))

        response = api.post(f"/api/jobs/{job.pk}/retry")

        assert response.status_code == 409
        assert "Only a failed or cancelled job" in response.json()["error"]
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED


class TestStats:
    def test_counts_only_your_jobs(self, api, user):
        ran(primes(user))
        ran(primes(user))
        failed = primes(user)
        Job.objects.filter(pk=failed.pk).update(params={"n": 10, "fail": True})
        ran(failed)
        primes(user)
        make_job(user, status=Job.Status.RUNNING)
        cancelled = primes(user)
        submitting.cancel(cancelled)
        stranger = make_user()
        ran(primes(stranger))
        primes(stranger, status=Job.Status.FAILED)

        response = api.get("/api/stats")

        assert response.status_code == 200
        assert response.json() == {
            "total": 6,
            "by_status": {"queued": 1, "running": 1, "succeeded": 2, "failed": 1, "cancelled": 1},
            "by_kind": {"semantic_model": 1, "review": 0, "primes": 5},
            "active": 2,
            "success_rate": pytest.approx(2 / 3),
        }

    def test_no_jobs_no_rate(self, api, user):
        primes(make_user(), status=Job.Status.SUCCEEDED)

        body = api.get("/api/stats").json()

        assert body["total"] == 0
        assert body["success_rate"] is None
        assert set(body["by_status"].values()) == {0}


class TestOwnership:
    @pytest.mark.parametrize(
        ("method", "suffix"),
        [("get", ""), ("get", "/result"), ("post", "/cancel"), ("post", "/retry")],
    )
    def test_another_users_job_is_404_like_a_missing_one(self, api, method, suffix):
        theirs = primes(make_user(), status=Job.Status.FAILED, result={"primes": 1})

        response = getattr(api, method)(f"/api/jobs/{theirs.pk}{suffix}")
        missing = getattr(api, method)(f"/api/jobs/{uuid.uuid4()}{suffix}")

        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json() == {"error": "No such job."}
        theirs.refresh_from_db()
        assert theirs.status == Job.Status.FAILED

    @pytest.mark.parametrize("job_id", ["nonsense", "123", "0" * 40, "%20"])
    def test_a_malformed_id_is_404(self, api, job_id):
        response = api.get(f"/api/jobs/{job_id}")

        assert response.status_code == 404
        assert response.json() == {"error": "No such job."}


class TestHttp:
    @pytest.mark.parametrize(
        ("method", "url", "allowed"),
        [
            ("delete", "/api/jobs", "GET, POST"),
            ("put", "/api/stats", "GET"),
            ("get", "/api/jobs/{pk}/cancel", "POST"),
            ("patch", "/api/jobs/{pk}", "GET"),
        ],
    )
    def test_a_wrong_method_is_405_with_allow(self, api, user, method, url, allowed):
        job = primes(user)

        response = getattr(api, method)(url.format(pk=job.pk))

        assert response.status_code == 405
        assert sorted(response["Allow"].split(", ")) == sorted(allowed.split(", "))
        assert method.upper() in response.json()["error"]

    @pytest.mark.parametrize("url", ["/api/", "/api/nothing", "/api/jobs/", "/api/jobs/x/y/z"])
    def test_an_unknown_path_is_a_json_404(self, api, url):
        response = api.get(url)

        assert response.status_code == 404
        assert "error" in response.json()
