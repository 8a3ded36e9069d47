"""Column statistics and deterministic samples, computed in the database itself.

One query per column keeps memory flat for any table size and lets the job report
progress column by column; samples are ordered (by frequency, then value) so the same
table gives the same samples on every run.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables.warehouse import (
    Column,
    TableSchema,
    connection_for,
    qualified_name,
    quote,
)

SAMPLE_SIZE = 10
# Types whose values can be compared and counted distinctly in every supported database.
COMPARABLE = {"integer", "decimal", "float", "text", "date", "timestamp"}
DATE_TEXT_FORMATS = {
    r"\d{8}": "YYYYMMDD",
    r"\d{4}-\d{2}-\d{2}": "YYYY-MM-DD",
    r"\d{4}/\d{2}/\d{2}": "YYYY/MM/DD",
}


def as_text(value) -> str | None:
    """A value as the string a semantic model and a profile show."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        # The shortest text that reads back as the same number: the value as stored.
        return repr(value)
    return str(value)


@dataclass
class ColumnProfile:
    name: str
    source_type: str
    category: str
    nullable: bool
    primary_key: bool
    row_count: int
    non_null: int = 0
    distinct: int | None = None
    min: str | None = None
    max: str | None = None
    samples: list[str] = field(default_factory=list)
    sample_counts: list[int] = field(default_factory=list)
    date_text_format: str | None = None
    foreign_key: str | None = None
    # Not declared: found by its name and values (relating.py).
    foreign_key_inferred: bool = False
    # The text column whose values this number stands for, one to one (a country's code).
    codes_for: str | None = None

    @property
    def nulls(self) -> int:
        return self.row_count - self.non_null

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.row_count if self.row_count else 0.0

    @property
    def all_values_sampled(self) -> bool:
        return self.distinct is not None and self.distinct <= len(self.samples)

    @property
    def unique(self) -> bool:
        return self.row_count > 0 and self.distinct == self.row_count == self.non_null

    @classmethod
    def from_dict(cls, data: dict) -> ColumnProfile:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(nulls=self.nulls, null_fraction=round(self.null_fraction, 4))
        return data


def count_rows(table: TableSchema) -> int:
    connection = connection_for(table.ref)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {qualified_name(connection, table.ref)}")
        return cursor.fetchone()[0]


def profile_column(table: TableSchema, column: Column, row_count: int) -> ColumnProfile:
    """Row count, distinct count, nulls, min and max of one column: one table scan."""
    connection = connection_for(table.ref)
    source = qualified_name(connection, table.ref)
    col = quote(connection, column.name)
    profile = ColumnProfile(
        name=column.name,
        source_type=column.source_type,
        category=column.category,
        nullable=column.nullable,
        primary_key=column.primary_key,
        row_count=row_count,
    )
    for fk in table.foreign_keys:
        if fk.column == column.name:
            profile.foreign_key = f"{fk.ref_schema}.{fk.ref_table}.{fk.ref_column}"
    with connection.cursor() as cursor:
        if column.category in COMPARABLE:
            cursor.execute(
                f"SELECT COUNT({col}), COUNT(DISTINCT {col}), MIN({col}), MAX({col}) FROM {source}"
            )
            non_null, distinct, low, high = cursor.fetchone()
            profile.non_null, profile.distinct = non_null, distinct
            profile.min, profile.max = as_text(low), as_text(high)
        elif column.category == "boolean":
            cursor.execute(f"SELECT COUNT({col}), COUNT(DISTINCT {col}) FROM {source}")
            profile.non_null, profile.distinct = cursor.fetchone()
        else:
            cursor.execute(f"SELECT COUNT({col}) FROM {source}")
            (profile.non_null,) = cursor.fetchone()
    return profile


def sample_column(table: TableSchema, profile: ColumnProfile) -> None:
    """The most frequent values, ties broken by value; the smallest values of a unique column."""
    if profile.category not in COMPARABLE | {"boolean"} or not profile.non_null:
        return
    connection = connection_for(table.ref)
    source = qualified_name(connection, table.ref)
    col = quote(connection, profile.name)
    with connection.cursor() as cursor:
        if profile.unique or profile.distinct == profile.non_null:
            cursor.execute(
                f"SELECT {col}, 1 FROM {source} WHERE {col} IS NOT NULL "
                f"ORDER BY {col} LIMIT {SAMPLE_SIZE}"
            )
        else:
            cursor.execute(
                f"SELECT {col}, COUNT(*) AS n FROM {source} WHERE {col} IS NOT NULL "
                f"GROUP BY {col} ORDER BY n DESC, {col} LIMIT {SAMPLE_SIZE}"
            )
        rows = cursor.fetchall()
    profile.samples = [as_text(value) for value, _ in rows]
    profile.sample_counts = [count for _, count in rows]
    profile.date_text_format = date_text_format(profile)


def find_codes(table: TableSchema, profiles: list[ColumnProfile]) -> None:
    """Mark the whole-number columns that are codes for a text column: as many distinct
    values as it has, paired one to one in every row (a country and its numeric code,
    whatever the code column is called). One query per candidate pair; candidates are
    the pairs with equal distinct counts, so most tables need none."""
    texts = [p for p in profiles if p.category == "text" and p.distinct and not p.unique]
    numbers = [
        p for p in profiles
        if p.category == "integer" and not p.primary_key and p.distinct and not p.unique
    ]  # fmt: skip
    if not texts or not numbers:
        return
    connection = connection_for(table.ref)
    source = qualified_name(connection, table.ref)
    for number in numbers:
        for text in texts:
            if number.distinct != text.distinct:
                continue
            pair = f"{quote(connection, number.name)}, {quote(connection, text.name)}"
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT {pair} FROM {source}) d")
                (pairs,) = cursor.fetchone()
            if pairs == number.distinct:
                number.codes_for = text.name
                break


def date_text_format(profile: ColumnProfile) -> str | None:
    """The date layout of a text or integer column whose every value seen reads as a date."""
    if profile.category not in ("text", "integer") or not profile.samples:
        return None
    values = [*profile.samples, profile.min, profile.max]
    for pattern, layout in DATE_TEXT_FORMATS.items():
        if profile.category == "integer" and layout != "YYYYMMDD":
            continue
        if all(value and re.fullmatch(pattern, value) and _is_date(value) for value in values):
            return layout
    return None


def _is_date(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    try:
        parsed = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return 1900 <= parsed.year <= 2200


def run_check(connection: BaseDatabaseWrapper, sql: str) -> list[tuple]:
    """Run a read-only query; used to prove an expression or a query works on the data."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
