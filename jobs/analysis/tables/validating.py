"""Proving a semantic model works: every name valid, every expression Snowflake SQL
with only Snowflake's functions (what Cortex Analyst runs), and run on the data, read
back by sqlglot as the source's SQL. What fails is left out, with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jobs.analysis.tables import expressions
from jobs.analysis.tables.naming import RESERVED
from jobs.analysis.tables.profiling import run_check
from jobs.analysis.tables.warehouse import savepoint


@dataclass
class Check:
    target: str
    sql: str
    ok: bool
    detail: str

    def to_dict(self) -> dict:
        return {"target": self.target, "sql": self.sql, "ok": self.ok, "detail": self.detail}


COLUMN_KEYS = ("dimensions", "time_dimensions", "facts")


def column_checks(model: dict, sources: dict[str, str]) -> list[tuple[str, str]]:
    """Each column's expression, run on its physical table, with what it proves."""
    checks = []
    for table in model["tables"]:
        for key in COLUMN_KEYS:
            for column in table.get(key, []):
                checks.append(
                    (
                        f"{table['name']}.{column['name']}",
                        f"SELECT COUNT({column['expr']}) FROM {sources[table['name']]}",
                    )
                )
    return checks


def logical_tables(model: dict, sources: dict[str, str], failed: set[str]) -> str:
    """The model's logical tables as common table expressions: `__name`, with each
    column that passed its check under its logical name. Run before a metric, a filter
    or a verified query, they resolve its logical names the way Cortex Analyst does."""
    parts = []
    for table in model["tables"]:
        columns = [
            f"{column['expr']} AS {column['name']}"
            for key in COLUMN_KEYS
            for column in table.get(key, [])
            if f"{table['name']}.{column['name']}" not in failed
        ]
        parts.append(
            f"__{table['name']} AS (SELECT {', '.join(columns) or '1 AS one'} "
            f"FROM {sources[table['name']]})"
        )
    return "WITH " + ", ".join(parts)


def logical_checks(model: dict, sources: dict[str, str], failed: set[str]) -> list[tuple[str, str]]:
    """Every metric, filter, relationship and verified query, in the model's logical
    names, run against the logical tables, with what each proves."""
    with_tables = logical_tables(model, sources, failed)
    checks = []
    for table in model["tables"]:
        logical = f"__{table['name']}"
        for metric in table.get("metrics", []):
            checks.append(
                (
                    f"{table['name']}.{metric['name']}",
                    f"{with_tables} SELECT {metric['expr']} FROM {logical}",
                )
            )
        for item in table.get("filters", []):
            checks.append(
                (
                    f"{table['name']}.{item['name']}",
                    f"{with_tables} SELECT COUNT(*) FROM {logical} WHERE {item['expr']}",
                )
            )
    for relationship in model.get("relationships", []):
        on = " AND ".join(
            f"l.{pair['left_column']} = r.{pair['right_column']}"
            for pair in relationship["relationship_columns"]
        )
        checks.append(
            (
                f"relationship {relationship['name']}",
                f"{with_tables} SELECT COUNT(*) FROM __{relationship['left_table']} AS l "
                f"LEFT OUTER JOIN __{relationship['right_table']} AS r ON {on}",
            )
        )
    for query in model.get("verified_queries", []):
        checks.append((f"verified query {query['name']}", f"{with_tables} {query['sql']}"))
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
    """A statement in Snowflake's SQL: checked as Snowflake SQL, then run on the source
    in its own SQL."""
    problems = expressions.snowflake_problems(sql)
    if problems:
        return Check(target, sql, False, f"not Snowflake SQL: {'; '.join(problems)}")
    try:
        source_sql = expressions.render(sql, connection.vendor)
    except expressions.Unrenderable as exc:
        return Check(target, sql, False, f"the source cannot run it: {exc}")
    try:
        # A savepoint, so one failing statement cannot poison an outer transaction.
        with savepoint(connection):
            rows = run_check(connection, source_sql)
    except Exception as exc:
        return Check(
            target, sql, False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        )
    return Check(target, sql, True, f"{len(rows)} row(s)")


def model_problems(model: dict) -> list[tuple[str, str]]:
    """What Cortex Analyst would refuse in a model, as (target, reason): an expression
    that is not Snowflake SQL, a relationship whose right side is not its table's
    primary key, or a table joined to itself. An empty list for a model it loads."""
    found = []
    keys = {
        table["name"]: table.get("primary_key", {}).get("columns", []) for table in model["tables"]
    }
    for table in model["tables"]:
        for key in (*COLUMN_KEYS, "metrics", "filters"):
            for item in table.get(key, []):
                statement = (
                    f"SELECT COUNT(*) FROM t WHERE {item['expr']}"
                    if key == "filters"
                    else f"SELECT {item['expr']} FROM t"
                )
                for problem in expressions.snowflake_problems(statement):
                    found.append((f"{table['name']}.{item['name']}", problem))
    for relationship in model.get("relationships", []):
        right = [pair["right_column"] for pair in relationship["relationship_columns"]]
        if relationship["left_table"] == relationship["right_table"]:
            found.append((relationship["name"], "a table joined to itself"))
        elif right != keys.get(relationship["right_table"]):
            found.append((relationship["name"], "the right side is not its primary key"))
    for query in model.get("verified_queries", []):
        for problem in expressions.snowflake_problems(query["sql"]):
            found.append((query["name"], problem))
    return found


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
    if "relationships" in model:
        model["relationships"] = [
            relationship
            for relationship in model["relationships"]
            if f"relationship {relationship['name']}" not in failed
        ]
        if not model["relationships"]:
            del model["relationships"]
    if "verified_queries" in model:
        model["verified_queries"] = [
            query
            for query in model["verified_queries"]
            if f"verified query {query['name']}" not in failed
        ]
    return model
