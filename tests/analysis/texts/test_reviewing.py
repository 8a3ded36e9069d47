"""The executive summary: the direct answer first, each part answered or marked not found,
and "Not found in these documents" when no document covers what the question asks."""

from __future__ import annotations

from jobs.analysis.texts import ranking, reviewing
from jobs.analysis.texts.sentences import key_phrases

DOCS = {
    "Pools": (
        "# Pools\n\nPools limit how many jobs run at once. The link pool has a depth of 4, "
        "so only 4 links run concurrently.\n\nThe console pool has a depth of 1.\n"
    ),
    "Users": (
        "# Users\n\nThe daemon user runs unprivileged daemons. The nobody user owns no "
        "files.\n\nThe proxy user is used by squid.\n"
    ),
}


def summary(question: str) -> str:
    titles, texts = list(DOCS), list(DOCS.values())
    phrases = key_phrases(question, top=6)
    ranked = ranking.rank(question, phrases, texts)
    selected = ranking.select(ranked, "recall")
    analyses = [
        reviewing.analyse_document(question, phrases, titles[i.index], texts[i.index], i)
        for i in selected
    ]
    return reviewing.executive_summary(question, analyses, [])


def test_the_direct_answer_opens_the_summary():
    text = summary("How many links run concurrently in the link pool?")

    lines = text.splitlines()
    assert lines[0] == "**Answer.**"
    assert "only 4 links run concurrently" in lines[1] and lines[1].startswith("- **")


def test_a_question_about_something_no_document_mentions_is_not_found():
    text = summary("What depth does the GPU pool have in 1999?")

    assert text.startswith("**Not found in these documents.**")
    # The nearest passages follow, labelled as related, never as the answer.
    assert "Related passages" in text and "- Related: " in text


def test_each_part_is_answered_or_marked_not_found():
    text = summary("How many links run concurrently, and which user is used by squid?")

    answer = text.split("\n\n")[0]
    assert "only 4 links run concurrently" in answer
    assert "The proxy user is used by squid." in answer
