"""Names and SQL expressions in a semantic model: logical names, quoting, types, dates."""

from __future__ import annotations

import re

from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables.profiling import ColumnProfile

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
