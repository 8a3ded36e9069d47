"""Turning profiled tables into a Cortex Analyst semantic model: dimensions, facts,
metrics, filters, relationships and verified queries, then YAML.

Everything here is a plain function of the profiles, so the same table gives the same
YAML on every run. Expressions are written in SQL that both the source database and
Snowflake accept where possible; validating.py runs each one against the real data.
"""

from __future__ import annotations

import yaml
from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables.classification import DIMENSION, FACT, TIME_DIMENSION
from jobs.analysis.tables.describing import ProfiledTable
from jobs.analysis.tables.naming import (
    column_expr,
    date_expr,
    humanize,
    logical_name,
    month_expr,
    snowflake_type,
)
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.warehouse import qualified_name

SAMPLE_VALUES_SHOWN = 5


def _column_entry(connection, table: ProfiledTable, profile: ColumnProfile) -> dict:
    classification = table.classifications[profile.name]
    column = next(c for c in table.schema.columns if c.name == profile.name)
    expr = column_expr(connection, profile.name)
    data_type = snowflake_type(profile, column.precision, column.scale)
    if classification.date_format:
        expr = date_expr(connection, expr, classification.date_format, profile.category)
        data_type = "DATE"
    entry = {
        "name": logical_name(profile.name),
        "synonyms": table.synonyms.get(profile.name, []),
        "description": table.descriptions.get(profile.name, ""),
        "expr": expr,
        "data_type": data_type,
    }
    if profile.unique:
        entry["unique"] = True
    shown = profile.samples if classification.is_enum else profile.samples[:SAMPLE_VALUES_SHOWN]
    if shown:
        entry["sample_values"] = list(shown)
    if classification.role == DIMENSION and classification.is_enum:
        entry["is_enum"] = True
    return entry


def table_entry(connection: BaseDatabaseWrapper, table: ProfiledTable) -> dict:
    ref = table.schema.ref
    entry: dict = {
        "name": table.name,
        "synonyms": table.synonyms.get("", []),
        "description": table.descriptions.get("", ""),
        "base_table": {
            "database": str(connection.settings_dict["NAME"]).rsplit("/", 1)[-1],
            "schema": ref.schema,
            "table": ref.table,
        },
    }
    if table.schema.primary_key:
        entry["primary_key"] = {"columns": [logical_name(c) for c in table.schema.primary_key]}
    for role, key in (
        (DIMENSION, "dimensions"),
        (TIME_DIMENSION, "time_dimensions"),
        (FACT, "facts"),
    ):
        columns = table.columns_with_role(role)
        if columns:
            entry[key] = [_column_entry(connection, table, profile) for profile in columns]
    metrics = propose_metrics(connection, table)
    if metrics:
        entry["metrics"] = metrics
    filters = propose_filters(connection, table)
    if filters:
        entry["filters"] = filters
    return entry


def propose_metrics(connection, table: ProfiledTable) -> list[dict]:
    key = table.schema.primary_key
    count_target = column_expr(connection, key[0]) if len(key) == 1 else "*"
    metrics = [
        {
            "name": f"{table.name}_count",
            "synonyms": [f"number of {humanize(table.schema.ref.table)}"],
            "description": f"Number of rows in {table.schema.ref.label}.",
            "expr": f"COUNT({count_target})",
        }
    ]
    for profile in table.columns_with_role(FACT):
        expr = column_expr(connection, profile.name)
        label = humanize(profile.name)
        name = logical_name(profile.name)
        if table.classifications[profile.name].summable:
            metrics.append(
                {
                    "name": f"total_{name}",
                    "synonyms": [f"sum of {label}"],
                    "description": f"Sum of {label}.",
                    "expr": f"SUM({expr})",
                }
            )
        metrics.append(
            {
                "name": f"average_{name}",
                "synonyms": [f"mean {label}", f"avg {label}"],
                "description": f"Average {label} over rows where it is known.",
                "expr": f"AVG({expr})",
            }
        )
    return metrics


def propose_filters(connection, table: ProfiledTable) -> list[dict]:
    filters = []
    for profile in table.profiles:
        role = table.classifications[profile.name].role
        expr = column_expr(connection, profile.name)
        label = humanize(profile.name)
        if profile.category == "boolean":
            filters.append(
                {
                    "name": f"is_{logical_name(profile.name)}",
                    "synonyms": [label],
                    "description": f"Rows where {label} is true.",
                    "expr": f"{expr} = TRUE",
                }
            )
        elif role == FACT and 0.01 <= profile.null_fraction <= 0.5:
            filters.append(
                {
                    "name": f"has_{logical_name(profile.name)}",
                    "synonyms": [f"with {label}", f"{label} known"],
                    "description": (
                        f"Rows where {label} is recorded ({profile.null_fraction:.1%} are not)."
                    ),
                    "expr": f"{expr} IS NOT NULL",
                }
            )
    return filters


def propose_relationships(main: ProfiledTable, others: list[ProfiledTable]) -> list[dict]:
    relationships = []
    by_table = {(t.schema.ref.schema, t.schema.ref.table): t for t in others}
    for fk in main.schema.foreign_keys:
        target = by_table.get((fk.ref_schema, fk.ref_table))
        if target is None:
            continue
        relationships.append(
            {
                "name": f"{main.name}_to_{target.name}",
                "left_table": main.name,
                "right_table": target.name,
                "relationship_columns": [
                    {
                        "left_column": logical_name(fk.column),
                        "right_column": logical_name(fk.ref_column),
                    }
                ],
                "join_type": "left_outer",
                "relationship_type": "many_to_one",
            }
        )
    return relationships


def propose_verified_queries(connection, table: ProfiledTable) -> list[dict]:
    source = qualified_name(connection, table.schema.ref)
    noun = humanize(table.schema.ref.table)
    queries = [
        {
            "name": f"{table.name}_count",
            "question": f"How many {noun} are there?",
            "sql": f"SELECT COUNT(*) AS {table.name}_count FROM {source}",
        }
    ]
    facts = [p for p in table.columns_with_role(FACT) if table.classifications[p.name].summable]
    enums = [
        p
        for p in table.columns_with_role(DIMENSION)
        if table.classifications[p.name].is_enum and not p.foreign_key
    ]
    if facts and enums:
        fact, dim = facts[0], enums[0]
        f_expr, d_expr = column_expr(connection, fact.name), column_expr(connection, dim.name)
        total = f"total_{logical_name(fact.name)}"
        queries.append(
            {
                "name": f"{total}_by_{logical_name(dim.name)}",
                "question": f"What is the total {humanize(fact.name)} by {humanize(dim.name)}?",
                "sql": (
                    f"SELECT {d_expr}, SUM({f_expr}) AS {total} FROM {source} "
                    f"GROUP BY {d_expr} ORDER BY {total} DESC"
                ),
            }
        )
    times = table.columns_with_role(TIME_DIMENSION)
    if times:
        time = times[0]
        time_entry = _column_entry(connection, table, time)
        month = month_expr(connection, time_entry["expr"])
        queries.append(
            {
                "name": f"{table.name}_per_month_by_{logical_name(time.name)}",
                "question": f"How many {noun} were there each month, by {humanize(time.name)}?",
                "sql": (
                    f"SELECT {month} AS month, COUNT(*) AS {table.name}_count FROM {source} "
                    f"GROUP BY {month} ORDER BY month"
                ),
            }
        )
    for index, query in enumerate(queries):
        query["verified_by"] = "semantic-model job (checked by running it; review before use)"
        query["use_as_onboarding_question"] = index == 0
    return queries


def build_model(
    connection: BaseDatabaseWrapper, main: ProfiledTable, related: list[ProfiledTable]
) -> dict:
    model: dict = {
        "name": f"{main.name}_model",
        "description": (
            f"Semantic model of {main.schema.ref.label}"
            + (f" and {len(related)} related table(s)" if related else "")
            + ", generated from a profile of the data."
        ),
        "tables": [table_entry(connection, table) for table in [main, *related]],
    }
    relationships = propose_relationships(main, related)
    if relationships:
        model["relationships"] = relationships
    model["verified_queries"] = propose_verified_queries(connection, main)
    return model


def to_yaml(model: dict) -> str:
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True, width=100)
