"""Ranking a user's documents against a question with BM25, and choosing which to read.

A document's relevance is a weighted sum of parts that each lie between 0 and 1, kept
separately so a report can show what the score is made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import bm25s

from jobs.analysis.texts.sentences import tokens

WEIGHTS = {"bm25": 0.6, "phrase_coverage": 0.3, "density": 0.1}
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
    query = tokens(question) + [token for phrase in phrases for token in tokens(phrase)]
    raw = _bm25_scores(query, documents)
    best = max(raw, default=0.0)
    query_set = set(query)
    ranked = []
    for index, text in enumerate(documents):
        lowered = text.lower()
        matched = [phrase for phrase in phrases if phrase.lower() in lowered]
        words = tokens(text)
        hits = sum(1 for word in words if word in query_set)
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


def _bm25_scores(query: list[str], documents: list[str]) -> list[float]:
    corpus = [tokens(text) or ["\u2205"] for text in documents]
    if not query or not corpus:
        return [0.0] * len(documents)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    scores = retriever.get_scores(query)
    return [max(0.0, float(value)) for value in scores]


def select(ranked: list[Ranked], mode: str) -> list[Ranked]:
    rule = MODES[mode]
    chosen = [item for item in ranked if item.score >= rule["min_score"]][: rule["top"]]
    if not chosen and ranked and ranked[0].score > 0:
        chosen = ranked[:1]
    return chosen
