"""Answers computed from a coefficient table: superlatives and significance verdicts."""

from __future__ import annotations

from pathlib import Path

from jobs.analysis.texts import answering, comparing

OPEN = Path(__file__).parent / "quality" / "open"
LONGLEY = (OPEN / "longley_ols.txt").read_text(encoding="utf-8")
STACKLOSS = (OPEN / "stackloss_ols.txt").read_text(encoding="utf-8")


def test_the_largest_effect_is_the_largest_test_statistic_without_the_constant():
    (found,) = comparing.computed("Which variable has the largest effect on TOTEMP?", LONGLEY)

    # ARMED's |t| of 4.822 beats UNEMP's 4.136 and the constant's 3.911 is left out.
    assert found["direct"].startswith("ARMED has the largest")
    assert LONGLEY[found["start"] : found["end"]] == found["quote"]


def test_the_largest_coefficient_is_compared_by_its_value():
    (found,) = comparing.computed("Which variable has the largest coefficient?", STACKLOSS)

    assert found["direct"].startswith("WATERTEMP")


def test_the_smallest_effect():
    (found,) = comparing.computed("Which variable has the smallest effect?", LONGLEY)

    assert found["direct"].startswith("GNPDEFL")


def test_significance_is_answered_from_p_and_the_stated_level():
    (no,) = comparing.computed("Is ACIDCONC significant at the 5% level?", STACKLOSS)
    (yes,) = comparing.computed("Is WATERTEMP significant?", STACKLOSS)
    (strict,) = comparing.computed("Is WATERTEMP significant at the 0.1% level?", STACKLOSS)

    assert no["direct"].startswith("No:") and "0.344" in no["direct"]
    assert yes["direct"].startswith("Yes:") and "0.003" in yes["direct"]
    assert strict["direct"].startswith("No:")


def test_nothing_is_computed_without_a_table_or_a_comparison():
    assert comparing.computed("Which variable has the largest effect?", "No table here.") == []
    assert comparing.computed("What is the coefficient of GNP?", LONGLEY) == []


def test_the_computed_answer_comes_first():
    found = answering.answer("Is GNP a significant predictor of TOTEMP?", LONGLEY)

    assert found[0]["direct"].startswith("No: GNP is not significant")


def test_label_value_pairs_of_a_two_column_line_are_answers_of_their_own():
    found = answering.answer("What is the Durbin-Watson statistic?", LONGLEY)

    assert found[0]["kind"] == "field"
    assert " ".join(found[0]["quote"].split()) == "Durbin-Watson: 2.559"
    assert LONGLEY[found[0]["start"] : found[0]["end"]] == found[0]["quote"]


def test_numbers_keep_scientific_notation_and_drop_trailing_commas():
    numbers = answering.NUMBER.findall("p 5.807e-224, about 10, 6.8 and 30,000 and v1.11.1")

    assert numbers == ["5.807e-224", "10", "6.8", "30,000", "v1.11.1"]


RESULTS = """Results by area

| Area | Voters | Turnout % | Share % |
| --- | --- | --- | --- |
| North | 12,400 | 61.2 | 48.5 |
| South | 9,870 | 58.9 | 51.3 |
| East | 15,020 | 66.0 | 44.1 |

The count ended at midnight.
"""


def test_a_superlative_over_a_table_names_the_row_and_its_value():
    (share,) = comparing.computed("Which area had the highest share?", RESULTS)
    (turnout,) = comparing.computed("Which area had the lowest turnout?", RESULTS)
    (voters,) = comparing.computed("Which area has the most voters?", RESULTS)

    assert share["direct"] == "South has the highest Share % (51.3)."
    assert turnout["direct"] == "South has the lowest Turnout % (58.9)."
    assert voters["direct"] == "East has the highest Voters (15,020)."
    assert RESULTS[share["start"] : share["end"]] == share["quote"]


def test_a_name_on_a_line_of_its_own_answers_who_wrote_it():
    text = "# A Guide to Pools\n\n### Ada Lovelace\n\n### Alan Turing\n\nPools run jobs.\n"

    found = answering.answer("Who are the authors of the guide to pools?", text, limit=3)
    other = answering.answer("What do pools run?", text, limit=3)

    assert {item["quote"] for item in found[:2]} == {"### Ada Lovelace", "### Alan Turing"}
    assert all(item["kind"] != "name" for item in other)


def test_the_stems_cache_is_bounded_in_bytes_and_safe_across_threads(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(answering, "STEMS_CACHE_BYTES", 200_000)
    texts = [f"Passage {i} about pools, links and depth {i % 7}." for i in range(3000)]
    serial = [answering.stems_of(text) for text in texts]

    with ThreadPoolExecutor(max_workers=16) as pool:
        threaded = list(pool.map(answering.stems_of, texts * 3))

    assert threaded == serial * 3
    assert 0 < answering.stems_cache_bytes() <= 200_000
