"""Turning profiled tables into a Cortex Analyst semantic model, and proving it works.

Everything here is a plain function of the profiles, so the same table gives the same
YAML on every run. Expressions are written in SQL that both the source database and
Snowflake accept where possible, and validation runs each one against the real data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.classification import DIMENSION, FACT, TIME_DIMENSION, Classification
from jobs.profiling import ColumnProfile, run_check
from jobs.warehouse import TableSchema, qualified_name

# Words that cannot be a semantic-model name (SQL reserved words in common dialects).
RESERVED = frozenset(
    """all alter and any as asc between by case cast check column constraint create cross
    current current_date current_time current_timestamp database default delete desc distinct
    drop else end exists false fetch for foreign from full grant group having in inner insert
    intersect into is join lateral left like limit natural not null of on or order outer
    primary qualify references revoke right row rows select set some start table then to
    trigger true union unique update using values when where with""".split()  # noqa: SIM905
)
ABBREVIATIONS = {
    "amt": "amount", "cd": "code", "dt": "date", "no": "number", "nbr": "number",
    "num": "number", "pct": "percent", "qty": "quantity", "yr": "year", "dti": "debt to income",
    "lei": "legal entity identifier", "id": "identifier", "fips": "FIPS", "avg": "average",
}  # fmt: skip
SAMPLE_VALUES_SHOWN = 5


def logical_name(name: str) -> str:
    cleaned = re.sub(r"[^0-9a-zA-Z_]+", "_", name).strip("_").lower() or "column"
    if cleaned[0].isdigit():
        cleaned = f"c_{cleaned}"
    if cleaned in RESERVED:
        cleaned = f"{cleaned}_value"
    return cleaned


def column_expr(connection: BaseDatabaseWrapper, name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in RESERVED:
        return name
    return connection.ops.quote_name(name)


def words(name: str) -> list[str]:
    return [word for word in re.split(r"[^0-9a-zA-Z]+", name.lower()) if word]


def humanize(name: str) -> str:
    return " ".join(words(name))


def synonyms_for(name: str) -> list[str]:
    parts = words(name)
    candidates = [" ".join(parts), " ".join(ABBREVIATIONS.get(part, part) for part in parts)]
    trailing = {"id", "code", "cd", "key", "no", "nbr", "num", "number", "1"}
    if len(parts) > 1 and parts[-1] in trailing:
        candidates.append(" ".join(parts[:-1]))
    seen, result = {name.lower()}, []
    for candidate in candidates:
        if candidate and candidate not in seen:
            seen.add(candidate)
            result.append(candidate)
    return result


def snowflake_type(profile: ColumnProfile, precision: int | None, scale: int | None) -> str:
    match profile.category:
        case "integer":
            return "NUMBER(38,0)"
        case "decimal":
            return f"NUMBER({precision},{scale or 0})" if precision else "NUMBER"
        case "float":
            return "FLOAT"
        case "date":
            return "DATE"
        case "timestamp":
            return (
                "TIMESTAMP_TZ"
                if "zone" in profile.source_type and "without" not in profile.source_type
                else "TIMESTAMP_NTZ"
            )
        case "boolean":
            return "BOOLEAN"
        case _:
            return "VARCHAR"


def date_expr(connection: BaseDatabaseWrapper, expr: str, layout: str, category: str) -> str:
    """A cast of date-like text (or an integer YYYYMMDD) to a date, in the source's SQL."""
    if connection.vendor == "sqlite":
        text = expr if category == "text" else f"CAST({expr} AS TEXT)"
        if layout == "YYYYMMDD":
            return (
                f"DATE(SUBSTR({text}, 1, 4) || '-' || SUBSTR({text}, 5, 2) || '-' || "
                f"SUBSTR({text}, 7, 2))"
            )
        return f"DATE(REPLACE({text}, '/', '-'))"
    text = expr if category == "text" else f"CAST({expr} AS VARCHAR)"
    return f"TO_DATE({text}, '{layout}')"


def month_expr(connection: BaseDatabaseWrapper, expr: str) -> str:
    if connection.vendor == "sqlite":
        return f"STRFTIME('%Y-%m', {expr})"
    return f"DATE_TRUNC('month', {expr})"


def describe(profile: ColumnProfile, classification: Classification) -> str:
    """A plain-language description built from the profile alone (no model needed)."""
    label = humanize(profile.name).capitalize()
    missing = f"; {profile.null_fraction:.1%} missing" if profile.nulls else ""
    if classification.role == TIME_DIMENSION:
        cast = (
            f", stored as {classification.date_format} text" if classification.date_format else ""
        )
        return f"{label}{cast}, from {profile.min} to {profile.max}{missing}."
    if classification.role == FACT:
        return f"{label}, a measure from {profile.min} to {profile.max}{missing}."
    if profile.primary_key or profile.unique:
        return f"{label}, unique for each row{missing}."
    if profile.foreign_key:
        return f"{label}, refers to {profile.foreign_key}{missing}."
    if classification.is_enum:
        values = ", ".join(profile.samples)
        return f"{label}, one of {profile.distinct} values ({values}){missing}."
    examples = ", ".join(profile.samples[:3])
    return f"{label}, {profile.distinct:,} distinct values such as {examples}{missing}."


@dataclass
class ProfiledTable:
    schema: TableSchema
    row_count: int
    profiles: list[ColumnProfile]
    classifications: dict[str, Classification]
    descriptions: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return logical_name(self.schema.ref.table)

    def columns_with_role(self, role: str) -> list[ColumnProfile]:
        return [p for p in self.profiles if self.classifications[p.name].role == role]


def describe_table(table: ProfiledTable) -> str:
    key = table.schema.primary_key
    per_row = f"; one row per {', '.join(key)}" if key else ""
    return (
        f"{humanize(table.schema.ref.table).capitalize()} from {table.schema.ref.label}: "
        f"{table.row_count:,} rows, {len(table.profiles)} columns{per_row}."
    )


def fill_descriptions(table: ProfiledTable) -> None:
    for profile in table.profiles:
        classification = table.classifications[profile.name]
        table.descriptions.setdefault(profile.name, describe(profile, classification))
        table.synonyms.setdefault(profile.name, synonyms_for(profile.name))
    table.descriptions.setdefault("", describe_table(table))
    table.synonyms.setdefault("", synonyms_for(table.schema.ref.table))


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


@dataclass
class Check:
    target: str
    sql: str
    ok: bool
    detail: str

    def to_dict(self) -> dict:
        return {"target": self.target, "sql": self.sql, "ok": self.ok, "detail": self.detail}


def checks_for(connection, model: dict, sources: dict[str, str]) -> list[tuple[str, str]]:
    """Every SQL statement that must run for the model to be usable, with what it proves."""
    checks = []
    for table in model["tables"]:
        source = sources[table["name"]]
        for key in ("dimensions", "time_dimensions", "facts"):
            for column in table.get(key, []):
                checks.append(
                    (
                        f"{table['name']}.{column['name']}",
                        f"SELECT COUNT({column['expr']}) FROM {source}",
                    )
                )
        for metric in table.get("metrics", []):
            checks.append(
                (f"{table['name']}.{metric['name']}", f"SELECT {metric['expr']} FROM {source}")
            )
        for item in table.get("filters", []):
            checks.append(
                (
                    f"{table['name']}.{item['name']}",
                    f"SELECT COUNT(*) FROM {source} WHERE {item['expr']}",
                )
            )
    for query in model.get("verified_queries", []):
        checks.append((f"verified query {query['name']}", query["sql"]))
    return checks


def validate_names(model: dict) -> list[Check]:
    problems = []
    for table in model["tables"]:
        seen: set[str] = set()
        for key in ("dimensions", "time_dimensions", "facts", "metrics", "filters"):
            for item in table.get(key, []):
                name = item["name"]
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.lower() in RESERVED:
                    problems.append(
                        Check(f"{table['name']}.{name}", "", False, "not a valid identifier")
                    )
                if name in seen:
                    problems.append(Check(f"{table['name']}.{name}", "", False, "name used twice"))
                seen.add(name)
    return problems


def run_statement(connection, target: str, sql: str) -> Check:
    try:
        # A savepoint, so one failing statement cannot poison an outer transaction.
        with transaction.atomic(using=connection.alias):
            rows = run_check(connection, sql)
    except Exception as exc:
        return Check(
            target, sql, False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        )
    return Check(target, sql, True, f"{len(rows)} row(s)")


def to_yaml(model: dict) -> str:
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True, width=100)


def drop_failed(model: dict, failed: set[str]) -> dict:
    """The model without the entries whose check failed: better absent than broken."""
    for table in model["tables"]:
        for key in ("dimensions", "time_dimensions", "facts", "metrics", "filters"):
            if key in table:
                kept = [
                    item for item in table[key] if f"{table['name']}.{item['name']}" not in failed
                ]
                if kept:
                    table[key] = kept
                else:
                    del table[key]
    if "verified_queries" in model:
        model["verified_queries"] = [
            query
            for query in model["verified_queries"]
            if f"verified query {query['name']}" not in failed
        ]
    return model


DESCRIBE_PROMPT = (
    "You document database tables for a semantic model. Answer with one JSON object only: "
    '{"table": {"description": str, "synonyms": [str]}, "columns": {"<column>": '
    '{"description": str, "synonyms": [str]}}}. Descriptions are one sentence, based only '
    "on the names, types, statistics and sample values given; at most 4 synonyms each."
)


def describe_request(table: ProfiledTable) -> list[dict]:
    lines = [f"Table {table.schema.ref.label}, {table.row_count:,} rows. Columns:"]
    for profile in table.profiles:
        role = table.classifications[profile.name].role
        lines.append(
            f"- {profile.name} ({profile.source_type}, {role}; {profile.distinct} distinct, "
            f"min {profile.min}, max {profile.max}, samples {', '.join(profile.samples[:5])})"
        )
    return [
        {"role": "system", "content": DESCRIBE_PROMPT},
        {"role": "user", "content": "\n".join(lines)},
    ]


def apply_model_descriptions(table: ProfiledTable, answer: str) -> list[str]:
    """Take the model's descriptions and synonyms where they are well formed.

    Returns the names it described. Anything malformed keeps the offline text, so a
    chatty or truncated answer never leaves a column undescribed.
    """
    start, end = answer.find("{"), answer.rfind("}")
    try:
        data = json.loads(answer[start : end + 1]) if start >= 0 < end else {}
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    described = []
    entries = {"": data.get("table")}
    if isinstance(data.get("columns"), dict):
        entries |= {p.name: data["columns"].get(p.name) for p in table.profiles}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        description = entry.get("description")
        if isinstance(description, str) and description.strip():
            table.descriptions[name] = " ".join(description.split())[:500]
            described.append(name or table.name)
        synonyms = entry.get("synonyms")
        if isinstance(synonyms, list):
            clean = [" ".join(s.split())[:60] for s in synonyms if isinstance(s, str) and s.strip()]
            if clean:
                table.synonyms[name] = list(dict.fromkeys(clean))[:4]
    return described
