"""Proving a semantic model works: every name valid, every expression run on the data."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from jobs.analysis.tables.naming import RESERVED
from jobs.analysis.tables.profiling import run_check


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
