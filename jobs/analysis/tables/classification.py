"""Deciding what each column is in a semantic model, with the reasons written down.

The reference generator goes by data type alone, so ids, codes and years become facts
to be summed. Here names and the profile weigh in too, and every choice says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jobs.analysis.tables.profiling import SAMPLE_SIZE, ColumnProfile

DIMENSION = "dimension"
TIME_DIMENSION = "time_dimension"
FACT = "fact"
SKIPPED = "skipped"

NUMERIC = {"integer", "decimal", "float"}
ID_OR_CODE = re.compile(
    r"(^|_)(id|key|code|cd|no|nbr|num|number|fips|zip|zipcode|postcode|lei|uuid|flag|"
    r"type|status|category|class|reason(_\d+)?|taken)$"
)
YEAR = re.compile(r"(^|_)(year|yr)$")
DATE_NAME = re.compile(r"(^|_)(date|dt|day)($|_)")
RATE_LIKE = re.compile(r"(^|_)(rate|ratio|pct|percent|percentage|score|age|avg|average|mean)($|_)")
FEW_DISTINCT = 20


@dataclass
class Classification:
    role: str
    reasons: list[str] = field(default_factory=list)
    date_format: str | None = None
    is_enum: bool = False
    summable: bool = False


def classify(profile: ColumnProfile) -> Classification:
    name = profile.name.lower()
    result = _role(profile, name)
    if result.role == DIMENSION and profile.all_values_sampled and profile.distinct:
        result.is_enum = True
        result.reasons.append(
            f"is_enum: all {profile.distinct} distinct values fit in the sample of {SAMPLE_SIZE}"
        )
    if profile.unique:
        result.reasons.append(
            f"unique: {profile.distinct:,} distinct values in {profile.row_count:,} rows"
        )
    if result.role == FACT:
        result.summable = not RATE_LIKE.search(name)
        if not result.summable:
            result.reasons.append("named like a rate or ratio: averaged, never summed")
    return result


def _role(profile: ColumnProfile, name: str) -> Classification:
    category = profile.category
    if category in ("date", "timestamp"):
        return Classification(TIME_DIMENSION, [f"{profile.source_type} column"])
    if category == "boolean":
        return Classification(DIMENSION, ["true/false column"])
    if category not in NUMERIC | {"text"}:
        return Classification(
            SKIPPED, [f"{profile.source_type} values cannot be grouped or measured"]
        )
    # An integer such as 20240131 is only read as a date when its name says so too.
    if profile.date_text_format and (category == "text" or DATE_NAME.search(name)):
        return Classification(
            TIME_DIMENSION,
            [
                f"every sampled value, the minimum and the maximum read as "
                f"{profile.date_text_format} dates"
            ],
            date_format=profile.date_text_format,
        )
    if category == "text":
        return Classification(DIMENSION, ["text column"])
    if profile.primary_key:
        return Classification(DIMENSION, ["primary key: identifies rows, not a quantity"])
    if profile.foreign_key:
        return Classification(DIMENSION, [f"foreign key to {profile.foreign_key}"])
    if ID_OR_CODE.search(name):
        return Classification(DIMENSION, ["numeric, but named like an identifier or a code"])
    if YEAR.search(name) and _within(profile, 1900, 2200):
        return Classification(DIMENSION, ["a year: grouped by, never summed"])
    if category == "integer" and profile.distinct is not None and profile.distinct <= FEW_DISTINCT:
        return Classification(
            DIMENSION,
            [f"only {profile.distinct} distinct whole numbers: a category, not a quantity"],
        )
    return Classification(
        FACT, [f"numeric ({profile.source_type}) with {profile.distinct:,} distinct values"]
    )


def _within(profile: ColumnProfile, low: float, high: float) -> bool:
    try:
        return low <= float(profile.min) and float(profile.max) <= high
    except (TypeError, ValueError):
        return False
