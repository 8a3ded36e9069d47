"""Turning profiled tables into a Cortex Analyst semantic model: dimensions, facts,
metrics, filters, relationships and verified queries, then YAML.

Everything here is a plain function of the profiles, so the same table gives the same
YAML on every run. Expressions are written in SQL that both the source database and
Snowflake accept where possible; validating.py runs each one against the real data.
"""

from __future__ import annotations

from datetime import date

import yaml
from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables.classification import (
    DIMENSION,
    FACT,
    SNAPSHOT,
    SUM,
    TIME_DIMENSION,
    YEAR,
)
from jobs.analysis.tables.describing import ProfiledTable
from jobs.analysis.tables.naming import (
    column_expr,
    date_expr,
    humanize,
    logical_name,
    month_expr,
    singular,
    snowflake_type,
)
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.relating import Relationship

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


def table_entry(
    connection: BaseDatabaseWrapper, table: ProfiledTable, inferred_key: str | None = None
) -> dict:
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
    key = table.schema.primary_key or ([inferred_key] if inferred_key else [])
    if key:
        entry["primary_key"] = {"columns": [logical_name(c) for c in key]}
    for role, key in (
        (DIMENSION, "dimensions"),
        (TIME_DIMENSION, "time_dimensions"),
        (FACT, "facts"),
    ):
        columns = table.columns_with_role(role)
        if columns:
            entry[key] = [_column_entry(connection, table, profile) for profile in columns]
    metrics = propose_metrics(table)
    if metrics:
        entry["metrics"] = metrics
    filters = propose_filters(table)
    if filters:
        entry["filters"] = filters
    return entry


def logical_table(table: ProfiledTable) -> str:
    """How verified queries name a table: its logical name after two underscores."""
    return f"__{table.name}"


def count_question(table: ProfiledTable) -> str:
    """ "How many loan applications are there?", or, for a table named by what it is
    about rather than what its rows are ("seattle weather"), "How many rows of seattle
    weather are there?"."""
    noun = humanize(table.schema.ref.table)
    last = noun.split()[-1] if noun else ""
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    return f"How many {noun} are there?" if plural else f"How many rows of {noun} are there?"


def has_time(table: ProfiledTable) -> bool:
    years = [p for p in table.columns_with_role(DIMENSION) if YEAR.search(logical_name(p.name))]
    return bool(table.columns_with_role(TIME_DIMENSION) or years)


def propose_metrics(table: ProfiledTable) -> list[dict]:
    """A count, then for each fact what adds up: SUM for amounts and counts, AVG (and
    MIN, MAX) for levels, rates and coordinates, AVG and MAX for a snapshot in a table
    over time (summing it across time means nothing). In logical names."""
    key = table.schema.primary_key
    count_target = logical_name(key[0]) if len(key) == 1 else "*"
    metrics = [
        {
            "name": f"{table.name}_count",
            "synonyms": [f"number of {humanize(table.schema.ref.table)}", "row count"],
            "description": f"Number of rows in {table.schema.ref.label}.",
            "expr": f"COUNT({count_target})",
        }
    ]
    over_time = has_time(table)
    for profile in table.columns_with_role(FACT):
        name, label = logical_name(profile.name), humanize(profile.name)
        aggregation = table.classifications[profile.name].aggregation
        proposed = [("average", "AVG", f"Average {label} over rows where it is known.")]
        if aggregation == SUM:
            proposed.insert(0, ("total", "SUM", f"Sum of {label}."))
        elif aggregation == SNAPSHOT and not over_time:
            proposed.insert(0, ("total", "SUM", f"Sum of {label} across rows."))
        elif aggregation == SNAPSHOT:
            proposed.append(("highest", "MAX", f"Highest {label}; sum it only within one period."))
        else:
            proposed += [
                ("lowest", "MIN", f"Lowest {label}."),
                ("highest", "MAX", f"Highest {label}."),
            ]
        synonyms = {"total": "sum of", "average": "mean", "lowest": "minimum", "highest": "maximum"}
        for prefix, function, description in proposed:
            metrics.append(
                {
                    "name": f"{prefix}_{name}",
                    "synonyms": [f"{synonyms[prefix]} {label}", f"{prefix} {label}"],
                    "description": description,
                    "expr": f"{function}({name})",
                }
            )
    return metrics


def propose_filters(table: ProfiledTable) -> list[dict]:
    """Useful subsets, in logical names: true flags, known values of a fact often
    missing, the most recent year (or 12 months) in the data, the most frequent
    category."""
    filters = []
    for profile in table.profiles:
        classification = table.classifications[profile.name]
        name, label = logical_name(profile.name), humanize(profile.name)
        if profile.category == "boolean":
            filters.append(
                {
                    "name": f"is_{name}",
                    "synonyms": [label],
                    "description": f"Rows where {label} is true.",
                    "expr": f"{name} = TRUE",
                }
            )
        elif classification.role == FACT and 0.01 <= profile.null_fraction <= 0.5:
            filters.append(
                {
                    "name": f"has_{name}",
                    "synonyms": [f"with {label}", f"{label} known"],
                    "description": (
                        f"Rows where {label} is recorded ({profile.null_fraction:.1%} are not)."
                    ),
                    "expr": f"{name} IS NOT NULL",
                }
            )
    filters += _recent_filters(table) + _frequent_filters(table)
    return filters


def _recent_filters(table: ProfiledTable) -> list[dict]:
    for profile in table.columns_with_role(TIME_DIMENSION):
        latest = _as_date(profile.max)
        if latest is None or _as_date(profile.min) == latest:
            continue
        since = (
            latest.replace(year=latest.year - 1)
            if (latest.month, latest.day) != (2, 29)
            else (latest.replace(year=latest.year - 1, day=28))
        )
        name, label = logical_name(profile.name), humanize(profile.name)
        return [
            {
                "name": f"last_12_months_of_{name}",
                "synonyms": ["recent", "last year", "past 12 months"],
                "description": (
                    f"Rows whose {label} is in the last 12 months of the data "
                    f"(after {since.isoformat()}, the latest being {latest.isoformat()})."
                ),
                "expr": f"{name} > '{since.isoformat()}'",
            }
        ]
    for profile in table.columns_with_role(DIMENSION):
        name = logical_name(profile.name)
        if YEAR.search(name) and profile.max and profile.min != profile.max:
            latest = int(float(profile.max))
            return [
                {
                    "name": f"latest_{name}",
                    "synonyms": ["most recent year", "latest"],
                    "description": f"Rows of the latest {humanize(profile.name)} in the data.",
                    "expr": f"{name} = {latest}",
                }
            ]
    return []


def _frequent_filters(table: ProfiledTable) -> list[dict]:
    """The most frequent value of the first category whose top value is a real share of
    the rows (a tenth at least), as a subset people ask about."""
    for profile in table.columns_with_role(DIMENSION):
        classification = table.classifications[profile.name]
        if profile.category != "text" or not classification.is_enum or not profile.sample_counts:
            continue
        top, count = profile.samples[0], profile.sample_counts[0]
        if count < profile.row_count / 10 or "'" in top:
            continue
        name, label = logical_name(profile.name), humanize(profile.name)
        return [
            {
                "name": f"{name}_{logical_name(top)}",
                "synonyms": [top.lower(), f"{label} {top}".lower()],
                "description": (
                    f"Rows whose {label} is {top}, the most frequent "
                    f"({count / profile.row_count:.0%})."
                ),
                "expr": f"{name} = '{top}'",
            }
        ]
    return []


def _as_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def propose_relationships(tables: list[ProfiledTable], found: list[Relationship]) -> list[dict]:
    """Each relationship in logical names: many rows of the left table to one of the
    right (or one to one where the left column is unique too)."""
    names = {table.schema.ref.key: table.name for table in tables}
    entries, taken = [], set()
    for relationship in found:
        left, right = names[relationship.left], names[relationship.right]
        name = f"{left}_to_{right}"
        if name in taken:
            name = f"{left}_{logical_name(relationship.left_column)}_to_{right}"
        taken.add(name)
        entries.append(
            {
                "name": name,
                "left_table": left,
                "right_table": right,
                "relationship_columns": [
                    {
                        "left_column": logical_name(relationship.left_column),
                        "right_column": logical_name(relationship.right_column),
                    }
                ],
                "join_type": "left_outer",
                "relationship_type": "one_to_one" if relationship.one_to_one else "many_to_one",
            }
        )
    return entries


def propose_join_queries(tables: list[ProfiledTable], relationships: list[dict]) -> list[dict]:
    """For the first relationship that allows it, a question across it: the left table's
    measure (or its row count) by a category of the right table."""
    by_name = {table.name: table for table in tables}
    for relationship in relationships:
        left, right = by_name[relationship["left_table"]], by_name[relationship["right_table"]]
        columns = relationship["relationship_columns"][0]
        categories = [
            p
            for p in right.columns_with_role(DIMENSION)
            if right.classifications[p.name].is_enum
            and logical_name(p.name) != columns["right_column"]
        ]
        if not categories:
            continue
        dim = categories[0]
        dim_name = logical_name(dim.name)
        facts = [p for p in left.columns_with_role(FACT) if left.classifications[p.name].summable]
        if facts:
            measure = f"total_{logical_name(facts[0].name)}"
            aggregate = f"SUM(l.{logical_name(facts[0].name)})"
            asked = f"What is the total {humanize(facts[0].name)}"
        else:
            measure, aggregate = f"{left.name}_count", "COUNT(*)"
            asked = f"How many {humanize(left.schema.ref.table)} are there"
        label = f"{humanize(singular(right.name))} {humanize(dim.name)}"
        return [
            {
                "name": f"{measure}_by_{right.name}_{dim_name}",
                "question": f"{asked} by {label}?",
                "sql": (
                    f"SELECT r.{dim_name}, {aggregate} AS {measure} "
                    f"FROM {logical_table(left)} AS l LEFT OUTER JOIN {logical_table(right)} AS r "
                    f"ON l.{columns['left_column']} = r.{columns['right_column']} "
                    f"GROUP BY r.{dim_name} ORDER BY {measure} DESC"
                ),
            }
        ]
    return []


def propose_verified_queries(connection, table: ProfiledTable) -> list[dict]:
    """Questions the model answers, with SQL in its logical names (Cortex Analyst reads
    `FROM __table` and logical columns, never physical ones); each is checked by running
    it with the logical names resolved (validating.py)."""
    source = logical_table(table)
    count = f"{table.name}_count"
    queries = [
        {
            "name": count,
            "question": count_question(table),
            "sql": f"SELECT COUNT(*) AS {count} FROM {source}",
        }
    ]
    facts = [p for p in table.columns_with_role(FACT) if table.classifications[p.name].summable]
    averaged = [p for p in table.columns_with_role(FACT) if p not in facts]
    enums = [
        p
        for p in table.columns_with_role(DIMENSION)
        if table.classifications[p.name].is_enum and not p.foreign_key
    ]
    if (facts or averaged) and enums:
        fact, dim = (facts or averaged)[0], enums[0]
        fact_name, dim_name = logical_name(fact.name), logical_name(dim.name)
        prefix, function = ("total", "SUM") if facts else ("average", "AVG")
        measure = f"{prefix}_{fact_name}"
        queries.append(
            {
                "name": f"{measure}_by_{dim_name}",
                "question": f"What is the {prefix} {humanize(fact.name)} by {humanize(dim.name)}?",
                "sql": (
                    f"SELECT {dim_name}, {function}({fact_name}) AS {measure} FROM {source} "
                    f"GROUP BY {dim_name} ORDER BY {measure} DESC"
                ),
            }
        )
    times = table.columns_with_role(TIME_DIMENSION)
    if times:
        time_name = logical_name(times[0].name)
        month = month_expr(connection, time_name)
        queries.append(
            {
                "name": f"{table.name}_per_month_by_{time_name}",
                "question": (
                    f"How many rows of {humanize(table.schema.ref.table)} were there each "
                    f"month, by {humanize(times[0].name)}?"
                ),
                "sql": (
                    f"SELECT {month} AS month, COUNT(*) AS {count} FROM {source} "
                    f"GROUP BY {month} ORDER BY month"
                ),
            }
        )
    return queries


def build_model(
    connection: BaseDatabaseWrapper,
    tables: list[ProfiledTable],
    found: list[Relationship],
    chosen: int = 1,
) -> dict:
    """The model of the chosen tables (the first `chosen` of `tables`) and the tables
    their foreign keys reach, joined by the relationships found."""
    picked, related = tables[:chosen], tables[chosen:]
    labels = [t.schema.ref.label for t in picked]
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    reached = (
        f" and {len(related)} related table{'s' if len(related) > 1 else ''}" if related else ""
    )
    # A key a relationship joins on, where the database declares none.
    keys = {
        relationship.right: relationship.right_column
        for relationship in found
        if not any(t.schema.primary_key for t in tables if t.schema.ref.key == relationship.right)
    }
    name = picked[0].name if len(picked) == 1 else "_".join(t.name for t in picked[:3])
    model: dict = {
        "name": f"{name}_model",
        "description": (
            f"Semantic model of {listed}{reached}, generated from a profile of the data."
        ),
        "tables": [
            table_entry(connection, table, keys.get(table.schema.ref.key)) for table in tables
        ],
    }
    relationships = propose_relationships(tables, found)
    if relationships:
        model["relationships"] = relationships
    queries = [query for table in picked for query in propose_verified_queries(connection, table)]
    queries += propose_join_queries(tables, relationships)
    for index, query in enumerate(queries):
        query["verified_by"] = "semantic-model job (checked by running it; review before use)"
        query["use_as_onboarding_question"] = index == 0
    model["verified_queries"] = queries
    return model


def to_yaml(model: dict) -> str:
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True, width=100)
