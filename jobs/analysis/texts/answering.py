"""What a question asks for, and the passages of a text that answer it.

The question's form decides what counts as an answer: "how many" wants a number, "which"
wants a name, "effect of X on Y" wants an estimate with its statistics. A passage is a
whole sentence or list item of the text (or a row of a table when numbers are asked for),
scored by the question's words and the words that mean the same (vocabulary.py), so a text
that answers in other words is still found.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from jobs.analysis.texts.sentences import Span, is_heading, sentences, tokens
from jobs.analysis.texts.structure import is_rule, is_table_row
from jobs.analysis.texts.vocabulary import expand, stem

FORMS = {
    "how_many": re.compile(
        r"\bhow (?:many|much|large|big|long|old|often|high|low)\b|\bnumber of\b|"
        r"\bwhat (?:is|are|was|were) the (?:number|size|count|total|rate|percentage|"
        r"proportion|value|range|mean|median|average|minimum|maximum)\b|\bwhat percentage\b",
        re.IGNORECASE,
    ),
    "which": re.compile(
        r"^\s*(?:which|who|whom|whose|name)\b|\bwhich\b|\bwho (?:created|donated|wrote|made)"
        r"|\bwhat (?:\w+ )?(?:classes|variables|features|attributes|names?|types?|kinds?)\b",
        re.IGNORECASE,
    ),
    "effect": re.compile(
        r"\b(?:effect|impact|influence|association|associated|affect|relationship|"
        r"coefficient|significan\w*|predict\w*|p-value|odds)\b",
        re.IGNORECASE,
    ),
    "yes_no": re.compile(
        r"^\s*(?:is|are|does|do|did|can|was|were|has|have)\b|,\s*(?:and )?(?:is|are|does)\b",
        re.IGNORECASE,
    ),
}
NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?%?(?![\w])|(?<![\w.])\.\d+\b")
# Marks of an estimate: decimals, intervals, p-values, test statistics, ratios.
STATISTIC = re.compile(
    r"\d+\.\d+|\d+\s?%|\bCI\b|\bp\s*[<=>]|\bP>\|[zt]\||\b(?:HR|OR|RR|SE|coef)\b|\bratio\b",
    re.IGNORECASE,
)
PROPER_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w\-]+(?:\s+[A-Z][\w.\-]+)*")
MAX_WORDS = 60


@dataclass(frozen=True)
class Question:
    text: str
    forms: frozenset[str]
    stems: tuple[str, ...]
    expansion: tuple[str, ...]

    @property
    def wants_numbers(self) -> bool:
        return bool(self.forms & {"how_many", "effect"})


def read_question(question: str, phrases: list[str] | None = None) -> Question:
    words = tokens(question) + [t for phrase in phrases or [] for t in tokens(phrase)]
    stems = tuple(dict.fromkeys(stem(words)))
    forms = frozenset(name for name, pattern in FORMS.items() if pattern.search(question))
    return Question(question, forms or frozenset({"what"}), stems, tuple(expand(list(stems))))


def passages(text: str) -> list[tuple[Span, str]]:
    """The spans that may answer: sentences and list items ("sentence"), table rows
    ("row"); headings and rules never do."""
    found = []
    for span in sentences(text):
        if is_rule(span.text):
            continue
        if is_table_row(span.text):
            found.append((span, "row"))
        elif not is_heading(span.text.lstrip("-*• ")) or NUMBER.search(span.text):
            found.append((span, "sentence"))
    return found


def score(question: Question, span: Span, kind: str) -> float:
    words = set(stem(tokens(span.text)))
    own = len(words.intersection(question.stems))
    other = len(words.intersection(question.expansion) - set(question.stems))
    relevance = own + 0.5 * other
    if relevance == 0:
        return 0.0
    if kind == "row" and not question.wants_numbers:
        return 0.0
    numbers = len(NUMBER.findall(span.text))
    bonus = 0.0
    if "how_many" in question.forms and numbers:
        bonus += 1.0
    if "effect" in question.forms:
        bonus += 0.4 * min(len(STATISTIC.findall(span.text)), 4)
    if "which" in question.forms and PROPER_NAME.search(span.text):
        bonus += 0.5
    length = len(span.text.split())
    penalty = 1 + max(0, length - 30) / 30
    if length > MAX_WORDS or (kind == "sentence" and length < 3 and not numbers):
        penalty *= 2
    return round((relevance + bonus) / penalty, 4)


def answers(question: Question, text: str, limit: int = 3) -> list[dict]:
    """The passages of `text` that best answer `question`, best first."""
    scored = [
        (score(question, span, kind), span.start, span, kind) for span, kind in passages(text)
    ]
    best = sorted((item for item in scored if item[0] > 0), key=lambda i: (-i[0], i[1]))
    return [
        {
            "quote": span.text,
            "claim": " ".join(span.text.split()),
            "start": span.start,
            "end": span.end,
            "kind": kind,
            "score": value,
            "numbers": [n.strip() for n in NUMBER.findall(span.text)],
        }
        for value, _, span, kind in best[:limit]
    ]


def coverage(question: Question, found: list[dict]) -> float:
    """The share of the question's own words that the answers mention in some form."""
    if not question.stems:
        return 0.0
    words = set()
    for item in found:
        words |= set(stem(tokens(item["quote"])))
    hits = sum(1 for word in question.stems if word in words or words.intersection(expand([word])))
    return hits / len(question.stems)


def strength(value: float) -> float:
    """A score mapped to 0..1 for display: 3 and more is a strong answer."""
    return round(1 - math.exp(-value / 1.5), 2)
