from __future__ import annotations

import json

import pytest
import yaml
from django.http import QueryDict

from jobs.analysis.tables import warehouse
from jobs.engine import running
from jobs.engine.context import JobContext
from jobs.engine.registry import get_kind
from jobs.kinds.semantic_model import SemanticModelForm
from jobs.models import Job
from tests.factories import make_job
from tests.fake_openai import fake_openai  # noqa: F401

pytestmark = pytest.mark.django_db


def run(job: Job) -> Job:
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def columns_by_name(table: dict) -> dict[str, tuple[str, dict]]:
    found = {}
    for role in ("dimensions", "time_dimensions", "facts"):
        for column in table.get(role, []):
            found[column["name"]] = (role, column)
    return found


@pytest.fixture
def model_job(demo_table, user):
    return run(make_job(user, params=demo_table.as_params()))


def test_columns_are_classified_by_meaning_not_type_alone(model_job):
    model = yaml.safe_load(model_job.result["yaml"])
    loans = model["tables"][0]
    columns = columns_by_name(loans)

    assert columns["loan_amount"][0] == "facts"
    assert columns["income"][0] == "facts"
    # Numbers that are identifiers, codes, years or few-valued categories are dimensions.
    for name in ("application_id", "lender_id", "loan_type", "action_taken", "activity_year"):
        assert columns[name][0] == "dimensions", name
    assert columns["loan_term"][0] == "dimensions"
    assert columns["application_date"][0] == "time_dimensions"
    # YYYYMMDD text becomes a time dimension with a cast.
    role, action_date = columns["action_taken_date"]
    assert role == "time_dimensions"
    assert action_date["expr"] == "TO_DATE(action_taken_date, 'YYYYMMDD')"
    assert action_date["data_type"] == "DATE"


def test_unique_enum_and_samples(model_job):
    columns = columns_by_name(yaml.safe_load(model_job.result["yaml"])["tables"][0])

    assert columns["application_id"][1]["unique"] is True
    assert columns["application_id"][1]["sample_values"] == ["1", "2", "3", "4", "5"]
    loan_type = columns["loan_type"][1]
    assert loan_type["is_enum"] is True
    assert sorted(loan_type["sample_values"]) == ["1", "2", "3", "4"]
    assert "is_enum" not in columns["county_code"][1]
    assert "unique" not in columns["loan_type"][1]


def test_metrics_filters_relationships_and_verified_queries(model_job):
    model = yaml.safe_load(model_job.result["yaml"])
    loans, lenders = model["tables"]
    metrics = {metric["name"]: metric["expr"] for metric in loans["metrics"]}

    assert metrics["total_loan_amount"] == "SUM(loan_amount)"
    assert metrics["average_interest_rate"] == "AVG(interest_rate)"
    # Summing a rate means nothing, so it is only averaged.
    assert "total_interest_rate" not in metrics
    assert metrics["loan_applications_count"] == "COUNT(application_id)"
    assert {f["name"] for f in loans["filters"]} >= {"has_income", "has_interest_rate"}
    assert lenders["base_table"] == {
        "database": lenders["base_table"]["database"],
        "schema": "demo",
        "table": "lenders",
    }
    assert model["relationships"] == [
        {
            "name": "loan_applications_to_lenders",
            "left_table": "loan_applications",
            "right_table": "lenders",
            "relationship_columns": [{"left_column": "lender_id", "right_column": "lender_id"}],
            "join_type": "left_outer",
            "relationship_type": "many_to_one",
        }
    ]
    questions = [query["question"] for query in model["verified_queries"]]
    assert "How many loan applications are there?" in questions
    assert all(query["sql"].startswith("SELECT") for query in model["verified_queries"])


def test_every_expression_was_checked_against_the_data(model_job):
    checks = model_job.result["checks"]

    assert len(checks) > 30
    assert all(check["ok"] for check in checks), [c for c in checks if not c["ok"]]
    assert model_job.result["summary"]["checks_failed"] == 0


def test_the_profile_explains_each_column(model_job):
    loans = model_job.result["profile"][0]
    by_name = {column["name"]: column for column in loans["columns"]}

    assert loans["row_count"] == 3_000
    assert by_name["application_id"]["distinct"] == 3_000
    assert by_name["income"]["nulls"] > 0
    assert by_name["loan_type"]["min"] == "1" and by_name["loan_type"]["max"] == "4"
    assert any("identifier or a code" in reason for reason in by_name["loan_type"]["reasons"])
    assert any("YYYYMMDD" in reason for reason in by_name["action_taken_date"]["reasons"])


def test_the_same_table_gives_the_same_yaml(model_job, user, demo_table):
    again = run(make_job(user, params=demo_table.as_params()))

    assert again.result["yaml"] == model_job.result["yaml"]
    assert again.result["profile"] == model_job.result["profile"]


def test_required_fields_are_present(model_job):
    model = yaml.safe_load(model_job.result["yaml"])

    assert model["name"] and model["tables"]
    for table in model["tables"]:
        assert set(table["base_table"]) == {"database", "schema", "table"}
        for role in ("dimensions", "time_dimensions", "facts"):
            for column in table.get(role, []):
                assert column["expr"] and column["data_type"] and column["description"]


def test_progress_is_reported_column_by_column(demo_table, user):
    job = running.claim(str(make_job(user, params=demo_table.as_params()).pk))
    kind = get_kind("semantic_model")
    context = JobContext(job, kind, write_interval=0)

    kind.run(context, job.params)

    columns = len(warehouse.describe_table(demo_table).columns)
    # Eight stage entries plus, at least, a write per column profiled and sampled.
    assert context.writes >= 8 + 2 * columns


class TestTableChoice:
    def test_the_apps_own_tables_are_never_offered(self, demo_table):
        keys = {ref.key for ref in warehouse.list_all_tables()}

        assert demo_table.key in keys
        assert "default:demo.lenders" in keys
        assert not any(key.endswith((".auth_user", ".jobs_job", ".django_session")) for key in keys)
        assert not any(".django_q_" in key for key in keys)

    def test_the_form_rejects_a_table_it_did_not_offer(self, demo_table):
        form = SemanticModelForm({"table": "default:public.auth_user"})

        assert not form.is_valid()
        assert "table" in form.errors

    def test_the_form_turns_a_choice_into_params(self, demo_table):
        form = SemanticModelForm(QueryDict(f"tables={demo_table.key}&tables=default:demo.lenders"))

        assert form.is_valid(), form.errors
        assert form.to_params() == {"tables": [demo_table.key, "default:demo.lenders"]}

    def test_the_older_single_table_spelling_gives_the_same_params(self, demo_table):
        form = SemanticModelForm({"table": demo_table.key})

        assert form.is_valid(), form.errors
        assert form.to_params() == {"tables": [demo_table.key]}

    @pytest.mark.parametrize(
        ("keys", "message"),
        [
            ([], "Choose at least one table."),
            (["default:demo.lenders"] * 2 + ["c999:main.orders"], "from one database"),
            ([f"default:demo.t{n}" for n in range(21)], "at most 20 tables"),
            (["default:demo.lenders", "default:demo.nope"], "default:demo.nope is not one of"),
        ],
    )
    def test_the_form_says_what_is_wrong_with_a_choice(self, demo_table, keys, message):
        data = QueryDict(mutable=True)
        data.setlist("tables", keys)
        form = SemanticModelForm(data)

        assert not form.is_valid()
        assert message in " ".join(form.errors["tables"])

    def test_a_table_dropped_after_submitting_fails_clearly(self, user):
        job = make_job(user, params={"database": "default", "schema": "demo", "table": "gone"})

        running.run_queued_job(str(job.pk))

        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.error == "The table demo.gone no longer exists or may not be profiled."


class TestWithTheProvider:
    def test_descriptions_and_synonyms_come_from_the_model(self, demo_table, user, fake_openai):  # noqa: F811
        fake_openai.script.answer = json.dumps(
            {
                "table": {
                    "description": "One row per mortgage application.",
                    "synonyms": ["mortgages"],
                },
                "columns": {
                    "loan_amount": {
                        "description": "Amount <b>requested</b>.",
                        "synonyms": ["principal"],
                    },
                    "no_such_column": {"description": "ignored"},
                },
            }
        )

        job = run(make_job(user, params=demo_table.as_params()))

        loans = yaml.safe_load(job.result["yaml"])["tables"][0]
        assert loans["description"] == "One row per mortgage application."
        assert loans["synonyms"] == ["mortgages"]
        amount = columns_by_name(loans)["loan_amount"][1]
        assert (amount["description"], amount["synonyms"]) == (
            "Amount <b>requested</b>.",
            ["principal"],
        )
        # Columns the model left out keep their offline descriptions.
        assert columns_by_name(loans)["loan_type"][1]["description"].startswith(
            "Loan type, one of 4"
        )
        assert job.result["descriptions"]["engine"] == "AI model fake-model"
        assert "loan_amount" in job.result["descriptions"]["described_by_model"]
        prompt = fake_openai.script.requests[0]["body"]["messages"][1]["content"]
        assert "loan_amount (numeric, fact" in prompt

    def test_an_answer_that_is_not_json_keeps_the_offline_descriptions(
        self,
        demo_table,
        user,
        fake_openai,  # noqa: F811
    ):
        fake_openai.script.answer = "Sorry, I cannot help with that."

        job = run(make_job(user, params=demo_table.as_params()))

        loans = yaml.safe_load(job.result["yaml"])["tables"][0]
        assert loans["description"].startswith("Loan applications from demo.loan_applications")
        assert job.result["descriptions"]["described_by_model"] == []

    def test_model_text_is_escaped_on_the_page(self, alice_client, demo_table, user, fake_openai):  # noqa: F811
        fake_openai.script.answer = json.dumps(
            {"table": {"description": "<script>alert(1)</script>", "synonyms": []}}
        )
        job = run(make_job(user, params=demo_table.as_params()))

        page = alice_client.get(job.get_absolute_url()).content.decode()

        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
