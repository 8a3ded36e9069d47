"""Descriptions and synonyms that are true: the model's checked against the profile,
synonyms without a repeated word, a fact of one value said as such."""

from __future__ import annotations

import json

from jobs.analysis.tables.classification import classify
from jobs.analysis.tables.describing import ProfiledTable, apply_model_descriptions, describe
from jobs.analysis.tables.modelling import balanced
from jobs.analysis.tables.naming import synonyms_for
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.warehouse import Column, TableRef, TableSchema


def profile(name, **kw) -> ColumnProfile:
    values = {
        "source_type": "integer",
        "category": "integer",
        "nullable": True,
        "primary_key": False,
    }
    values |= {"row_count": 8715, "non_null": 8715, "distinct": 14, "min": "1", "max": "18"}
    return ColumnProfile(name, **(values | kw))


def table(*profiles) -> ProfiledTable:
    ref = TableRef("c1", "main", "PlaylistTrack")
    columns = [Column(p.name, p.source_type, p.category, p.nullable) for p in profiles]
    return ProfiledTable(
        TableSchema(ref, columns), 8715, list(profiles), {p.name: classify(p) for p in profiles}
    )


def test_a_models_description_the_profile_contradicts_is_not_taken():
    playlist = profile("PlaylistId", primary_key=True)
    composer = profile("Composer", category="text", non_null=6000, distinct=800)
    answer = json.dumps(
        {
            "columns": {
                "PlaylistId": {"description": "Unique identifier of each row."},
                "Composer": {"description": "Who wrote the track; never empty."},
            }
        }
    )
    described = table(playlist, composer)

    taken = apply_model_descriptions(described, answer)

    assert taken == []
    assert "14 distinct in 8,715 rows" in described.rejected_descriptions["PlaylistId"]
    assert "rows are empty" in described.rejected_descriptions["Composer"]


def test_part_of_a_composite_key_is_not_unique_for_each_row():
    part = profile("PlaylistId", primary_key=True)
    assert "unique for each row" not in describe(part, classify(part))


def test_a_fact_of_one_value_and_a_category_of_one_value():
    quantity = profile("Quantity", distinct=1, min="1", max="1", row_count=2240, non_null=2240)
    state = profile(
        "State", category="text", distinct=1, min="AB", max="AB", samples=["AB"], row_count=8
    )
    state.non_null = 8

    assert classify(quantity).role == "fact"
    assert describe(quantity, classify(quantity)) == "Quantity, 1 on every row in the data."
    assert describe(state, classify(state)) == "State, always AB."


def test_synonyms_never_repeat_a_word():
    for name in ("UnitPrice", "unit_price", "price_per_unit", "CustomerId"):
        for synonym in synonyms_for(name):
            words = synonym.lower().split()
            assert len(set(words)) == len(words), (name, synonym)


def test_at_most_a_third_of_the_questions_are_row_counts():
    counts = [{"name": f"t{n}_count", "sql": f"SELECT COUNT(*) AS c FROM __t{n}"} for n in range(6)]
    others = [
        {"name": f"q{n}", "sql": "SELECT a, SUM(b) AS s FROM __t GROUP BY a"} for n in range(4)
    ]

    kept = balanced(counts + others)

    assert len([q for q in kept if q in counts]) == 2 and len(kept) == 6
    assert balanced(counts[:1]) == counts[:1], "one question rather than none"
