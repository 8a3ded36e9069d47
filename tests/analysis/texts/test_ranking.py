from __future__ import annotations

import pytest

from jobs.analysis.texts.ranking import WEIGHTS, rank, select

DOCS = [
    "Tomatoes and roses need sun and water. Mulch keeps the soil moist in summer.",
    "Intermittent fasting lowered HbA1c in adults with type 2 diabetes; insulin sensitivity "
    "improved with fasting.",
    "A cohort of adults: longer overnight fasting was linked to lower diabetes risk.",
]
QUESTION = "Does intermittent fasting help diabetes?"
PHRASES = ["intermittent fasting", "diabetes"]


def test_the_relevant_document_comes_first_and_scores_are_their_parts():
    ranked = rank(QUESTION, PHRASES, DOCS)

    assert [item.index for item in ranked] == [1, 2, 0]
    for item in ranked:
        assert all(0 <= value <= 1 for value in item.components.values())
        weighted = sum(WEIGHTS[key] * value for key, value in item.components.items())
        assert item.score == pytest.approx(weighted, abs=1e-3)
    assert ranked[0].matched == ["intermittent fasting", "diabetes"]
    assert ranked[-1].score == 0.0


def test_precision_reads_fewer_than_recall():
    ranked = rank(QUESTION, PHRASES, DOCS * 3)

    precision, recall = select(ranked, "precision"), select(ranked, "recall")

    assert len(precision) == 3 and len(recall) == 6
    assert all(item.score > 0 for item in recall)


def test_nothing_to_match_is_still_deterministic():
    assert [r.score for r in rank("the of and", [], DOCS)] == [0.0, 0.0, 0.0]
    assert select(rank("the of and", [], DOCS), "recall") == []
    assert rank(QUESTION, PHRASES, []) == []


def test_a_document_that_answers_in_other_words_is_found():
    documents = [
        "Binary wheels are built for Linux and macOS; install the package with pip.",
        "The shop sells garden tools, seeds and soil for the season.",
        "Number of Instances: 569. Each record belongs to one of two classes, malignant or "
        "benign. Number of Attributes: 30.",
    ]

    ranked = rank(
        "How many samples does the data set have, and is the task binary classification?",
        ["samples", "binary classification"],
        documents,
    )

    assert ranked[0].index == 2
    assert ranked[0].matched == ["samples", "binary classification"]


def test_a_short_document_that_answers_outranks_a_long_one_that_mentions_everything():
    filler = " ".join(f"word{i}" for i in range(100))
    # Each of the question's words many times, but never two within a passage's reach.
    long_text = " ".join(f"{filler} {word}." for word in ["pool", "depth", "links"] * 40)
    short_text = "Only 4 links will run at a time: the link pool has a depth of 4."

    ranked = rank("What is the depth of the link pool?", ["link pool", "depth"],
                  [long_text, short_text])  # fmt: skip

    assert ranked[0].index == 1
