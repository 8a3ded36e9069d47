"""The quality set run offline: a review over all the documents for each question, scored
for answer recall (expected numbers and entities named in the executive summary) and anchor
precision (every quoted anchor a verbatim whole sentence of its document).

`python -m tests.analysis.texts.quality.evaluate` prints the figures for docs/quality.md.
"""

from __future__ import annotations

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


def documents() -> dict[str, tuple[str, str]]:
    """Each file's name mapped to its title and extracted text, as an upload stores them."""
    from jobs.analysis.texts.documents import extract

    found = {}
    for path in sorted((HERE / "documents").iterdir()):
        extracted = extract(path.name, path.read_bytes())
        found[path.name] = (extracted.title or path.stem, extracted.text)
    return found


def questions(name: str = "questions.yaml") -> list[dict]:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


def named(value: str, text: str) -> bool:
    """The number or name stands in the text as a token, not inside a longer number."""
    pattern = r"(?<![\w.])" + re.escape(value) + r"(?![\w]|\.\d)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def run_one(case: dict, docs: dict[str, tuple[str, str]]) -> Outcome:
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
    return Outcome(
        question=question,
        document=case["document"],
        numbers=case["numbers"],
        numbers_found=numbers_found,
        entities=case["entities"],
        entities_found=entities_found,
        anchors=anchors,
        whole_sentences=whole,
        top_document=names[ranked[0].index],
        summary=summary,
        misses=[
            x for x in case["numbers"] + case["entities"] if x not in numbers_found + entities_found
        ],
    )


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
    for name in ("questions.yaml", "heldout.yaml"):
        found, figures = evaluate(name)
        if "-v" in sys.argv:
            for o in found:
                print("###", o.question, "→", o.misses, "\n", o.summary, "\n")
        print(f"### {name}\n\n{report(found, figures)}\n")
