"""The quality set run offline: a review over all the documents for each question, scored
for answer recall (expected numbers and entities named in the executive summary) and anchor
precision (every quoted anchor a verbatim whole sentence of its document).

`python -m tests.analysis.texts.quality.evaluate` prints the figures for docs/quality.md.

`open.yaml` asks its questions of the documents in `open/` (documentation, a
specification, regression output), split by a fixed hash of each question's id into a
tuning half and a held-out half, and scores beside the review a plain BM25 over 60-word
windows of the same texts, with no other logic: the baseline the answers must beat.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


@dataclass
class Outcome:
    question: str
    document: str
    numbers: list[str]
    numbers_found: list[str]
    entities: list[str]
    entities_found: list[str]
    anchors: int
    whole_sentences: int
    top_document: str
    summary: str = ""
    misses: list[str] = field(default_factory=list)
    case_id: str = ""
    # For a question no document answers: whether the answer said "Not found".
    abstained: bool = False
    verdict_found: bool = True
    baseline_found: list[str] = field(default_factory=list)
    baseline_verdict: bool = True

    @property
    def answerable(self) -> bool:
        return bool(self.document)

    @property
    def complete(self) -> bool:
        """Every expected figure and name in the answer (and the verdict, if one is asked)."""
        return self.answerable and not self.misses and self.verdict_found

    @property
    def baseline_complete(self) -> bool:
        expected = self.numbers + self.entities
        return (
            self.answerable and len(self.baseline_found) == len(expected) and self.baseline_verdict
        )


def documents(folder: str = "documents") -> dict[str, tuple[str, str]]:
    """Each file's name mapped to its title and extracted text, as an upload stores them."""
    from jobs.analysis.texts.documents import extract

    found = {}
    for path in sorted((HERE / folder).iterdir()):
        extracted = extract(path.name, path.read_bytes())
        found[path.name] = (extracted.title or path.stem, extracted.text)
    return found


def questions(name: str = "questions.yaml") -> list[dict]:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


def half(case: dict) -> str:
    """ "tuning" or "heldout", from a fixed hash of the question's id: chosen before any
    result was seen, and never by hand."""
    digest = int(hashlib.sha256(case["id"].encode()).hexdigest(), 16)
    return "heldout" if digest % 2 else "tuning"


NOT_FOUND = re.compile(r"not found", re.IGNORECASE)
VERDICT = {"No": re.compile(r"\bNo\b(?!\.)"), "Yes": re.compile(r"\bYes\b")}


def abstains(summary: str) -> bool:
    """The answer's first line says that no document answers."""
    first = next((line for line in summary.splitlines() if line.strip()), "")
    return bool(NOT_FOUND.search(first))


def baseline_windows(docs: dict[str, tuple[str, str]], size: int = 60, step: int = 30):
    """Every document cut into windows of `size` words, overlapping by half."""
    windows = []
    for _, text in docs.values():
        words = text.split()
        for start in range(0, max(len(words) - size // 2, 1), step):
            windows.append(" ".join(words[start : start + size]))
    return windows


class Baseline:
    """BM25 over 60-word windows: the top three windows are its answer."""

    def __init__(self, docs: dict[str, tuple[str, str]]):
        import bm25s

        self.windows = baseline_windows(docs)
        self.retriever = bm25s.BM25()
        self.retriever.index(
            bm25s.tokenize(self.windows, stopwords="en", show_progress=False),
            show_progress=False,
        )

    def answer(self, question: str, k: int = 3) -> str:
        import bm25s

        query = bm25s.tokenize([question], stopwords="en", show_progress=False)
        results, _ = self.retriever.retrieve(query, k=min(k, len(self.windows)),
                                             show_progress=False)  # fmt: skip
        return "\n".join(self.windows[int(i)] for i in results[0])


def named(value: str, text: str) -> bool:
    """The number or name stands in the text as a token, not inside a longer number."""
    pattern = r"(?<![\w.])" + re.escape(value) + r"(?![\w]|\.\d)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def run_one(
    case: dict, docs: dict[str, tuple[str, str]], baseline: Baseline | None = None
) -> Outcome:
    # Imported here so that the module runs as a script once Django is set up.
    from jobs.analysis.texts import ranking, reviewing
    from jobs.analysis.texts.sentences import key_phrases, sentences

    names = list(docs)
    titles = [docs[name][0] for name in names]
    texts = [docs[name][1] for name in names]
    question = case["question"]
    phrases = key_phrases(question, top=6)
    ranked = ranking.rank(question, phrases, texts)
    selected = ranking.select(ranked, "precision")
    analyses = [
        reviewing.analyse_document(question, phrases, titles[i.index], texts[i.index], i)
        for i in selected
    ]
    for analysis, item in zip(analyses, selected, strict=True):
        analysis["document_index"] = item.index
    themes = reviewing.themes(phrases, [(a["title"], texts[a["document_index"]]) for a in analyses])
    summary = reviewing.executive_summary(question, analyses, themes)
    anchors = whole = 0
    for analysis in analyses:
        text = texts[analysis["document_index"]]
        spans = {(s.start, s.end) for s in sentences(text)}
        for anchor in analysis["anchors"]:
            anchors += 1
            verbatim = text[anchor["start"] : anchor["end"]] == anchor["quote"]
            whole += verbatim and (anchor["start"], anchor["end"]) in spans
    flat = " ".join(summary.split())
    numbers_found = [n for n in case["numbers"] if named(n, flat)]
    entities_found = [e for e in case["entities"] if named(e, flat)]
    verdict = case.get("verdict")
    plain = baseline.answer(question) if baseline else ""
    return Outcome(
        case_id=case.get("id", ""),
        abstained=abstains(summary),
        verdict_found=not verdict or bool(VERDICT[verdict].search(answer_part(summary))),
        baseline_found=[x for x in case["numbers"] + case["entities"] if named(x, plain)],
        baseline_verdict=not verdict or bool(VERDICT[verdict].search(plain)),
        question=question,
        document=case["document"],
        numbers=case["numbers"],
        numbers_found=numbers_found,
        entities=case["entities"],
        entities_found=entities_found,
        anchors=anchors,
        whole_sentences=whole,
        top_document=names[ranked[0].index] if ranked else "",
        summary=summary,
        misses=[
            x for x in case["numbers"] + case["entities"] if x not in numbers_found + entities_found
        ],
    )


def answer_part(summary: str) -> str:
    """The summary up to the line that says which documents were read."""
    return re.split(r"\n\d+ documents? read for", summary)[0]


def evaluate_open(which: str) -> tuple[list[Outcome], dict[str, float]]:
    """The open set's `which` half ("tuning" or "heldout"), with the BM25 baseline."""
    docs = documents("open")
    baseline = Baseline(docs)
    cases = [case for case in questions("open.yaml") if half(case) == which]
    outcomes = [run_one({**case, "document": case["document"] or ""}, docs, baseline)
                for case in cases]  # fmt: skip
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    items = sum(len(o.numbers) + len(o.entities) for o in answerable)
    anchors = sum(o.anchors for o in outcomes)
    figures = {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "complete": sum(o.complete for o in answerable) / len(answerable),
        "items": sum(len(o.numbers_found) + len(o.entities_found) for o in answerable) / items,
        "not_found": sum(o.abstained for o in unanswerable) / len(unanswerable)
        if unanswerable
        else 1.0,
        "false_not_found": sum(o.abstained for o in answerable) / len(answerable),
        "anchor_precision": sum(o.whole_sentences for o in outcomes) / anchors if anchors else 1.0,
        "top_document": sum(o.top_document == o.document for o in answerable) / len(answerable),
        "baseline_complete": sum(o.baseline_complete for o in answerable) / len(answerable),
        "baseline_items": sum(len(o.baseline_found) for o in answerable) / items,
    }
    return outcomes, figures


def open_report(outcomes: list[Outcome], figures: dict[str, float], table: bool = True) -> str:
    lines = [
        f"- Questions: {figures['questions']} ({figures['answerable']} answerable, "
        f"{figures['unanswerable']} that no document answers)",
        f"- Answerable questions with every expected item in the answer: "
        f"{figures['complete']:.0%} (BM25 windows: {figures['baseline_complete']:.0%})",
        f"- Expected items named: {figures['items']:.0%} "
        f"(BM25 windows: {figures['baseline_items']:.0%})",
        f'- Unanswerable questions answered "Not found": {figures["not_found"]:.0%}',
        f'- Answerable questions answered "Not found": {figures["false_not_found"]:.0%}',
        f"- Anchors that are a verbatim whole sentence: {figures['anchor_precision']:.0%}",
        f"- Answerable questions whose document ranked first: {figures['top_document']:.0%}",
    ]
    if table:
        lines += ["", "| Question | Document | Right | Missed |", "| --- | --- | --- | --- |"]
        for o in outcomes:
            if o.answerable:
                right = "yes" if o.complete else "no"
                missed = ", ".join(o.misses + ([] if o.verdict_found else ["verdict"])) or "—"
            else:
                right = "yes" if o.abstained else "no"
                missed = "—" if o.abstained else "answered"
            lines.append(f"| {o.question} | {o.document or '(none)'} | {right} | {missed} |")
    return "\n".join(lines)


def evaluate(name: str = "questions.yaml") -> tuple[list[Outcome], dict[str, float]]:
    docs = documents()
    outcomes = [run_one(case, docs) for case in questions(name)]
    numbers = sum(len(o.numbers) for o in outcomes)
    entities = sum(len(o.entities) for o in outcomes)
    anchors = sum(o.anchors for o in outcomes)
    figures = {
        "questions": len(outcomes),
        "number_recall": sum(len(o.numbers_found) for o in outcomes) / numbers,
        "entity_recall": sum(len(o.entities_found) for o in outcomes) / entities
        if entities
        else 1.0,
        "anchor_precision": sum(o.whole_sentences for o in outcomes) / anchors if anchors else 1.0,
        "top_document": sum(o.top_document == o.document for o in outcomes) / len(outcomes),
    }
    return outcomes, figures


def report(outcomes: list[Outcome], figures: dict[str, float]) -> str:
    lines = [
        f"- Questions: {figures['questions']} over {len(documents())} documents",
        f"- Expected numbers named in the executive summary: {figures['number_recall']:.0%}",
        f"- Expected entities named in the executive summary: {figures['entity_recall']:.0%}",
        f"- Anchors that are a verbatim whole sentence: {figures['anchor_precision']:.0%}",
        f"- Questions whose document ranked first: {figures['top_document']:.0%}",
        "",
        "| Question | Document | Ranked first | Missed |",
        "| --- | --- | --- | --- |",
    ]
    for o in outcomes:
        missed = ", ".join(o.misses) or "—"
        first = "yes" if o.top_document == o.document else o.top_document
        lines.append(f"| {o.question} | {o.document} | {first} | {missed} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, str(HERE.parents[3] / "site"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    # `--heldout` prints the held-out half too: run it to report, never to tune.
    for name in ("questions.yaml", "heldout.yaml"):
        found, figures = evaluate(name)
        if "-v" in sys.argv:
            for o in found:
                print("###", o.question, "→", o.misses, "\n", o.summary, "\n")
        print(f"### {name}\n\n{report(found, figures)}\n")
    for which in ("tuning", "heldout") if "--heldout" in sys.argv else ("tuning",):
        found, figures = evaluate_open(which)
        if "-v" in sys.argv and which == "tuning":
            for o in found:
                print("###", o.question, "→", o.misses, "\n", o.summary, "\n")
        print(f"### open.yaml, {which} half\n\n{open_report(found, figures)}\n")
