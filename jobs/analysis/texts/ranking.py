"""Ranking a user's documents against a question with BM25, and choosing which to read.

Words are compared by their stems, and the question is expanded with the words that mean
the same (vocabulary.py): a document that says "instances" and "two classes" answers a
question about "samples" and "binary". The expansion's BM25 is fused with the question's
own at a lower weight, so the document that uses the question's words still wins a tie.
A document's relevance is a weighted sum of parts that each lie between 0 and 1, kept
separately so a report can show what the score is made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import bm25s

from jobs.analysis.texts.sentences import tokens
from jobs.analysis.texts.vocabulary import expand, stem

WEIGHTS = {"bm25": 0.6, "phrase_coverage": 0.3, "density": 0.1}
# How much a word that means the same counts against a word of the question itself.
EXPANSION_WEIGHT = 0.5
# Precision reads a few strong matches in depth; recall reads more, weaker ones too.
MODES = {
    "precision": {"top": 3, "min_score": 0.25},
    "recall": {"top": 10, "min_score": 0.05},
}


@dataclass
class Ranked:
    index: int
    score: float
    bm25: float
    components: dict[str, float] = field(default_factory=dict)
    matched: list[str] = field(default_factory=list)


def rank(question: str, phrases: list[str], documents: list[str]) -> list[Ranked]:
    query = stem(tokens(question) + [token for phrase in phrases for token in tokens(phrase)])
    expansion = expand(query)
    corpus = [stem(tokens(text)) for text in documents]
    raw = _best_passages(query, expansion, corpus)
    best = max(raw, default=0.0)
    query_set, expansion_set = set(query), set(expansion)
    ranked = []
    for index, words in enumerate(corpus):
        present = set(words)
        matched = [phrase for phrase in phrases if _mentions(phrase, documents[index], present)]
        hits = sum(1 for word in words if word in query_set) + EXPANSION_WEIGHT * sum(
            1 for word in words if word in expansion_set
        )
        per_thousand = 1000 * hits / len(words) if words else 0.0
        components = {
            "bm25": raw[index] / best if best > 0 else 0.0,
            "phrase_coverage": len(matched) / len(phrases) if phrases else 0.0,
            # 50 query words per 1,000 is already a document about the question.
            "density": 1 - math.exp(-per_thousand / 50),
        }
        components = {key: round(value, 4) for key, value in components.items()}
        score = round(sum(WEIGHTS[key] * value for key, value in components.items()), 4)
        ranked.append(Ranked(index, score, round(raw[index], 4), components, matched))
    return sorted(ranked, key=lambda item: (-item.score, item.index))


# A document is as relevant as its best passages: windows of this many words, overlapping
# by half, each scored by BM25 against all the documents' windows. BM25 of whole documents
# lets a long document that mentions every word somewhere outrank the short one that
# answers; windows of one length compare like with like.
WINDOW_WORDS = 60
# The best window counts fully, the second at this weight: two passages on the question
# are better evidence than one, but a long document's many mediocre ones add nothing.
SECOND_WINDOW = 0.5


def _windows(words: list[str]) -> list[list[str]]:
    step = WINDOW_WORDS // 2
    last = max(len(words) - step, 1)
    return [words[start : start + WINDOW_WORDS] for start in range(0, last, step)]


def _best_passages(query: list[str], expansion: list[str], corpus: list[list[str]]):
    """Each document's score: its best window's BM25, plus its second best's at half
    weight, the question's own words fused with the expansion's at a lower weight."""
    windows, owner = [], []
    for index, words in enumerate(corpus):
        for window in _windows(words):
            windows.append(window)
            owner.append(index)
    own, other = _bm25_scores([query, expansion], windows)
    best: list[list[float]] = [[] for _ in corpus]
    for index, a, b in zip(owner, own, other, strict=True):
        best[index].append(a + EXPANSION_WEIGHT * b)
    scores = []
    for values in best:
        top = sorted(values, reverse=True)[:2] + [0.0, 0.0]
        scores.append(top[0] + SECOND_WINDOW * top[1])
    return scores


def _mentions(phrase: str, text: str, present: set[str]) -> bool:
    """The phrase as written, or all its words in some form or another word for each."""
    if phrase.lower() in text.lower():
        return True
    words = stem(tokens(phrase))
    return bool(words) and all(
        word in present or present.intersection(expand([word])) for word in words
    )


def _bm25_scores(queries: list[list[str]], corpus: list[list[str]]) -> list[list[float]]:
    if not corpus:
        return [[] for _ in queries]
    retriever = bm25s.BM25()
    retriever.index([words or ["\u2205"] for words in corpus], show_progress=False)
    return [
        [max(0.0, float(value)) for value in retriever.get_scores(query)]
        if query
        else [0.0] * len(corpus)
        for query in queries
    ]


def select(ranked: list[Ranked], mode: str) -> list[Ranked]:
    rule = MODES[mode]
    chosen = [item for item in ranked if item.score >= rule["min_score"]][: rule["top"]]
    if not chosen and ranked and ranked[0].score > 0:
        chosen = ranked[:1]
    return chosen
