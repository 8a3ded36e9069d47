"""The SQL of a semantic model: written once, in Snowflake's SQL (what Cortex Analyst
runs), and read back by sqlglot as the source database's SQL to run it there.

Every expression the model holds (a column's `expr`, a metric, a filter, a verified
query) is built here in Snowflake's form. `snowflake_problems` says why one would not
run on Snowflake (it does not parse, or calls a function Snowflake does not have);
`render` turns one into the SQL of the database the data is in, or raises Unrenderable
with the reason. Where sqlglot's SQLite and MySQL output has no equivalent of a function
the model uses (a month's first day, a date read from text), the two small dialects
below say how those databases write it.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import ErrorLevel, exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, SqlglotError, UnsupportedError

from jobs.analysis.tables.naming import RESERVED

SNOWFLAKE = "snowflake"


class Unrenderable(ValueError):
    """An expression that cannot be written in a database's SQL; the message says why."""


def quoted(name: str) -> str:
    """A physical name as Snowflake (and the ANSI SQL the sources read) quotes it."""
    return '"' + name.replace('"', '""') + '"'


def table(schema: str | None, name: str) -> str:
    """A physical table, in its schema where the source has schemas."""
    return f"{quoted(schema)}.{quoted(name)}" if schema else quoted(name)


def column(name: str) -> str:
    """A physical column as an expression: bare when Snowflake reads it unchanged as
    written (lower case, not reserved), quoted otherwise."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in RESERVED:
        return name
    return quoted(name)


def month(expr: str) -> str:
    return f"DATE_TRUNC('MONTH', {expr})"


# Date layouts the profile recognises in text, as Snowflake's TO_DATE spells them.
def to_date(expr: str, layout: str, category: str) -> str:
    """Date-like text (or a YYYYMMDD whole number) read as a date."""
    text = expr if category == "text" else f"CAST({expr} AS VARCHAR)"
    return f"TO_DATE({text}, '{layout}')"


def _sqlite_date(self, expression: exp.Expression) -> str:
    text = self.sql(expression, "this")
    layout = expression.text("format")
    if layout in ("", "%Y-%m-%d"):
        return f"DATE({text})"
    if layout == "%Y/%m/%d":
        return f"DATE(REPLACE({text}, '/', '-'))"
    if layout == "%Y%m%d":
        return (
            f"DATE(SUBSTR({text}, 1, 4) || '-' || SUBSTR({text}, 5, 2) || '-' || "
            f"SUBSTR({text}, 7, 2))"
        )
    raise UnsupportedError(f"SQLite cannot read dates laid out as {layout}")


def _sqlite_trunc(self, expression: exp.Expression) -> str:
    unit = expression.text("unit").upper()
    places = {"MONTH": "start of month", "YEAR": "start of year"}
    if unit == "DAY":
        return f"DATE({self.sql(expression, 'this')})"
    if unit not in places:
        raise UnsupportedError(f"SQLite cannot truncate a date to a {unit.lower()}")
    return f"DATE({self.sql(expression, 'this')}, '{places[unit]}')"


def _mysql_trunc(self, expression: exp.Expression) -> str:
    unit = expression.text("unit").upper()
    layouts = {"DAY": "%Y-%m-%d", "MONTH": "%Y-%m-01", "YEAR": "%Y-01-01"}
    if unit not in layouts:
        raise UnsupportedError(f"MySQL cannot truncate a date to a {unit.lower()}")
    return f"CAST(DATE_FORMAT({self.sql(expression, 'this')}, '{layouts[unit]}') AS DATE)"


class SourceSQLite(SQLite):
    class Generator(SQLite.Generator):
        TRANSFORMS = {
            **SQLite.Generator.TRANSFORMS,
            exp.TsOrDsToDate: _sqlite_date,
            exp.StrToDate: _sqlite_date,
            exp.TimestampTrunc: _sqlite_trunc,
            exp.DateTrunc: _sqlite_trunc,
            exp.Year: lambda self, e: f"CAST(STRFTIME('%Y', {self.sql(e, 'this')}) AS INTEGER)",
        }


class SourceMySQL(MySQL):
    class Generator(MySQL.Generator):
        TRANSFORMS = {
            **MySQL.Generator.TRANSFORMS,
            exp.TimestampTrunc: _mysql_trunc,
            exp.DateTrunc: _mysql_trunc,
        }


DIALECTS = {"postgresql": "postgres", "mysql": SourceMySQL, "sqlite": SourceSQLite}


def parse(sql: str) -> exp.Expression:
    """Snowflake SQL as sqlglot reads it; ParseError when it does not parse."""
    return sqlglot.parse_one(sql, read=SNOWFLAKE)


# Other databases' functions that sqlglot reads, as Snowflake, into one of its own (so
# the tree alone does not show them): SQLite's, MySQL's, PostgreSQL's and others'.
FOREIGN_FUNCTIONS = {
    "STRFTIME", "JULIANDAY", "DATETIME", "STR_TO_DATE", "STR_TO_TIME", "DATE_FORMAT",
    "GROUP_CONCAT", "STRING_AGG", "TIMESTAMP_TRUNC", "IIF", "ISNULL", "JSON_EXTRACT",
    "UNIX_TIMESTAMP", "FROM_UNIXTIME", "GENERATE_SERIES", "AGE", "INSTR",
}  # fmt: skip
CALLED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def unknown_functions(tree: exp.Expression, sql: str = "") -> list[str]:
    """Functions Snowflake does not have: those sqlglot's Snowflake dialect does not know
    (another database's, or made up), and other databases' it reads into its own."""
    unknown = {node.name.upper() for node in tree.find_all(exp.Anonymous)}
    called = {name.upper() for name in CALLED.findall(LITERALS.sub("''", sql))}
    return sorted(unknown | (called & FOREIGN_FUNCTIONS))


def snowflake_problems(sql: str) -> list[str]:
    """Why this SQL would not run on Snowflake, or nothing."""
    try:
        tree = parse(sql)
    except SqlglotError as exc:
        return [f"does not parse as Snowflake SQL ({_first_line(exc)})"]
    return [f"{name} is not a Snowflake function" for name in unknown_functions(tree, sql)]


def render(sql: str, vendor: str) -> str:
    """Snowflake SQL as the source database (a Django vendor name) writes it."""
    dialect = DIALECTS.get(vendor)
    if dialect is None:
        raise Unrenderable(f"no SQL dialect is known for {vendor} databases")
    try:
        return sqlglot.transpile(
            sql, read=SNOWFLAKE, write=dialect, unsupported_level=ErrorLevel.RAISE
        )[0]
    except (ParseError, UnsupportedError, SqlglotError) as exc:
        raise Unrenderable(f"cannot be written in {vendor}'s SQL ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
