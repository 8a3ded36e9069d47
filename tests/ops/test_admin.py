from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_q.models import OrmQ

from jobs.models import Job, JobCheckpoint, JobEvent
from jobs.ops import pagination as admin_pagination
from jobs.ops.pagination import EstimatedCountPaginator
from tests.factories import PASSWORD, make_job, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:jobs_job_changelist"


@pytest.fixture
def staff_client(client):
    staff = make_user("staff", is_staff=True, is_superuser=True)
    client.login(username=staff.username, password=PASSWORD)
    return client


def listed(response) -> set[str]:
    return {str(job.pk) for job in response.context["cl"].result_list}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_action(client, action: str, jobs):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, ACTION_CHECKBOX_NAME: [str(job.pk) for job in jobs]},
        follow=True,
    )


def job_rows(count: int, owner, **fields) -> list[Job]:
    """Job rows written straight to the table, as many as a test needs, fast."""
    return Job.objects.bulk_create(
        Job(owner=owner, kind="semantic_model", params={"table": f"t{n}"}, **fields)
        for n in range(count)
    )


def analyze_jobs() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Job._meta.db_table}")


def counted_jobs(queries) -> list[str]:
    return [
        q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and Job._meta.db_table in q["sql"]
    ]


# --- Access --------------------------------------------------------------------------


def test_staff_see_every_users_jobs_and_their_history(staff_client):
    job = make_job(make_user("someone"), status="failed", error="worker lost")

    changelist = staff_client.get(reverse(CHANGELIST))
    change = staff_client.get(reverse("admin:jobs_job_change", args=[job.pk]))

    assert changelist.status_code == 200
    assert str(job.pk) in changelist.content.decode()
    assert change.status_code == 200
    body = change.content.decode()
    assert "worker lost" in body
    assert "queued" in body  # the event history inline


def test_users_without_staff_rights_cannot_open_the_admin(client, user):
    client.login(username=user.username, password=PASSWORD)

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_jobs_are_never_added_by_hand_but_may_be_deleted(staff_client):
    job = make_job()

    add = staff_client.get(reverse("admin:jobs_job_add"))
    delete = staff_client.post(reverse("admin:jobs_job_delete", args=[job.pk]), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()


# --- The list ------------------------------------------------------------------------


def test_the_list_shows_each_jobs_state_and_times(staff_client):
    now = timezone.now()
    done = make_job(
        make_user("carol"),
        status="succeeded",
        stage="writing",
        progress=0.42,
        attempts=3,
        priority=7,
        created_at=now - timedelta(minutes=10),
        started_at=now - timedelta(minutes=2),
        finished_at=now - timedelta(minutes=1),
    )
    waiting = make_job(make_user("dave"), created_at=now - timedelta(minutes=3))

    body = staff_client.get(reverse(CHANGELIST)).content.decode()

    rows = body.split("<tr")
    row_of = {job: next(row for row in rows if str(job.pk) in row) for job in (done, waiting)}
    assert f'<span title="{done.pk}">{str(done.pk)[:8]}</span></a></th>' in row_of[done]
    assert '<td class="field-owner nowrap">carol</td>' in row_of[done]
    assert '<td class="field-kind_label">Semantic model</td>' in row_of[done]
    assert '<td class="field-title">demo.loan_applications</td>' in row_of[done]
    assert '<td class="field-status">Succeeded</td>' in row_of[done]
    assert '<td class="field-stage">writing</td>' in row_of[done]
    assert '<td class="field-progress_percent">42 %</td>' in row_of[done]
    assert '<td class="field-attempts">3</td>' in row_of[done]
    assert '<td class="field-priority">7</td>' in row_of[done]
    assert '<td class="field-waiting">8 min 00 s</td>' in row_of[done]
    assert '<td class="field-running">1 min 00 s</td>' in row_of[done]
    # Still queued: waiting so far, not running.
    assert '<td class="field-waiting">3 min 0' in row_of[waiting]
    assert '<td class="field-running">-</td>' in row_of[waiting]


def test_the_list_filters_by_status_kind_and_date(staff_client):
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    failed = make_job(status="failed")
    review = make_job(kind="review", params={"question": "Does it work?", "documents": [1]})
    old = make_job(created_at=now - timedelta(days=30))
    url = reverse(CHANGELIST)

    by_status = staff_client.get(url, {"status__exact": "failed"})
    by_kind = staff_client.get(url, {"kind": "review"})
    past_week = staff_client.get(
        url,
        {
            "created_at__gte": str(today - timedelta(days=7)),
            "created_at__lt": str(today + timedelta(days=1)),
        },
    )

    assert listed(by_status) == {str(failed.pk)}
    assert listed(by_kind) == {str(review.pk)}
    assert listed(past_week) == {str(failed.pk), str(review.pk)}
    assert str(old.pk) not in listed(past_week)
    # Every kind of the registry is offered, with no query for the values.
    assert "?kind=deep_dive" in by_kind.content.decode()


def test_a_pasted_id_finds_its_job_through_the_primary_key(staff_client):
    job = make_job()
    make_job()

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(reverse(CHANGELIST), {"q": f" {job.pk} "})

    assert listed(response) == {str(job.pk)}
    rows_query = next(q["sql"] for q in queries if 'FROM "jobs_job"' in q["sql"])
    assert f'"jobs_job"."id" = \'{job.pk}\'' in rows_query
    assert "LIKE" not in rows_query


def test_the_short_id_shown_in_the_list_finds_its_job(staff_client):
    job = make_job()
    make_job()

    response = staff_client.get(reverse(CHANGELIST), {"q": str(job.pk)[:8]})

    assert listed(response) == {str(job.pk)}


def test_the_list_searches_owners_titles_and_parameters(staff_client):
    carol = make_job(make_user("carol.smith"))
    special = make_job(params={"database": "default", "schema": "demo", "table": "Xyzzy_loans"})
    titled = make_job(kind="deep_dive", params={"objective": "effect on HbA1c", "document": 1})
    url = reverse(CHANGELIST)

    assert listed(staff_client.get(url, {"q": "CAROL"})) == {str(carol.pk)}
    assert listed(staff_client.get(url, {"q": "xyzzy"})) == {str(special.pk)}
    assert listed(staff_client.get(url, {"q": "hba1c"})) == {str(titled.pk)}
    assert listed(staff_client.get(url, {"q": "nothing-like-this"})) == set()


def test_the_lists_queries_do_not_grow_with_its_rows(staff_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse(CHANGELIST))
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    for _ in range(5):
        make_job()  # each with its own owner
    few, rows = page_queries()
    assert rows == 5
    for _ in range(45):
        make_job()
    many, rows = page_queries()

    assert rows == 50
    assert many == few


# --- Actions -------------------------------------------------------------------------


def test_retry_queues_failed_and_cancelled_jobs_and_reports_the_others(staff_client):
    failed = make_job(status="failed", error="boom", finished_at=timezone.now())
    cancelled = make_job(status="cancelled", finished_at=timezone.now())
    succeeded = make_job(status="succeeded")
    running = make_job(status="running")
    tasks = OrmQ.objects.count()

    response = run_action(staff_client, "retry_jobs", [failed, cancelled, succeeded, running])

    assert messages_of(response) == ["Retried 2 jobs. Skipped 2 jobs not failed or cancelled."]
    for job in (failed, cancelled):
        job.refresh_from_db()
        assert job.status == "queued"
        assert job.error == ""
        event = JobEvent.objects.filter(job=job, name="queued").last()
        assert event.message.startswith("Retried by staff (")
    assert Job.objects.get(pk=succeeded.pk).status == "succeeded"
    assert Job.objects.get(pk=running.pk).status == "running"
    assert OrmQ.objects.count() == tasks + 2


def test_cancel_stops_active_jobs_and_reports_the_ended_ones(staff_client):
    queued = make_job()
    running = make_job(status="running")
    failed = make_job(status="failed")

    response = run_action(staff_client, "cancel_jobs", [queued, running, failed])

    assert messages_of(response) == ["Cancelled 2 jobs. Skipped 1 job already ended."]
    for job in (queued, running):
        job.refresh_from_db()
        assert job.status == "cancelled"
        assert job.finished_at is not None
        assert JobEvent.objects.filter(job=job, name="cancelled").exists()
    assert Job.objects.get(pk=failed.pk).status == "failed"


def test_run_again_submits_a_new_job_with_the_same_inputs(staff_client, settings):
    params = {"database": "default", "schema": "demo", "table": "loan_applications", "n": [1, 2]}
    original = make_job(make_user("erin"), params=params, status="succeeded", priority=3)
    unknown = make_job(status="failed")
    Job.objects.filter(pk=unknown.pk).update(kind="retired_kind")
    busy = make_job(make_user("frank"), status="failed")
    make_job(busy.owner)  # frank's one active job
    settings.MAX_ACTIVE_JOBS_PER_USER = 1
    before = set(Job.objects.values_list("pk", flat=True))
    tasks = OrmQ.objects.count()

    response = run_action(staff_client, "run_again", [original, unknown, busy])

    new = Job.objects.exclude(pk__in=before).get()
    assert (new.owner, new.kind, new.params) == (original.owner, "semantic_model", params)
    assert new.status == "queued"
    assert new.priority == 0  # the inputs only, nothing else
    assert OrmQ.objects.count() == tasks + 1
    assert Job.objects.get(pk=original.pk).status == "succeeded"  # untouched
    shown = messages_of(response)
    assert shown[0] == "Queued 1 job with the same inputs. Skipped 2 jobs."
    assert f"Job {unknown.pk} ({unknown.owner}): unknown kind 'retired_kind'." in shown
    assert any(m.startswith(f"Job {busy.pk} (frank): refused. You already have 1") for m in shown)


def test_a_jobs_page_offers_only_the_actions_that_apply(staff_client):
    failed = make_job(status="failed")
    queued = make_job()

    failed_page = staff_client.get(reverse("admin:jobs_job_change", args=[failed.pk])).content
    queued_page = staff_client.get(reverse("admin:jobs_job_change", args=[queued.pk])).content

    retry_url = reverse("admin:jobs_job_retry", args=[failed.pk])
    assert f'action="{retry_url}"'.encode() in failed_page
    assert b"csrfmiddlewaretoken" in failed_page
    assert reverse("admin:jobs_job_cancel", args=[failed.pk]).encode() not in failed_page
    assert reverse("admin:jobs_job_cancel", args=[queued.pk]).encode() in queued_page
    assert reverse("admin:jobs_job_retry", args=[queued.pk]).encode() not in queued_page
    assert reverse("admin:jobs_job_run_again", args=[queued.pk]).encode() in queued_page


def test_the_buttons_on_a_jobs_page_retry_cancel_and_run_again(staff_client):
    failed = make_job(status="failed")
    queued = make_job()

    retried = staff_client.post(reverse("admin:jobs_job_retry", args=[failed.pk]))
    cancelled = staff_client.post(reverse("admin:jobs_job_cancel", args=[queued.pk]))
    again = staff_client.post(reverse("admin:jobs_job_run_again", args=[queued.pk]))

    assert retried["Location"] == reverse("admin:jobs_job_change", args=[failed.pk])
    assert Job.objects.get(pk=failed.pk).status == "queued"
    assert Job.objects.get(pk=queued.pk).status == "cancelled"
    new = Job.objects.exclude(pk__in=[failed.pk, queued.pk]).get()
    assert new.params == queued.params
    assert again["Location"] == reverse("admin:jobs_job_change", args=[new.pk])
    assert cancelled.status_code == 302


def test_the_buttons_only_answer_a_post_with_a_csrf_token(staff_client):
    job = make_job(status="failed")
    url = reverse("admin:jobs_job_retry", args=[job.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = staff_client.cookies

    assert staff_client.get(url).status_code == 405
    assert strict.post(url).status_code == 403
    assert Job.objects.get(pk=job.pk).status == "failed"


# --- A job's page --------------------------------------------------------------------


def test_a_jobs_page_shows_inputs_and_result_as_escaped_json(staff_client):
    params = {"question": "<script>alert(1)</script>", "documents": [1, 2]}
    job = make_job(kind="review", params=params, status="failed", error="Provider timed out.")
    Job.objects.filter(pk=job.pk).update(result={"summary": "partial", "partial": True})

    body = staff_client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    pretty = json.dumps(params, indent=2, sort_keys=True)
    assert f'<pre class="job-json">{escape(pretty)}</pre>' in body
    assert "<script>alert(1)</script>" not in body
    assert escape(json.dumps({"partial": True, "summary": "partial"}, indent=2)) in body
    assert "Provider timed out." in body


def test_a_jobs_page_lists_its_checkpoints_with_values_cut_short(staff_client):
    job = make_job()
    value = {"text": "x" * 500}
    JobCheckpoint.objects.create(job=job, key="column:amount", value=value, attempt=1)

    body = staff_client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    assert "column:amount" in body
    assert escape(json.dumps(value)[:120]) + "…" in body
    assert "x" * 200 not in body


def test_staff_change_the_priority_and_nothing_else(staff_client):
    job = make_job(title="Original")
    url = reverse("admin:jobs_job_change", args=[job.pk])

    form = staff_client.get(url).context["adminform"].form
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(
            url,
            {
                "priority": "5",
                "status": "succeeded",
                "title": "Changed",
                "progress": "1",
                "events-TOTAL_FORMS": "0",
                "events-INITIAL_FORMS": "0",
                "checkpoints-TOTAL_FORMS": "0",
                "checkpoints-INITIAL_FORMS": "0",
            },
        )

    assert list(form.fields) == ["priority"]
    assert response.status_code == 302
    # Only the priority is written: a whole-row save would undo the worker's progress.
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "jobs_job"')]
    assert len(updates) == 1
    assert updates[0].startswith('UPDATE "jobs_job" SET "priority" = 5 WHERE')
    job.refresh_from_db()
    assert job.priority == 5
    assert (job.status, job.title, job.progress) == ("queued", "Original", 0.0)


# --- Counting a big table ------------------------------------------------------------


def test_small_lists_are_counted_exactly(user):
    job_rows(30, user, status="failed")
    job_rows(5, user, status="succeeded")

    everything = EstimatedCountPaginator(Job.objects.all(), 10)
    failed = EstimatedCountPaginator(Job.objects.filter(status="failed"), 10)

    assert (everything.count, everything.estimated) == (35, False)
    assert (failed.count, failed.estimated) == (30, False)


@pytest.mark.django_db(transaction=True)
def test_a_big_table_is_counted_from_the_planners_statistics(monkeypatch, user):
    monkeypatch.setattr(admin_pagination, "ESTIMATE_ABOVE", 100)
    job_rows(300, user)
    analyze_jobs()
    job_rows(40, user)  # not yet in the statistics

    paginator = EstimatedCountPaginator(Job.objects.all(), 100)
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    assert count == 300  # pg_class.reltuples as of the ANALYZE
    assert paginator.estimated
    assert Job.objects.count() == 340
    assert counted_jobs(queries) == []


@pytest.mark.django_db(transaction=True)
def test_a_filtered_big_list_is_counted_from_explain(monkeypatch, user):
    monkeypatch.setattr(admin_pagination, "ESTIMATE_ABOVE", 100)
    job_rows(200, user, status="failed")
    job_rows(100, user, status="succeeded")
    analyze_jobs()
    job_rows(40, user, status="failed")
    failed = Job.objects.filter(status="failed")

    paginator = EstimatedCountPaginator(failed, 100)
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    assert paginator.estimated
    assert counted_jobs(queries) == []
    assert any(q["sql"].startswith("EXPLAIN") for q in queries)
    assert 150 <= count <= 300
    assert failed.count() == 240
    # Under the threshold the same list is counted for real.
    monkeypatch.setattr(admin_pagination, "ESTIMATE_ABOVE", 1000)
    exact = EstimatedCountPaginator(failed, 100)
    assert (exact.count, exact.estimated) == (240, False)


@pytest.mark.django_db(transaction=True)
def test_the_list_of_a_big_table_shows_an_estimate_without_counting(monkeypatch, user):
    monkeypatch.setattr(admin_pagination, "ESTIMATE_ABOVE", 100)
    job_rows(300, user)
    analyze_jobs()
    job_rows(40, user)
    staff = make_user("staff", is_staff=True, is_superuser=True)
    client = Client()
    client.login(username=staff.username, password=PASSWORD)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))

    body = response.content.decode()
    assert "about 300 jobs" in body  # under the list
    assert "about 300 results" in body  # beside the search box
    assert len(response.context["cl"].result_list) == 100
    assert counted_jobs(queries) == []


def test_staff_see_api_tokens_without_their_keys_and_revoke_them(staff_client):
    from jobs.api import tokens
    from jobs.models import ApiToken

    owner = make_user("scripter")
    token, key = tokens.create(owner, "ci")

    page = staff_client.get(reverse("admin:jobs_apitoken_changelist")).content.decode()
    detail = staff_client.get(reverse("admin:jobs_apitoken_change", args=[token.pk]))

    assert "scripter" in page and token.prefix in page
    assert key not in page and token.key_hash not in detail.content.decode()
    assert staff_client.get(reverse("admin:jobs_apitoken_add")).status_code == 403
    staff_client.post(reverse("admin:jobs_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert not ApiToken.objects.exists()
