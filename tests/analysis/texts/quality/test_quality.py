"""The quality set: answers to questions over real, permissively licensed documents, run
offline. Targets from issue 16: every expected number found, every anchor a verbatim whole
sentence, 80 % of expected entities named in the executive summary."""

from __future__ import annotations

import pytest

from tests.analysis.texts.quality.evaluate import (
    evaluate,
    evaluate_open,
    half,
    open_report,
    questions,
    report,
)


@pytest.fixture(scope="module")
def figures():
    return evaluate()


def test_the_set_is_large_enough_and_complete():
    cases = questions()

    assert len(cases) >= 20
    assert all(case["numbers"] or case["entities"] for case in cases)


def test_answers_name_every_expected_number_and_most_entities(figures):
    outcomes, totals = figures

    missed = [(o.question, o.misses) for o in outcomes if o.misses]
    assert totals["number_recall"] == 1.0, report(outcomes, totals)
    assert totals["entity_recall"] >= 0.8, missed


def test_every_anchor_is_a_verbatim_whole_sentence(figures):
    _, totals = figures

    assert totals["anchor_precision"] == 1.0


@pytest.fixture(scope="module")
def tuning():
    return evaluate_open("tuning")


def test_the_open_set_has_two_halves_with_unanswerable_questions_in_each():
    cases = questions("open.yaml")
    halves = {name: [c for c in cases if half(c) == name] for name in ("tuning", "heldout")}

    assert len(cases) >= 40 and len({c["id"] for c in cases}) == len(cases)
    for found in halves.values():
        assert len(found) >= 15
        assert any(c["document"] is None for c in found)


def test_the_tuning_half_beats_the_bm25_windows_and_says_not_found(tuning):
    outcomes, totals = tuning

    assert totals["complete"] >= 0.8, open_report(outcomes, totals)
    assert totals["complete"] >= totals["baseline_complete"], open_report(outcomes, totals)
    assert totals["not_found"] >= 2 / 3, open_report(outcomes, totals)
    assert totals["false_not_found"] <= 0.1, open_report(outcomes, totals)
    assert totals["anchor_precision"] == 1.0
