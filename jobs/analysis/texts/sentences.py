"""Text primitives for the offline engine: sentences with offsets, key phrases, summaries.

Every span keeps its character offsets into the original text, so a quote shown on a
page can always be traced back to the exact place it came from.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pysbd
import yake
from bm25s.stopwords import STOPWORDS_EN

from jobs.analysis.texts.structure import BLOCK, is_structural, line_groups

# The words a question is built of ("how many", "which", "does") say what kind of answer
# is wanted (answering.py), not what it is about.
QUESTION_WORDS = frozenset(
    [
        "how",
        "many",
        "much",
        "does",
        "do",
        "did",
        "have",
        "has",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "whether",
        "there",
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "would",
        "should",
    ]
)
STOPWORDS = (
    frozenset(STOPWORDS_EN)
    | {"also", "may", "us", "one", "two", "however", "using", "it", "its"}
    | QUESTION_WORDS
)
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


# A pysbd Segmenter keeps the text it is splitting on itself and computes spans from it,
# so two job threads sharing one get each other's offsets: one segmenter per thread.
_SEGMENTERS = threading.local()


def _segmenter() -> pysbd.Segmenter:
    segmenter = getattr(_SEGMENTERS, "segmenter", None)
    if segmenter is None:
        segmenter = _SEGMENTERS.segmenter = pysbd.Segmenter(
            language="en", clean=False, char_span=True
        )
    return segmenter


def sentences(text: str, on_progress: Callable[[float], None] | None = None) -> list[Span]:
    """Sentences of `text`, trimmed, each with `text[start:end] == span.text`.

    A paragraph hard-wrapped over several lines gives whole sentences (their text keeps
    the line breaks, so a quote stays verbatim); a heading or table row is one span."""
    with _LOCK:
        spans = _CACHE.get(text)
        if spans is not None:
            _CACHE.move_to_end(text)
    if spans is None:
        spans = _split(text, on_progress)
        with _LOCK:
            _CACHE[text] = spans
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    if on_progress:
        on_progress(1.0)
    return list(spans)


# Several analyses of one document ask for its sentences; splitting is the slow part.
# A worker runs jobs in threads, hence the lock around the cache (not around a split).
_CACHE: OrderedDict[str, tuple[Span, ...]] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 16
PROGRESS_EVERY = 200_000


def _split(text: str, on_progress: Callable[[float], None] | None) -> tuple[Span, ...]:
    spans: list[Span] = []
    reported = 0
    # pysbd is slow on huge inputs with no breaks, so feed it one paragraph at a time.
    for block in BLOCK.finditer(text):
        if on_progress and block.start() - reported >= PROGRESS_EVERY:
            reported = block.start()
            on_progress(reported / len(text))
        lines = block.group().split("\n")
        starts = [block.start()]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        for group in line_groups(lines):
            first, last = group[0], group[-1]
            start, end = starts[first], starts[last] + len(lines[last])
            if len(group) == 1 and is_structural(lines[first]):
                spans.append(_trimmed(text, start, end))
                continue
            # Same length as the original, so pysbd's offsets are the text's offsets.
            piece = text[start:end].replace("\n", " ")
            parts = [(p.start, p.start + len(p.sent)) for p in _segmenter().segment(piece)]
            for first_at, last_at in _joined_at_initials(piece, parts):
                spans.append(_trimmed(text, start + first_at, start + last_at))
    return tuple(span for span in spans if span.text)


# A reference's author initial ("Breiman, L.") is no sentence end when what follows is
# another author, another initial or the year: "Breiman, L. (2001). Random forests."
INITIAL_END = re.compile(r"(?:^|[\s,(])(?:[A-Z]\.\s?){1,3}$")
REFERENCE_GOES_ON = re.compile(
    r"^\s*(?:[A-Z]\.|\(?(?:1[5-9]|20)\d\d\b|[A-Z][\w'-]+,\s+[A-Z]\.|and\s+[A-Z]|&)"
)


# "(2001)." closes a reference's authors, not the reference: its title follows.
YEAR_END = re.compile(r"[A-Z]\.,?\s+(?:et al\.\s+)?\((?:1[5-9]|20)\d\d[a-z]?\)\.$")


def _joined_at_initials(piece: str, parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    joined: list[tuple[int, int]] = []
    for start, end in parts:
        if joined:
            previous = piece[joined[-1][0] : joined[-1][1]].rstrip()
            if (
                INITIAL_END.search(previous) and REFERENCE_GOES_ON.match(piece[start:end])
            ) or YEAR_END.search(previous):
                joined[-1] = (joined[-1][0], end)
                continue
        joined.append((start, end))
    return joined


def _trimmed(text: str, start: int, end: int) -> Span:
    raw = text[start:end]
    start += len(raw) - len(raw.lstrip())
    stripped = raw.strip()
    return Span(stripped, start, start + len(stripped))


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
