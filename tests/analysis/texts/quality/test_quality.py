"""The quality set: answers to questions over real, permissively licensed documents, run
offline. Targets from issue 16: every expected number found, every anchor a verbatim whole
sentence, 80 % of expected entities named in the executive summary."""

from __future__ import annotations

import pytest

from tests.analysis.texts.quality.evaluate import evaluate, questions, report


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
