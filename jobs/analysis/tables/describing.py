"""Descriptions and synonyms of a profiled table and its columns: written offline from
the profile, or asked of the model (its prompt and how its answer is read)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from jobs.analysis.tables import vocabulary
from jobs.analysis.tables.classification import (
    AVERAGE,
    FACT,
    SNAPSHOT,
    TIME_DIMENSION,
    Classification,
)
from jobs.analysis.tables.naming import (
    humanize,
    logical_name,
    synonyms_for,
    table_synonyms,
    unit,
)
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.warehouse import TableSchema


def describe(profile: ColumnProfile, classification: Classification) -> str:
    """A plain-language description built from the profile alone (no model needed):
    the name's words expanded (lifeExp: life expectancy), its unit, what it holds."""
    label = sentence_case(glossed(humanize(profile.name)))
    measured = unit(profile.name)
    in_unit = f", in {measured}" if measured else ""
    missing = f"; {profile.null_fraction:.1%} missing" if profile.nulls else ""
    if classification.role == TIME_DIMENSION:
        cast = (
            f", stored as {classification.date_format} text" if classification.date_format else ""
        )
        return f"{label}{cast}, from {profile.min} to {profile.max}{missing}."
    if classification.role == FACT:
        how = {
            AVERAGE: " Averaged (or compared), never summed.",
            SNAPSHOT: " A quantity at a moment: summed only within one period.",
        }.get(classification.aggregation, "")
        span = (
            f"{readable(profile.min)} on every row in the data"
            if profile.min == profile.max
            else f"from {readable(profile.min)} to {readable(profile.max)}"
        )
        return f"{label}{in_unit}, {span}{missing}.{how}"
    if profile.foreign_key:
        table, _, key = profile.foreign_key.rpartition(".")
        return f"{label}: refers to a row of {table.rpartition('.')[-1]} (its {key}){missing}."
    if profile.codes_for:
        return f"{label}, a code for each {humanize(profile.codes_for)}{missing}."
    if profile.unique:
        return f"{label}{in_unit}, unique for each row{missing}."
    if profile.primary_key:
        return f"{label}, part of the key that identifies each row{missing}."
    if classification.is_enum and profile.distinct == 1:
        return f"{label}, always {profile.samples[0]}{missing}."
    if classification.is_enum:
        values = ", ".join(profile.samples)
        return f"{label}, one of {profile.distinct} values ({values}){missing}."
    examples = ", ".join(profile.samples[:3])
    return f"{label}{in_unit}, {profile.distinct:,} distinct values such as {examples}{missing}."


def sentence_case(phrase: str) -> str:
    # Not str.capitalize(), which would write GDP as Gdp.
    return phrase[:1].upper() + phrase[1:]


def glossed(phrase: str) -> str:
    """A phrase with its first acronym spelled out: GDP (gross domestic product)."""
    for short, long in vocabulary.GLOSSARY.items():
        if short in phrase.split():
            return phrase.replace(short, long, 1)
    return phrase


def readable(value: str | None) -> str:
    """A number as a description says it (the samples keep it as stored)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"


@dataclass
class ProfiledTable:
    schema: TableSchema
    row_count: int
    profiles: list[ColumnProfile]
    classifications: dict[str, Classification]
    descriptions: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    # The model's descriptions the profile contradicted, and why (kept out of the YAML).
    rejected_descriptions: dict[str, str] = field(default_factory=dict)

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
    table.synonyms.setdefault("", table_synonyms(table.schema.ref.table))


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


UNIQUE_CLAIM = re.compile(r"\b(unique|primary key|distinct for each|identifies each)\b", re.I)
COMPLETE_CLAIM = re.compile(r"\b(never (empty|null|missing)|always (set|present|filled))\b", re.I)
REFERENCE_CLAIM = re.compile(r"\b(refers to|references|foreign key|links to)\b", re.I)


def contradiction(description: str, profile: ColumnProfile) -> str | None:
    """What a description from the model says that the profile shows to be false."""
    if UNIQUE_CLAIM.search(description) and not profile.unique:
        return f"says unique, but {profile.distinct} distinct in {profile.row_count:,} rows"
    if COMPLETE_CLAIM.search(description) and profile.nulls:
        return f"says always filled, but {profile.nulls:,} rows are empty"
    if REFERENCE_CLAIM.search(description) and not profile.foreign_key:
        return "says it refers to another table, which no key or value shows"
    return None


def apply_model_descriptions(table: ProfiledTable, answer: str) -> list[str]:
    """Take the model's descriptions and synonyms where they are well formed and the
    profile does not contradict them (a "unique" column with repeated values).

    Returns the names it described. Anything malformed or contradicted keeps the offline
    text, so a chatty or truncated answer never leaves a column undescribed or wrong.
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
    profiles = {p.name: p for p in table.profiles}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        description = entry.get("description")
        if isinstance(description, str) and name in profiles:
            why = contradiction(description, profiles[name])
            if why:
                table.rejected_descriptions[name] = why
                description = None
        if isinstance(description, str) and description.strip():
            table.descriptions[name] = " ".join(description.split())[:500]
            described.append(name or table.name)
        synonyms = entry.get("synonyms")
        if isinstance(synonyms, list):
            clean = [
                " ".join(s.split())[:60]
                for s in synonyms
                if isinstance(s, str)
                and s.strip()
                and len(set(s.lower().split())) == len(s.split())
            ]
            if clean:
                table.synonyms[name] = list(dict.fromkeys(clean))[:4]
    return described
