"""Text primitives for the offline engine: sentences with offsets, key phrases, summaries.

Every span keeps its character offsets into the original text, so a quote shown on a
page can always be traced back to the exact place it came from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cache, lru_cache

import pysbd
import yake
from bm25s.stopwords import STOPWORDS_EN

STOPWORDS = frozenset(STOPWORDS_EN) | {"also", "may", "us", "one", "two", "however", "using"}
# Verbs of a question ("does X improve Y") that make poor search phrases.
QUESTION_VERBS = frozenset(
    [
        "affect",
        "affects",
        "change",
        "changes",
        "differ",
        "effect",
        "effects",
        "help",
        "helps",
        "impact",
        "improve",
        "improves",
        "increase",
        "increases",
        "influence",
        "make",
        "reduce",
        "reduces",
        "relate",
        "work",
    ]
)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-']*|\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return asdict(self)


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentences(text: str) -> list[Span]:
    """Sentences of `text`, trimmed, each with `text[start:end] == span.text`."""
    return list(_sentences(text))


# Several analyses of one document ask for its sentences; splitting is the slow part.
@lru_cache(maxsize=16)
def _sentences(text: str) -> tuple[Span, ...]:
    spans = []
    # pysbd is slow on huge inputs with no breaks, so feed it paragraph by paragraph.
    for paragraph in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        offset = paragraph.start()
        for piece in _segmenter().segment(paragraph.group()):
            raw = piece.sent
            start = offset + piece.start
            stripped = raw.strip()
            if not stripped:
                continue
            start += len(raw) - len(raw.lstrip())
            spans.append(Span(stripped, start, start + len(stripped)))
    return tuple(span for span in spans if text[span.start : span.end] == span.text)


def is_heading(sentence: str) -> bool:
    return sentence.startswith("#") or (
        len(sentence) < 80
        and not sentence.rstrip().endswith((".", "?", "!", ":"))
        and len(sentence.split()) <= 8
    )


def tokens(text: str) -> list[str]:
    words = (m.group().lower() for m in WORD.finditer(text))
    return [w for w in words if len(w) > 1 and w not in STOPWORDS]


def key_phrases(text: str, top: int = 8) -> list[str]:
    """The most salient phrases (1 or 2 words), most salient first, no phrase repeated."""
    if not text.strip():
        return []
    extractor = yake.KeywordExtractor(lan="en", n=2, top=top * 4, dedupLim=0.9)
    scored = sorted(
        ((score, phrase.lower()) for phrase, score in extractor.extract_keywords(text)),
        key=lambda item: (item[0], item[1]),
    )
    chosen: list[str] = []
    for _, phrase in scored:
        words = phrase.split()
        if (
            phrase in STOPWORDS
            or QUESTION_VERBS.intersection(words)
            or any(phrase in kept for kept in chosen)
        ):
            continue
        chosen.append(phrase)
        if len(chosen) == top:
            break
    return chosen


def summarize(text: str, *, k: int = 3, focus: list[str] | None = None) -> list[Span]:
    """The k most central sentences, nudged towards the focus phrases, in document order."""
    candidates = [span for span in sentences(text) if not is_heading(span.text)]
    if not candidates:
        return []
    frequencies = Counter(tokens(text))
    top = max(frequencies.values(), default=1)
    focus_tokens = {token for phrase in focus or [] for token in tokens(phrase)}
    focus_phrases = [phrase.lower() for phrase in focus or []]

    def score(position: int, span: Span) -> float:
        words = tokens(span.text)
        length = len(span.text.split())
        if not words:
            return -1.0
        centrality = sum(frequencies[w] / top for w in set(words)) / math.sqrt(len(words))
        lowered = span.text.lower()
        bonus = sum(1.0 for phrase in focus_phrases if phrase in lowered)
        bonus += 0.3 * len(focus_tokens.intersection(words))
        penalty = 0.5 if length < 6 or length > 80 else 0.0
        return centrality + bonus - penalty - 0.01 * position

    ranked = sorted(enumerate(candidates), key=lambda item: (-score(*item), item[0]))
    chosen = sorted(index for index, _ in ranked[:k])
    return [candidates[index] for index in chosen]
