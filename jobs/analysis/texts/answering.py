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
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

from jobs.analysis.texts import comparing
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
    "when": re.compile(
        r"^\s*when\b|\bwhen (?:was|were|did|is)\b|\bwhat (?:year|date|month)\b|"
        r"\bin which year\b",
        re.IGNORECASE,
    ),
    # "What buffer size…", "Which port…", "What nice value…": a quantity asked by its name.
    "measure": re.compile(
        r"\b(?:what|which)\s+(?:[\w-]+\s+){0,2}?(?:size|version|port|weight|priority|"
        r"value|number|count|year|date|ratio|rate|length|depth|limit|level|statistic|"
        r"r-squared|percentage|amount|score|threshold|timeout|duration|uid|gid|code)s?\b",
        re.IGNORECASE,
    ),
    "yes_no": re.compile(
        r"^\s*(?:is|are|does|do|did|can|was|were|has|have)\b|,\s*(?:and )?(?:is|are|does)\b",
        re.IGNORECASE,
    ),
}
# A number as written: thousands separated by commas ("30,000", never "10,"), decimals,
# scientific notation kept whole ("4.86e+09", "5.807e-224"), a percent sign.
# Versions keep their parts ("v1.11.1", "2.8.8").
NUMBER = re.compile(
    r"(?<![\w.])v?\d+(?:\.\d+){2,}(?![\w])"
    r"|(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?(?![\w])"
    r"|(?<![\w.])\.\d+\b"
)
# Marks of an estimate: decimals, intervals, p-values, test statistics, ratios.
STATISTIC = re.compile(
    r"\d+\.\d+|\d+\s?%|\bCI\b|\bp\s*[<=>]|\bP>\|[zt]\||\b(?:HR|OR|RR|SE|coef)\b|\bratio\b",
    re.IGNORECASE,
)
# A person named as papers and data descriptions name them: "Dr. W. Nick Street", "R.A. Fisher".
PERSON = re.compile(r"\b(?:Dr|Prof|Mr|Ms|Mrs)\.\s|\b[A-Z]\.\s?(?:[A-Z]\.\s?)?[A-Z][a-z]+")
WHO = re.compile(
    r"^\s*(?:who|by whom)\b|\bwho (?:created|donated|wrote|made|collected|designed)"
    r"|\b(?:authors?|creators?|written by|maintainers?)\b",
    re.I,
)
DATE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)\b|\b(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b"
)
# How much a question's word counts when the document's title holds it too: it names the
# document's subject, which every passage is about, not the part that answers.
TITLE_WEIGHT = 0.3
PROPER_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w\-]+(?:\s+[A-Z][\w.\-]+)*")
MAX_WORDS = 60


# Words that ask for a value read from a table or a list of figures.
VALUE_WORDS = re.compile(
    r"\b(?:highest|lowest|largest|smallest|maximum|minimum|max|min|most|least|mean|"
    r"average|median|correlation|rate|percentage|proportion|range|distribution)\b",
    re.IGNORECASE,
)
# The thing asked for, counted or measured: "how many <samples>", "number of <patients>",
# "which <variables>".
COUNTED = re.compile(
    r"\b(?:how many|how much|number of|size of|which|what)\s+(?:the\s+)?([A-Za-z][\w-]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    text: str
    forms: frozenset[str]
    stems: tuple[str, ...]
    expansion: tuple[str, ...]
    # Stems of what is counted or measured, which weigh double: the word after "how many"
    # says which of a document's numbers is meant.
    counted: tuple[str, ...] = ()
    # Stems of the names, codes and figures the question asks about ("PRIORITY_LOW",
    # "os.availableParallelism()", "1970"): the passage that names them is about them.
    entities: tuple[str, ...] = ()

    @property
    def wants_numbers(self) -> bool:
        return bool(self.forms & {"how_many", "effect", "when", "measure"}) or bool(
            VALUE_WORDS.search(self.text)
        )


def read_question(question: str, phrases: list[str] | None = None) -> Question:
    words = tokens(question) + [t for phrase in phrases or [] for t in tokens(phrase)]
    stems = tuple(dict.fromkeys(stem(words)))
    forms = frozenset(name for name, pattern in FORMS.items() if pattern.search(question))
    counted = stem([w for m in COUNTED.finditer(question) for w in tokens(m.group(1))])
    counted = tuple(dict.fromkeys([*counted, *expand(counted)]))
    # What the question word itself asks for: "when" a date (a person for "who" is
    # found by the names in a passage, not by words).
    implied = [word for form, words in IMPLIED.items() if form in forms for word in words]
    expansion = tuple(dict.fromkeys([*expand(list(stems)), *implied]))
    _, named = question_terms(question)
    return Question(
        question, forms or frozenset({"what"}), stems, expansion, counted, tuple(sorted(named))
    )


IMPLIED = {"when": stem(["date", "year"])}


def _header_like(row: str) -> bool:
    """A table row that names columns: mostly words, and not "label: value" pairs."""
    cells = [cell for cell in CELLS.split(row.strip(" |")) if cell.strip()]
    numeric = sum(1 for cell in cells if NUMBER.fullmatch(cell.strip(" []()")))
    return ":" not in row and numeric * 2 < len(cells)


CELLS = re.compile(r"\s{2,}|\t|\s*\|\s*")


def passages(text: str) -> list[tuple[Span, str, str]]:
    """The spans that may answer, each with its kind and context: sentences and list items
    ("sentence", a short one with its section's heading as context: "Added in: v19.4.0"
    under "os.availableParallelism()" means what the heading names), table rows ("row",
    with the table's header row as context, since a row of figures means what its columns
    are called), and "Label: value" or "Label - value" pairs ("field", each pair of a line
    that holds several); headings and rules never answer."""
    found = []
    header, last_end, section = "", -1, ""
    in_references = False
    for span in sentences(text):
        if is_rule(span.text):
            continue
        row = is_table_row(span.text)
        heading = is_heading(span.text) and not ITEM.match(span.text)
        pairs = [] if in_references else fields(span)
        if not row and heading and not NUMBER.search(span.text) and not pairs:
            if NAME_LINE.match(span.text.strip("#* \n")) and not in_references:
                # A line that is only a person's name, under a title: an author.
                found.append((span, "name", section))
                continue
            in_references = bool(REFERENCES.match(span.text))
            section = span.text.strip("#* \n")
            continue
        if in_references:
            found.append((span, "reference", ""))
            continue
        if pairs and (row or heading or len(pairs) > 1 or FIELD_LINE.match(span.text)):
            found.extend((pair, "field", section) for pair in pairs)
            if len(pairs) > 1 or not row:
                continue
        if row:
            # A blank line ends a table, and its header with it.
            if last_end < 0 or re.search(r"\n[ \t]*\n", text[last_end : span.start]):
                header = ""
            if _header_like(span.text):
                header = span.text
                found.append((span, "row", ""))
            else:
                found.append((span, "row", header))
            last_end = span.end
        elif LABEL.match(span.text) and len(span.text.split()) < 6:
            continue  # a label introduces an answer ("Data Set Characteristics:"), is none
        elif (
            ITEM.match(span.text)
            or not is_heading(span.text.lstrip("-*• "))
            or NUMBER.search(span.text)
        ):
            short = len(span.text.split()) < SHORT_WORDS
            found.append((span, "sentence", section if short else ""))
    return found + lists(text)


# A passage this short is read with its section's heading.
SHORT_WORDS = 12
# "Label: value" and "Label - value": a label of a few words, then its value. Lines of a
# regression summary hold two side by side ("R-squared:   0.995   Df Model:   6").
FIELD = re.compile(
    r"(?P<label>[A-Za-z(][\w.()'/%² -]{0,40}?[\w.)%²])"
    r"(?:\s*:[ \t]+|[ \t]+[-–][ \t]+)"
    r"(?P<value>[^\s:][^:\n]*?)(?=[ \t]{2,}[A-Za-z(][\w.()'/%² -]{0,40}?\s*:[ \t]|[ \t]*$)"
)
FIELD_LINE = re.compile(r"^[-*•]?\s*[A-Za-z(][\w.()'/%² -]{0,40}?[ \t]+[-–][ \t]+\S")


def fields(span: Span) -> list[Span]:
    """The "Label: value" or "Label - value" pairs of one line, each as its own span."""
    if "\n" in span.text.strip() or len(span.text) > 200:
        return []
    found = []
    for match in FIELD.finditer(span.text):
        label, value = match.group("label").strip(), match.group("value").strip()
        if not value or len(label.split()) > 6 or len(value.split()) > 8:
            continue
        start = span.start + match.start("label")
        found.append(Span(span.text[match.start("label") : match.end("value")], start,
                          start + match.end("value") - match.start("label")))  # fmt: skip
    return found


REFERENCES = re.compile(
    r"^#*\s*\**(?:references|bibliography|citations?|further reading|see also|sources)\**:?\s*$",
    re.IGNORECASE,
)
# Questions about the literature itself may be answered from a references section.
ABOUT_LITERATURE = re.compile(
    r"\b(?:paper|article|cite[sd]?|reference|publication|published|journal|wrote|written)\b",
    re.IGNORECASE,
)
# A line that is only a person's name: "Joey Hess", "Thomas Leonard", "R. A. Fisher".
NAME_LINE = re.compile(r"^(?:[A-Z][a-z]+|[A-Z]\.)(?:[ ](?:[A-Z][a-z]+|[A-Z]\.)){1,3}$")
# A list item, which states a fact however short ("- Donor: Michael Marshall").
ITEM = re.compile(r"^[-*•]\s+\S")


LABEL = re.compile(r"^[-*•]?\s*[^.!?]{1,80}:{1,2}$")
MAX_ITEMS = 15


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _indent_at(text: str, position: int) -> int:
    start = _line_start(text, position)
    line = text[start : text.find("\n", start) if "\n" in text[start:] else len(text)]
    return len(line) - len(line.lstrip())


def lists(text: str) -> list[tuple[Span, str, str]]:
    """A label ending in a colon with the items indented under it ("class:" then
    "- Iris-Setosa", "- Iris-Versicolour"), as one passage: the items answer together."""
    spans = sentences(text)
    found = []
    for index, label in enumerate(spans):
        if not LABEL.match(label.text):
            continue
        indent = _indent_at(text, label.start)
        items = []
        for span in spans[index + 1 : index + 1 + MAX_ITEMS]:
            between = text[(items[-1] if items else label).end : span.start]
            if between.count("\n") > (2 if not items else 1):
                break
            nested = _indent_at(text, span.start) > indent
            if not nested and not re.match(r"[-*•]\s", span.text):
                break
            if not nested and not re.match(r"[-*•]\s", label.text.lstrip()):
                break
            if not nested and _indent_at(text, span.start) == indent and items == []:
                break
            items.append(span)
        if len(items) >= 2:
            block = Span(text[label.start : items[-1].end], label.start, items[-1].end)
            found.append((block, "list", ""))
    return found


# Every part of a question, and both the weighing and the scoring, read each passage's
# stems: stemming a long document's passages once instead of four times is most of the
# time an answer takes. The job threads of a worker share the cache, so it is locked, and
# bounded by the bytes it holds rather than by a count of passages, whose length has no
# bound (a count of 200,000 passages could hold a few hundred megabytes).
STEMS_CACHE_BYTES = 64 * 1024 * 1024
_STEMS: OrderedDict[str, frozenset[str]] = OrderedDict()
_STEMS_LOCK = threading.Lock()
_stems_bytes = 0


def _cost(text: str, words: frozenset[str]) -> int:
    """About what an entry holds: its text, and its set of short strings."""
    return sys.getsizeof(text) + 100 * len(words) + 200


def stems_of(text: str) -> frozenset[str]:
    global _stems_bytes
    with _STEMS_LOCK:
        found = _STEMS.get(text)
        if found is not None:
            _STEMS.move_to_end(text)
            return found
    found = frozenset(stem(tokens(text)))
    cost = _cost(text, found)
    if cost > STEMS_CACHE_BYTES // 16:
        return found  # one huge passage would push out everything else
    with _STEMS_LOCK:
        if text not in _STEMS:
            _STEMS[text] = found
            _stems_bytes += cost
            while _stems_bytes > STEMS_CACHE_BYTES and _STEMS:
                old_text, old_words = _STEMS.popitem(last=False)
                _stems_bytes -= _cost(old_text, old_words)
    return found


def stems_cache_bytes() -> int:
    with _STEMS_LOCK:
        return _stems_bytes


def score(
    question: Question,
    span: Span,
    kind: str,
    weight: dict[str, float] | None = None,
    context: str = "",
) -> float:
    """How well one passage answers; `weight` gives each word's rarity among the text's
    passages (1 for a word in one passage), so that the words every passage of a document
    shares (its topic: "California", "housing") count less than the one that tells the
    answering passage apart."""
    words = stems_of(span.text) | stems_of(context) if context else stems_of(span.text)
    weight = weight or {}
    own = sum(weight.get(word, 1.0) for word in words.intersection(question.stems))
    other = sum(
        weight.get(word, 1.0)
        for word in words.intersection(question.expansion) - set(question.stems)
    )
    counted = sum(weight.get(word, 1.0) for word in words.intersection(question.counted))
    named = sum(weight.get(word, 1.0) for word in words.intersection(question.entities))
    relevance = own + 0.5 * other + counted + named
    if relevance == 0:
        return 0.0
    # A row answers a question that asks for no number only by naming what it asks about
    # in its own cells ("SIGKILL"), not through its header.
    if (
        kind == "row"
        and not question.wants_numbers
        and not (stems_of(span.text).intersection(question.stems) and len(span.text.split()) >= 4)
    ):
        return 0.0
    if kind == "reference" and not ABOUT_LITERATURE.search(question.text):
        return 0.0
    # A name on a line of its own answers "who" only.
    if kind == "name" and not WHO.search(question.text):
        return 0.0
    if kind == "list":
        if "how_many" in question.forms and not question.forms & {"which", "what"}:
            return 0.0
        # A list whose label names what is asked for ("class:" for "which classes") is
        # the answer itself; one whose label is a word of the question, likely one.
        label = set(stem(tokens(span.text.split("\n", 1)[0])))
        if label.intersection(question.counted):
            relevance += 2.0
        elif label.intersection(question.stems + question.expansion):
            relevance += 1.0
    numbers = len(NUMBER.findall(span.text))
    bonus = 0.0
    if "how_many" in question.forms and numbers:
        bonus += 0.5 + 0.5 * bool(counted)
    if "effect" in question.forms:
        bonus += 0.25 * min(len(STATISTIC.findall(span.text)), 4)
    if "which" in question.forms and PROPER_NAME.search(span.text):
        bonus += 0.3
    if WHO.search(question.text) and (PERSON.search(span.text) or kind == "name"):
        bonus += 1.0
    if "when" in question.forms and DATE.search(span.text):
        bonus += 1.0
    length = len(span.text.split())
    penalty = 1 + max(0, length - 30) / 30
    if question.wants_numbers and not numbers:
        penalty *= 1.5
    if length > MAX_WORDS or (length < 5 and span.text.rstrip().endswith(":")):
        penalty *= 2
    return round((relevance + bonus) / penalty, 4)


def rarity(
    question: Question, found: list[tuple[Span, str, str]], title: str = ""
) -> dict[str, float]:
    """Each of the question's words weighted by how few passages hold it (0..1], and less
    when the document's title holds it."""
    wanted = set(question.stems) | set(question.expansion) | set(question.counted)
    counts: dict[str, int] = dict.fromkeys(wanted, 0)
    for span, _, _ in found:
        for word in wanted.intersection(stems_of(span.text)):
            counts[word] += 1
    total = len(found)
    top = math.log(1 + total) or 1.0
    in_title = set(stem(tokens(title)))
    return {
        word: math.log(1 + total / count) / top * (TITLE_WEIGHT if word in in_title else 1.0)
        for word, count in counts.items()
        if count
    }


# Where a question asks a second thing: "How many samples are there, and is it binary?"
PARTS = re.compile(
    r"(?:,|;)\s*(?:and\s+)?(?=(?:is|are|does|do|what|which|who|how|where|when|in what)\b)"
    r"|\s+and\s+(?=(?:what|which|who|how|where|when|by whom|the|its|their)\b)"
    r"|,\s*(?:and\s+)?(?=(?:its|their|with its)\b)"
    r"|,\s*(?:and\s+)?(?=by whom\b)"
    r"|\?\s+(?=\S)",
    re.IGNORECASE,
)


# "…, and its p-value": a part about what the part before it names.
REFERS_BACK = re.compile(r"^(?:and\s+)?(?:with\s+)?(?:its|their|the)\b", re.IGNORECASE)


def parts(question: str) -> list[str]:
    pieces = [piece.strip() for piece in PARTS.split(question) if piece.strip()]
    whole: list[str] = []
    for piece in pieces:
        # "…, and by whom?" asks its question of the part before it.
        if whole and (not tokens(piece) or REFERS_BACK.match(piece)):
            piece = f"{piece} {whole[-1]}"
        whole.append(piece)
    return [piece for piece in whole if tokens(piece)] or [question]


def answer(question: str, text: str, limit: int = 3, title: str = "", phrases=None) -> list[dict]:
    """The passages that best answer each part of `question`, the parts' best first."""
    found = passages(text)
    per_part = []
    for index, part in enumerate(parts(question)):
        asked = read_question(part, phrases if index == 0 else None)
        items = answers(asked, text, limit, title, found)
        # An answer computed from a table comes first: it is what the part asks for.
        best = items[0]["score"] if items else 1.0
        made = [{**item, "score": round(best + 1.0, 4)} for item in comparing.computed(part, text)]
        items = made + [i for i in items if all(i["start"] != m["start"] for m in made)]
        per_part.append([{**item, "part": index} for item in items])
    merged: list[dict] = []
    for rank in range(limit):
        for items in per_part:
            if rank < len(items) and all(m["start"] != items[rank]["start"] for m in merged):
                merged.append(items[rank])
    return merged[: limit + len(per_part) - 1]


def answers(
    question: Question,
    text: str,
    limit: int = 3,
    title: str = "",
    found: list[tuple[Span, str, str]] | None = None,
) -> list[dict]:
    """The passages of `text` that best answer `question`, best first."""
    found = passages(text) if found is None else found
    weight = rarity(question, found, title)
    heading = " ".join(title.lower().split())
    scored = [
        (score(question, span, kind, weight, context), span.start, span, kind, context)
        for span, kind, context in found
        # The document's title restates the subject; it answers nothing.
        if " ".join(span.text.lower().strip("# ").split()) != heading
    ]
    best = sorted((item for item in scored if item[0] > 0), key=lambda i: (-i[0], i[1]))
    return [
        {
            "quote": span.text,
            "claim": " ".join(span.text.split()),
            "start": span.start,
            "end": span.end,
            "kind": kind,
            "context": " ".join(context.split()),
            "score": value,
            "numbers": [n.strip() for n in NUMBER.findall(span.text)],
        }
        for value, _, span, kind, context in best[:limit]
    ]


def coverage(question: Question, found: list[dict]) -> float:
    """The share of the question's own words that the answers mention in some form."""
    if not question.stems:
        return 0.0
    words = set()
    for item in found:
        words |= set(stem(tokens(f"{item.get('context', '')} {item['quote']}")))
    hits = sum(1 for word in question.stems if word in words or words.intersection(expand([word])))
    return hits / len(question.stems)


def strength(value: float) -> float:
    """A score mapped to 0..1 for display: 3 and more is a strong answer."""
    return round(1 - math.exp(-value / 1.5), 2)


# Words of a question that say how it asks, not what about: a text that lacks them still
# answers it.
GENERIC = frozenset(
    stem(
        [
            *("data", "set", "dataset", "document", "documents", "text", "example"),
            *("number", "value", "values", "type", "kind", "used", "use", "given"),
            *("according", "default", "file", "files", "information", "describe"),
        ]
    )
)
# A question's word written as a name, a code or a figure: "PRIORITY_LOW", "1970",
# "os.totalmem()", "GPU".
ENTITY_WORD = re.compile(
    r"(?<!^)(?<![.?!]\s)\b(?:[A-Z][\w.]*[A-Z0-9_][\w.]*|[A-Z][a-z]+)\b|\b\w*\d\w*\b|\b\w+_\w+\b"
)


def question_terms(question: str) -> tuple[set[str], set[str]]:
    """The stems a question is about: all its content words, and those of them written as
    names, codes or figures (entities)."""
    content = {word for word in stem(tokens(question)) if word not in GENERIC}
    entities = {
        word
        for match in ENTITY_WORD.finditer(question.strip())
        for word in stem(tokens(match.group()))
        if word in content
    }
    return content, entities


def missing(question: str, text: str) -> dict[str, list[str]]:
    """The question's words that `text` never uses, in any form or another word for it:
    what the question asks about that the text does not cover."""
    content, entities = question_terms(question)
    # Each distinct word stemmed once: a long text repeats most of its words.
    present = frozenset(stem(list(set(tokens(text)))))
    absent = sorted(
        word for word in content if word not in present and not present.intersection(expand([word]))
    )
    return {"words": absent, "entities": [word for word in absent if word in entities]}


def uncovered(question: str, absent: dict[str, list[str]]) -> bool:
    """Whether the text lacks what the question is about: a name, a code or a figure it
    asks about, or two of its words and a third of them."""
    content, _ = question_terms(question)
    words = absent.get("words", [])
    return bool(absent.get("entities")) or (len(words) >= 2 and len(words) * 2 >= len(content))
