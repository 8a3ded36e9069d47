from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from jobs.engine import running
from jobs.engine.registry import get_kind
from jobs.models import Job
from tests.factories import PASSWORD, make_job

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def new_url(kind: str = "semantic_model") -> str:
    return reverse("jobs:new", args=[kind])


class TestLogin:
    @pytest.mark.parametrize(
        "url", ["/", "/jobs/", "/jobs/new/", "/jobs/new/semantic_model/", "/admin/"]
    )
    def test_pages_need_a_login(self, client, url):
        response = client.get(url, follow=True)

        assert response.redirect_chain
        assert "/login/" in response.redirect_chain[-1][0]

    def test_login_and_logout(self, client, user):
        response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(reverse("jobs:list")).status_code == 200

        client.post(reverse("logout"))
        assert client.get(reverse("jobs:list")).status_code == 302

    def test_a_wrong_password_is_refused_with_a_message(self, client, user):
        response = client.post(reverse("login"), {"username": user.username, "password": "x"})

        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content


class TestSubmit:
    def test_submitting_answers_at_once_with_a_redirect_to_the_job(self, alice_client, demo_table):
        response = alice_client.post(new_url(), {"table": demo_table.key})

        job = Job.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("jobs:detail", args=[job.pk])
        assert job.status == Job.Status.QUEUED
        assert job.title == "demo.loan_applications"
        assert OrmQ.objects.count() == 1

    def test_the_form_offers_databases_then_schemas_then_tables(self, alice_client, demo_table):
        page = alice_client.get(new_url()).content.decode()
        url = reverse("jobs:table_schemas")
        schemas = alice_client.get(url, {"database": "default"}, headers=HTMX).content.decode()
        tables = alice_client.get(
            reverse("jobs:table_list"), {"database": "default", "schema": "demo"}, headers=HTMX
        ).content.decode()

        assert '<option value="default">App database (default)</option>' in page
        assert f'value="{demo_table.key}"' not in page, "tables wait for a database"
        assert '<option value="demo" selected>demo</option>' in schemas
        assert "auth_user" not in schemas and "jobs_job" not in tables
        assert f'<input type="checkbox" name="tables" value="{demo_table.key}">' in tables
        assert 'value="default:demo.lenders"' in tables

    def test_without_javascript_the_choice_reloads_the_page_at_it(self, alice_client, demo_table):
        moved = alice_client.get(
            reverse("jobs:table_list"), {"database": "default", "schema": "demo"}
        )
        page = alice_client.get(moved["Location"]).content.decode()

        assert moved.status_code == 302
        assert '<option value="default" selected>' in page
        assert f'value="{demo_table.key}"' in page

    def test_several_tables_make_one_job(self, alice_client, demo_table):
        data = {"tables": [demo_table.key, "default:demo.lenders"]}

        response = alice_client.post(new_url(), data)

        job = Job.objects.get()
        assert response.status_code == 302
        assert job.params == {"tables": [demo_table.key, "default:demo.lenders"]}
        assert job.title == "demo.loan_applications and 1 more table"

    def test_edit_and_run_again_shows_the_chosen_tables_checked(
        self, alice_client, user, demo_table
    ):
        keys = ["default:demo.lenders", "default:demo.loan_applications"]
        job = make_job(user, params={"tables": keys})

        page = alice_client.get(new_url(), {"from": job.pk}).content.decode()

        for key in keys:
            assert f'value="{key}" checked' in page
        assert '<option value="demo" selected>' in page

    def test_a_database_the_user_may_not_use_is_404(self, alice_client, demo_table):
        url = reverse("jobs:table_schemas")

        assert alice_client.get(url, {"database": "c9999"}, headers=HTMX).status_code == 404
        assert alice_client.get(url, {"database": "other"}, headers=HTMX).status_code == 404

    @pytest.mark.parametrize("table", ["", "default:public.auth_user", "nonsense", "x" * 5000])
    def test_bad_input_gets_a_form_error_and_writes_nothing(self, alice_client, demo_table, table):
        response = alice_client.post(new_url(), {"table": table})

        assert response.status_code == 400
        assert b"errorlist" in response.content
        assert not Job.objects.exists()
        assert not OrmQ.objects.exists()

    def test_an_unknown_kind_is_404(self, alice_client):
        assert alice_client.get(new_url("poetry")).status_code == 404
        assert alice_client.post(new_url("poetry"), {}).status_code == 404

    def test_posts_need_a_csrf_token(self, user, demo_table):
        client = Client(enforce_csrf_checks=True)
        client.login(username=user.username, password=PASSWORD)

        response = client.post(new_url(), {"table": demo_table.key})

        assert response.status_code == 403
        assert not Job.objects.exists()

    def test_the_kind_index_links_each_kind(self, alice_client):
        response = alice_client.get(reverse("jobs:kinds"))

        assert new_url().encode() in response.content


class TestJobPage:
    def test_an_active_job_polls_its_status_fragment(self, alice_client, user):
        job = make_job(user, status=Job.Status.RUNNING, stage="sampling", progress=0.42,
                       message="Sampling loan_type")  # fmt: skip

        page = alice_client.get(job.get_absolute_url())
        fragment = alice_client.get(job.get_absolute_url(), headers=HTMX)

        assert page.status_code == fragment.status_code == 200
        assert b"<html" in page.content and b"<html" not in fragment.content
        body = fragment.content.decode()
        # The status section, after the tab's title that htmx takes from the fragment's root.
        assert re.match(r'\s*<title>[^<]+</title>\s*<section id="job-status"', body)
        assert 'hx-trigger="every 5.0s' in body
        assert "visibilitychange" in body
        assert 'role="progressbar"' in body and 'aria-valuenow="42"' in body
        assert 'data-stage="profiling"' in body
        assert 'class="stage current" data-stage="sampling"' in body
        assert 'class="stage done" data-stage="reading_schema"' in body
        assert 'class="stage todo" data-stage="saving"' in body
        assert "Sampling loan_type" in body
        assert "Elapsed:" in body
        assert '<meta http-equiv="refresh"' in page.content.decode()

    def test_the_final_fragment_stops_polling_and_shows_the_result(
        self, alice_client, user, demo_table
    ):
        job = make_job(user, params=demo_table.as_params())
        running.run_queued_job(str(job.pk))

        body = alice_client.get(job.get_absolute_url(), headers=HTMX).content.decode()

        assert "hx-trigger" not in body and "hx-get" not in body
        assert 'aria-valuenow="100"' in body
        assert "Download YAML" in body
        assert "3,000 rows" in body
        # Highlighted: the YAML's text runs across Pygments' spans.
        assert "name: loan_applications_model" in re.sub(r"<[^>]+>", "", body)
        assert body.count('class="stage done"') == len(get_kind("semantic_model").stages)
        # htmx puts a <title> found in a swapped fragment into the tab.
        assert "<title>✓ Succeeded · Semantic model demo.loan_applications</title>" in body

    def test_the_tab_title_follows_the_progress(self, alice_client, user):
        job = make_job(user, status=Job.Status.RUNNING, progress=0.42)

        fragment = alice_client.get(job.get_absolute_url(), headers=HTMX).content.decode()
        page = alice_client.get(job.get_absolute_url()).content.decode()

        assert "<title>42% · Semantic model" in fragment
        assert page.count("<title>") == 1 and "<title>42% · Semantic model" in page

    def test_the_message_before_the_first_progress_says_what_is_happening(self, alice_client, user):
        queued = make_job(user)
        started = make_job(user, status=Job.Status.RUNNING)

        assert (
            "Waiting for a worker" in alice_client.get(queued.get_absolute_url()).content.decode()
        )
        body = alice_client.get(started.get_absolute_url()).content.decode()
        assert "Starting…" in body and "Waiting for a worker" not in body

    def test_a_failed_job_shows_its_error(self, alice_client, user):
        job = make_job(user, status=Job.Status.FAILED, stage="profiling",
                       error="The table demo.gone no longer exists.")  # fmt: skip

        body = alice_client.get(job.get_absolute_url(), headers=HTMX).content.decode()

        assert 'role="alert"' in body
        assert "The table demo.gone no longer exists." in body
        assert 'class="stage failed" data-stage="profiling"' in body
        assert "hx-trigger" not in body

    def test_model_output_is_escaped(self, alice_client, user):
        job = make_job(
            user,
            status=Job.Status.FAILED,
            error='<script>alert("x")</script>',
            message="<img src=x onerror=alert(1)>",
        )

        body = alice_client.get(job.get_absolute_url()).content.decode()

        assert '<script>alert("x")</script>' not in body
        assert "&lt;script&gt;" in body

    def test_download_of_the_yaml(self, alice_client, user, demo_table):
        job = make_job(user, params=demo_table.as_params())
        running.run_queued_job(str(job.pk))
        job.refresh_from_db()

        response = alice_client.get(reverse("jobs:download", args=[job.pk, "yaml"]))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/yaml"
        assert 'filename="demo_loan_applications.yaml"' in response["Content-Disposition"]
        assert response.content.decode() == job.result["yaml"]

    @pytest.mark.parametrize(
        ("title", "expected"),
        [
            ("Which loans\r\ndefault?\n", 'filename="Which_loans_default.yaml"'),
            ('../../etc/"passwd"', 'filename="____etcpasswd.yaml"'),
            ("Été à Zürich", "filename*=utf-8''%C3%89t%C3%A9_%C3%A0_Z%C3%BCrich.yaml"),
            ("???", 'filename="semantic_model.yaml"'),
        ],
    )
    def test_a_download_is_named_safely_after_any_title(
        self, alice_client, user, demo_table, title, expected
    ):
        job = make_job(user, params=demo_table.as_params())
        running.run_queued_job(str(job.pk))
        Job.objects.filter(pk=job.pk).update(title=title)

        response = alice_client.get(reverse("jobs:download", args=[job.pk, "yaml"]))

        assert response.status_code == 200
        assert response["Content-Disposition"] == f"attachment; {expected}"

    def test_no_download_before_the_job_succeeds_or_in_an_unknown_format(self, alice_client, user):
        job = make_job(user)

        assert alice_client.get(reverse("jobs:download", args=[job.pk, "yaml"])).status_code == 404
        assert alice_client.get(reverse("jobs:download", args=[job.pk, "exe"])).status_code == 404


class TestJobList:
    def test_newest_first_with_live_updates_while_any_is_active(self, alice_client, user):
        older = make_job(user, status=Job.Status.SUCCEEDED, title="older")
        newer = make_job(user, status=Job.Status.RUNNING, title="newer")

        body = alice_client.get(reverse("jobs:list")).content.decode()

        assert body.index(str(newer.pk)) < body.index(str(older.pk))
        assert "hx-trigger" in body

    def test_no_polling_when_nothing_is_active(self, alice_client, user):
        make_job(user, status=Job.Status.SUCCEEDED)

        fragment = alice_client.get(reverse("jobs:list"), headers=HTMX).content.decode()

        assert fragment.lstrip().startswith('<div id="job-rows"')
        assert "hx-trigger" not in fragment

    def test_filters_by_status_and_kind(self, alice_client, user):
        done = make_job(user, status=Job.Status.SUCCEEDED)
        failed = make_job(user, status=Job.Status.FAILED)

        by_status = alice_client.get(reverse("jobs:list"), {"status": "failed"}).content.decode()
        by_kind = alice_client.get(
            reverse("jobs:list"), {"kind": "semantic_model"}
        ).content.decode()

        assert str(failed.pk) in by_status and str(done.pk) not in by_status
        assert str(failed.pk) in by_kind and str(done.pk) in by_kind

    def test_an_invalid_filter_shows_everything_instead_of_failing(self, alice_client, user):
        job = make_job(user)

        response = alice_client.get(reverse("jobs:list"), {"status": "exploded"})

        assert response.status_code == 200
        assert str(job.pk) in response.content.decode()

    def test_pages_of_25(self, alice_client, user, settings):
        settings.MAX_ACTIVE_JOBS_PER_USER = 30
        for _ in range(30):
            make_job(user)

        first = alice_client.get(reverse("jobs:list")).content.decode()
        second = alice_client.get(reverse("jobs:list"), {"page": 2}).content.decode()

        assert first.count("data-job=") == 25
        assert second.count("data-job=") == 5
        assert "Page 2 of 2" in second
