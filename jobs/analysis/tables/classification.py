"""Deciding what each column is in a semantic model, with the reasons written down.

The reference generator goes by data type alone, so ids, codes and years become facts
to be summed. Here names and the profile weigh in too, and every choice says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jobs.analysis.tables import vocabulary
from jobs.analysis.tables.naming import logical_name, meaning
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
FEW_DISTINCT = 20
# How a fact adds up: summed, averaged (a level, a rate, a coordinate), or a snapshot
# (summed across places at one time, never across time).
SUM, AVERAGE, SNAPSHOT = "sum", "average", "snapshot"


@dataclass
class Classification:
    role: str
    reasons: list[str] = field(default_factory=list)
    date_format: str | None = None
    is_enum: bool = False
    aggregation: str = SUM

    @property
    def summable(self) -> bool:
        return self.role == FACT and self.aggregation == SUM


def classify(profile: ColumnProfile) -> Classification:
    # Snake case, so the patterns find gdp_percap's and countryCode's words.
    name = logical_name(profile.name)
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
        result.aggregation, why = aggregation(profile)
        result.reasons.append(why)
    return result


def aggregation(profile: ColumnProfile) -> tuple[str, str]:
    """How a fact adds up, from what its name says it measures and from its values."""
    said = set(meaning(profile.name)) | {" ".join(meaning(profile.name))}
    if said & vocabulary.COORDINATES:
        return AVERAGE, "a map coordinate: averaged or compared, never summed"
    if said & vocabulary.LEVELS:
        return AVERAGE, "a level, rate or ratio by its name: averaged, never summed"
    if said & vocabulary.SNAPSHOTS:
        return SNAPSHOT, "a quantity at a moment: summed across places, not across time"
    if _within(profile, 0, 1) and profile.category in ("float", "decimal"):
        return AVERAGE, "every value between 0 and 1, a share or a probability: averaged"
    if said & vocabulary.ADDITIVE:
        return SUM, "an amount or a count by its name: summed"
    return SUM, "a quantity: summed, and averaged"


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
    if profile.foreign_key and profile.foreign_key_inferred:
        return Classification(
            DIMENSION, [f"joins {profile.foreign_key}: named for it, its values found there"]
        )
    if profile.foreign_key:
        return Classification(DIMENSION, [f"foreign key to {profile.foreign_key}"])
    if ID_OR_CODE.search(name):
        return Classification(DIMENSION, ["numeric, but named like an identifier or a code"])
    if profile.codes_for:
        return Classification(
            DIMENSION,
            [f"a code: its {profile.distinct:,} values pair one to one with {profile.codes_for}"],
        )
    quantity = set(meaning(profile.name)) & (
        vocabulary.ADDITIVE | vocabulary.LEVELS | vocabulary.SNAPSHOTS
    )
    if quantity & vocabulary.ADDITIVE:
        # Whatever the sample holds (every order line of 1 unit): units add up.
        return Classification(
            FACT,
            [f"a quantity, amount or count by its name ({', '.join(sorted(quantity))}): a fact"],
        )
    if category == "integer" and profile.unique and profile.row_count >= 10 and not quantity:
        return Classification(
            DIMENSION, ["whole numbers, a different one in every row: identifies rows"]
        )
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
