"""Reading documents for a review: the passages that answer the question, summaries, why
each document matters, facts anchored in whole-sentence quotes, themes across documents,
and an executive summary that states the answer first and only restates what was found."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from jobs.analysis.texts import answering
from jobs.analysis.texts.ranking import Ranked
from jobs.analysis.texts.sentences import (
    Span,
    is_heading,
    key_phrases,
    sentences,
    summarize,
    tokens,
)
from jobs.analysis.texts.structure import is_table_row

MAX_ANCHORS = 5
MAX_ANSWERS = 3
# An answer that mentions less than this share of the question's words does not answer it.
MIN_COVERAGE = 0.25
# Answers are taken from the documents at least this relevant against the most relevant:
# a document about something else may share the question's generic words ("data set",
# "how many") and answer a question nobody asked.
MIN_RELATIVE_RELEVANCE = 0.6
MAX_THEMES = 6
# A sentence carries a checkable fact when it holds a number, a statistic or a comparison.
FACT = re.compile(
    r"\d|\bp\s*[<=>]|\b(?:increase|decrease|reduc|lower|higher|improv|associat|compared|"
    r"significant|more than|less than)\w*|\b(?:fell|rose)\b",
    re.IGNORECASE,
)
# Marks of a measured result: decimals, percentages, intervals, p-values, ratios.
STATISTIC = re.compile(r"\d+\.\d+|\d+\s?%|\bCI\b|\bp\s*[<=>]|\b(?:HR|OR|RR)\b|\bratio\b", re.I)
PARENTHESES = re.compile(r"\s*\([^()]*\)")


def claim_of(sentence: str) -> str:
    """The sentence without its parenthetical statistics: a restatement that adds nothing."""
    flat = " ".join(sentence.split())
    claim = PARENTHESES.sub("", flat).strip()
    claim = re.sub(r"\s+([,.;])", r"\1", claim)
    return claim if len(claim.split()) >= 4 else flat


def fact_anchors(text: str, focus: list[str], limit: int) -> list[dict]:
    focus_tokens = {token for phrase in focus for token in tokens(phrase)}
    scored = []
    for position, span in enumerate(sentences(text)):
        if is_heading(span.text) or is_table_row(span.text) or not FACT.search(span.text):
            continue
        overlap = len(focus_tokens.intersection(tokens(span.text)))
        statistics = len(STATISTIC.findall(span.text))
        scored.append((overlap + 1.5 * min(statistics, 4), position, span))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:limit]
    return [anchor(span) for _, _, span in sorted(best, key=lambda item: item[1])]


def anchor(span: Span) -> dict:
    return {"claim": claim_of(span.text), "quote": span.text, "start": span.start, "end": span.end}


def analyse_document(
    question: str,
    phrases: list[str],
    title: str,
    text: str,
    ranked: Ranked,
    on_progress: Callable[[float, str], None] | None = None,
) -> dict:
    def report(fraction: float, message: str) -> None:
        if on_progress:
            on_progress(fraction, message)

    focus = [*phrases, question]
    # Splitting a long text into sentences is most of the work; every step after reads
    # the cached split.
    sentences(text, on_progress=lambda f: report(0.7 * f, f"Reading “{title}” ({f:.0%})"))
    report(0.7, f"Finding the answer in “{title}”")
    found = answering.answer(question, text, MAX_ANSWERS, title=title, phrases=phrases)
    report(0.85, f"Summarising “{title}”")
    summary = summarize(text, k=3, focus=phrases)
    matched = ", ".join(f"“{phrase}”" for phrase in ranked.matched)
    if ranked.matched:
        why = f"Mentions {matched} ({len(ranked.matched)} of {len(phrases)} key phrases)"
    else:
        why = "Mentions none of the key phrases, only some words of the question"
    why += f"; BM25 {ranked.components['bm25']:.2f} of the best match among the documents."
    report(0.95, f"Anchoring the facts of “{title}”")
    # The passages that answer come first among the anchors: they are the facts asked for.
    anchors = [anchor_of(item) for item in found if item["kind"] == "sentence"]
    for item in fact_anchors(text, focus, MAX_ANCHORS):
        if len(anchors) < MAX_ANCHORS and all(a["start"] != item["start"] for a in anchors):
            anchors.append(item)
    return {
        "title": title,
        "summary": " ".join(" ".join(span.text.split()) for span in summary),
        "summary_spans": [span.as_dict() for span in summary],
        "why_relevant": why,
        "answers": found,
        # What each part of the question asks about that this document never mentions.
        "missing": [answering.missing(part, text) for part in answering.parts(question)],
        "anchors": anchors,
        "score": ranked.score,
        "components": ranked.components,
    }


def anchor_of(item: dict) -> dict:
    return {
        "claim": claim_of(item["quote"]),
        "quote": item["quote"],
        "start": item["start"],
        "end": item["end"],
    }


# Key phrases are read from at most this much of each document: YAKE's cost grows with the
# text, and a document's salient phrases show in its first few hundred thousand characters.
THEME_SAMPLE_CHARS = 300_000


def themes(
    phrases: list[str],
    documents: list[tuple[str, str]],
    on_progress: Callable[[float, str], None] | None = None,
) -> list[dict]:
    """Phrases that several documents share, each with a quote from every document."""
    found: dict[str, list[str]] = defaultdict(list)
    for position, (title, text) in enumerate(documents):
        if on_progress:
            on_progress(position / max(len(documents), 1), f"Key phrases of “{title}”")
        for phrase in key_phrases(text[:THEME_SAMPLE_CHARS], top=12):
            if title not in found[phrase]:
                found[phrase].append(title)
    query_tokens = {token for phrase in phrases for token in tokens(phrase)}

    def weight(item: tuple[str, list[str]]) -> tuple:
        phrase, titles = item
        return (-len(titles), -len(query_tokens.intersection(tokens(phrase))), phrase)

    # The question's own phrases occur everywhere by design: they are not findings; nor is
    # a single word that any text uses ("type", "common").
    asked = {phrase.lower() for phrase in phrases}
    candidates = sorted(
        ((p, t) for p, t in found.items() if p not in asked and not _generic(p)), key=weight
    )
    chosen = [item for item in candidates if len(item[1]) >= 2] or candidates[:3]
    results = []
    texts = dict(documents)
    for phrase, titles in chosen:
        if any(phrase in kept["theme"] or kept["theme"] in phrase for kept in results):
            continue
        evidence = []
        for title in titles:
            span = next(
                (
                    s
                    for s in sentences(texts[title])
                    if phrase in s.text.lower() and not is_heading(s.text)
                ),
                None,
            )
            if span is not None:
                evidence.append(
                    {"document": title, "quote": span.text, "start": span.start, "end": span.end}
                )
        if evidence:
            results.append({"theme": phrase, "documents": titles, "evidence": evidence})
        if len(results) == MAX_THEMES:
            break
    return results


NOT_FOUND = "Not found in these documents"


# Words any document uses whatever it is about: as a theme alone they say nothing.
GENERIC_THEMES = frozenset(
    [
        *("type", "types", "common", "case", "cases", "part", "way", "set", "result"),
        *("results", "following", "see", "new", "general", "other", "first", "second"),
        *("value", "values", "number", "use", "used", "example", "examples", "file"),
        *("files", "data", "information", "note", "default", "time", "name", "names"),
    ]
)


def _generic(phrase: str) -> bool:
    words = phrase.split()
    return len(words) == 1 and words[0] in GENERIC_THEMES


def executive_summary(question: str, analyses: list[dict], themes: list[dict]) -> str:
    """The direct answer first, one line for each part of the question (the best passage,
    or "Not found in these documents" when no document read covers what the part asks
    about), then the supporting passages best first, each with its document; then which
    documents were read and what they share."""
    if not analyses:
        return "No document was relevant enough to analyse."
    asked = answering.read_question(question)
    pieces = answering.parts(question)
    best = [
        (title, item)
        for title, item in best_answers(analyses)
        if not _uncovered(pieces, analyses, title, item)
    ]
    lines = []
    found_parts = {item.get("part", 0) for _, item in best}
    if best and answering.coverage(asked, [item for _, item in best]) >= MIN_COVERAGE:
        lines.append("**Answer.**")
        for part in range(len(pieces)):
            first = next(((t, i) for t, i in best if i.get("part", 0) == part), None)
            if first:
                lines.append(direct_line(*first))
            else:
                lines.append(f"- {NOT_FOUND}: “{pieces[part]}”")
        supporting = [pair for pair in best if pair[1] not in _firsts(best)]
        if supporting:
            lines.append("\nSupporting passages, best first:")
            lines.extend(answer_line(title, item) for title, item in supporting)
        numbers = list(dict.fromkeys(n for _, item in best for n in item["numbers"]))
        if asked.wants_numbers and numbers:
            lines.append(f"\nNumbers stated: {', '.join(numbers[:12])}.")
    else:
        found_parts = set()
        lines.append(
            f"**{NOT_FOUND}.** No passage of the documents read covers what “{question}” "
            "asks about."
        )
        related = best_answers(analyses, limit=3)
        if related:
            lines.append("\nRelated passages (the nearest found, not the answer):")
            lines.extend(answer_line(title, item, "Related") for title, item in related)
    del found_parts
    count = len(analyses)
    ordered = ", ".join(f"“{a['title']}” ({a['score']:.2f})" for a in analyses[:3])
    lines.append(
        f"\n{count} document{'s' if count != 1 else ''} read for “{question}”; "
        f"the most relevant: {ordered}."
    )
    if themes:
        shared = "; ".join(f"{t['theme']} ({len(t['documents'])} documents)" for t in themes[:4])
        lines.append(f"\nThemes they share: {shared}.")
    return "\n".join(lines)


def _firsts(best: list[tuple[str, dict]]) -> list[dict]:
    seen, firsts = set(), []
    for _, item in best:
        if item.get("part", 0) not in seen:
            seen.add(item.get("part", 0))
            firsts.append(item)
    return firsts


def _uncovered(pieces: list[str], analyses: list[dict], title: str, item: dict) -> bool:
    """Whether the passage's document never mentions what the passage's part asks about."""
    part = item.get("part", 0)
    analysis = next((a for a in analyses if a["title"] == title), None)
    missing = (analysis or {}).get("missing") or []
    if part >= len(missing) or part >= len(pieces):
        return False
    # A part that asks for a figure ("how many", "which UID") is not answered by a
    # passage that states none.
    counts = answering.read_question(pieces[part]).forms & {"how_many", "measure"}
    if counts and not item["numbers"] and not item.get("direct"):
        return True
    return answering.uncovered(pieces[part], missing[part])


def direct_line(title: str, item: dict) -> str:
    """The answer to one part in a sentence of its own: a value computed from a table or
    a model's coefficients, or the best passage quoted."""
    quote = " ".join(item["quote"].split())
    if item.get("direct"):
        return f"- **{item['direct']}** From: “{quote}” — *{title}*"
    return f"- **“{quote}”** — *{title}*"


def answer_line(title: str, item: dict, label: str = "") -> str:
    quote = " ".join(item["quote"].split())
    prefix = f"{label}: " if label else ""
    if item["kind"] == "row":
        header = f" (columns: {item['context']})" if item.get("context") else ""
        return f"- {prefix}Table row{header}: “{quote}” — *{title}*"
    if item["kind"] == "list":
        return f"- {prefix}Lists: “{quote}” — *{title}*"
    if item["kind"] == "field":
        return f"- {prefix}Reads: “{quote}” — *{title}*"
    return f"- {prefix}States: “{quote}” — *{title}*"


def best_answers(analyses: list[dict], limit: int = 5) -> list[tuple[str, dict]]:
    """The strongest passages across documents for each part of the question: each
    document's best, then the next best, so one long document does not crowd out others."""

    # A passage is as strong as it answers, times how relevant its document is.
    def strength(analysis: dict, item: dict) -> float:
        return item["score"] * analysis["score"]

    best_score = max((a["score"] for a in analyses), default=0.0)
    pairs = [
        (a, item)
        for a in analyses
        if a["score"] >= MIN_RELATIVE_RELEVANCE * best_score
        for item in a.get("answers", [])
    ]
    top: dict[int, float] = {}
    for a, item in pairs:
        part = item.get("part", 0)
        top[part] = max(top.get(part, 0.0), strength(a, item))
    # A passage counts when it is at least half as strong as the best for its part.
    strong = [(a, item) for a, item in pairs if strength(a, item) >= top[item.get("part", 0)] / 2]
    ranked = sorted(strong, key=lambda pair: -strength(*pair) / top[pair[1].get("part", 0)])
    chosen: list[tuple[dict, dict]] = []
    for part in sorted(top):  # the best passage of every part first
        best = next((pair for pair in ranked if pair[1].get("part", 0) == part), None)
        if best:
            chosen.append(best)
    for pair in ranked:
        if len(chosen) >= limit:
            break
        if pair not in chosen:
            chosen.append(pair)
    chosen.sort(key=lambda pair: (pair[1].get("part", 0), -strength(*pair)))
    return [(a["title"], item) for a, item in chosen[:limit]]
