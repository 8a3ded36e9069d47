"""Semantic models of tables written the way real ones are (camelCase names, codes
under other names, rates, snapshots, coordinates, weather readings), checked for what
Cortex Analyst needs and a user keeps. The tables are generated, not hand-typed: the
rules under test must follow from names and statistics, not from these rows."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import yaml
from django.db import connection

from jobs.analysis.tables.warehouse import TableRef
from jobs.engine import running
from jobs.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db

# More countries than a "few distinct values" rule would call a category, each with a
# numeric code under a name that does not say so (ISO's numeric code is "ccn3" in some
# public datasets).
_codes = random.Random(3).sample(range(4, 900), 30)
COUNTRIES = [
    (f"Land {chr(65 + n // 2)}{'ab'[n % 2]}", ["Africa", "Americas", "Asia", "Europe"][n % 4],
     _codes[n])
    for n in range(30)
]  # fmt: skip
YEARS = list(range(1952, 2008, 5))


@pytest.fixture(scope="module")
def real_tables(django_db_setup, django_db_blocker):
    """A country-year table and a daily weather table in the test database."""
    rng = random.Random(7)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS demo")
        cursor.execute("DROP TABLE IF EXISTS demo.country_stats, demo.seattle_weather")
        cursor.execute(
            "CREATE TABLE demo.country_stats (country text, continent text, ccn3 integer,"
            ' year integer, "lifeExp" double precision, pop bigint, "gdpPercap" double precision,'
            " lat double precision, lon double precision)"
        )
        rows = []
        for name, continent, code in COUNTRIES:
            lat, lon = rng.uniform(-40, 60), rng.uniform(-120, 150)
            for year in YEARS:
                rows.append((name, continent, code, year, round(rng.uniform(35, 82), 3),
                             rng.randint(300_000, 900_000_000),
                             round(rng.uniform(240, 40_000), 6) + 0.1234567, lat, lon))  # fmt: skip
        cursor.executemany(
            "INSERT INTO demo.country_stats VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows
        )
        cursor.execute(
            "CREATE TABLE demo.seattle_weather (date date, precipitation double precision,"
            " temp_max double precision, temp_min double precision, wind double precision,"
            " weather text)"
        )
        day = date(2012, 1, 1)
        weather = []
        for _ in range(900):
            kind = rng.choices(["rain", "sun", "fog", "drizzle", "snow"], [45, 40, 7, 5, 3])[0]
            weather.append((day, round(rng.uniform(0, 30), 1) if kind != "sun" else 0.0,
                            round(rng.uniform(-2, 35), 1), round(rng.uniform(-8, 18), 1),
                            round(rng.uniform(0.4, 9.5), 1), kind))  # fmt: skip
            day += timedelta(days=1)
        cursor.executemany(
            "INSERT INTO demo.seattle_weather VALUES (%s, %s, %s, %s, %s, %s)", weather
        )
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS demo.country_stats, demo.seattle_weather")


def model_of(user, table: str) -> tuple[dict, Job]:
    job = make_job(user, params=TableRef("default", "demo", table).as_params())
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return yaml.safe_load(job.result["yaml"]), job


def by_name(table: dict) -> dict[str, tuple[str, dict]]:
    return {
        column["name"]: (role, column)
        for role in ("dimensions", "time_dimensions", "facts")
        for column in table.get(role, [])
    }


@pytest.fixture
def countries(real_tables, user):
    return model_of(user, "country_stats")


@pytest.fixture
def weather(real_tables, user):
    return model_of(user, "seattle_weather")


def test_queries_metrics_and_filters_use_logical_names(countries, weather):
    for model, _ in (countries, weather):
        table = model["tables"][0]
        for query in model["verified_queries"]:
            assert f"FROM __{table['name']}" in query["sql"], query["sql"]
            assert '"' not in query["sql"] and "demo." not in query["sql"], query["sql"]
        for item in table.get("metrics", []) + table.get("filters", []):
            assert '"' not in item["expr"] and "demo." not in item["expr"], item
    metrics = {m["name"]: m["expr"] for m in countries[0]["tables"][0]["metrics"]}
    assert metrics["average_life_exp"] == "AVG(life_exp)"


def test_a_sum_only_where_a_sum_means_something(countries, weather):
    countries_metrics = {m["name"] for m in countries[0]["tables"][0]["metrics"]}
    weather_metrics = {m["name"] for m in weather[0]["tables"][0]["metrics"]}

    # Life expectancy, GDP per capita, coordinates, temperatures, wind: levels.
    for name in ("life_exp", "gdp_percap", "lat", "lon"):
        assert f"total_{name}" not in countries_metrics and f"average_{name}" in countries_metrics
    for name in ("temp_max", "temp_min", "wind"):
        assert f"total_{name}" not in weather_metrics and f"average_{name}" in weather_metrics
    # Rainfall adds up; a population is not summed across years.
    assert "total_precipitation" in weather_metrics
    assert "total_pop" not in countries_metrics and "highest_pop" in countries_metrics


def test_a_renamed_code_is_a_dimension_by_its_values(countries):
    role, column = by_name(countries[0]["tables"][0])["ccn_3"]

    assert role == "dimensions"
    assert "code for each country" in column["description"]
    reasons = {c["name"]: c["reasons"] for c in countries[1].result["profile"][0]["columns"]}
    assert any("pair one to one with country" in reason for reason in reasons["ccn3"])


def test_descriptions_expand_names_and_synonyms_come_from_a_vocabulary(countries, weather):
    columns = by_name(countries[0]["tables"][0])
    weather_columns = by_name(weather[0]["tables"][0])

    assert columns["life_exp"][1]["description"].startswith("Life expectancy")
    assert columns["gdp_percap"][1]["description"].startswith(
        "GDP (gross domestic product) per capita, from "
    )
    assert "Averaged" in columns["life_exp"][1]["description"]
    assert "life expectancy" in columns["life_exp"][1]["synonyms"]
    assert "lifespan" in columns["life_exp"][1]["synonyms"]
    assert "rainfall" in weather_columns["precipitation"][1]["synonyms"]
    assert "nation" in columns["country"][1]["synonyms"]
    for _, column in [*columns.values(), *weather_columns.values()]:
        assert column["name"] not in column["synonyms"]


def test_sample_values_are_shown_as_stored(countries):
    samples = by_name(countries[0]["tables"][0])["gdp_percap"][1]["sample_values"]
    with connection.cursor() as cursor:
        cursor.execute('SELECT MIN("gdpPercap") FROM demo.country_stats')
        (smallest,) = cursor.fetchone()

    assert samples[0] == repr(smallest)
    assert any(len(value.split(".")[1]) > 6 for value in samples), samples


def test_questions_read_as_english(countries, weather):
    questions = [q["question"] for q in weather[0]["verified_queries"]]

    assert questions[0] == "How many rows of seattle weather are there?"
    onboarding = [q for q in weather[0]["verified_queries"] if q["use_as_onboarding_question"]]
    # One question shown first, and it asks about the weather, not how many rows there are.
    assert len(onboarding) == 1 and "GROUP BY" in onboarding[0]["sql"]
    assert countries[0]["verified_queries"][0]["question"] == "How many country stats are there?"


def test_filters_for_recent_periods_and_frequent_categories(countries, weather):
    weather_filters = {f["name"]: f["expr"] for f in weather[0]["tables"][0]["filters"]}
    country_filters = {f["name"]: f["expr"] for f in countries[0]["tables"][0]["filters"]}

    assert weather_filters["last_12_months_of_date"] == "date > '2013-06-18'"
    assert weather_filters["weather_rain"] == "weather = 'rain'"
    assert country_filters["latest_year"] == "year = 2007"


def test_every_metric_filter_and_query_runs_with_logical_names_resolved(countries, weather):
    for model, job in (countries, weather):
        checks = job.result["checks"]
        logical = [c for c in checks if c["sql"].startswith("WITH __")]
        assert len(logical) >= 8
        assert all(check["ok"] for check in checks), [c for c in checks if not c["ok"]]
        table = model["tables"][0]
        kept = len(table["metrics"]) + len(table["filters"]) + len(model["verified_queries"])
        assert len(logical) == kept


def test_every_expression_is_snowflake_sql(countries, weather):
    from jobs.analysis.tables import validating

    for model, job in (countries, weather):
        assert validating.model_problems(model) == []
        assert job.result["dropped"] == [], job.result["dropped"]
        trend = [q for q in model["verified_queries"] if "DATE_TRUNC('MONTH'" in q["sql"]]
        assert trend or model is countries[0]
