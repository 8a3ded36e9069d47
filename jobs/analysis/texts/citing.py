"""Holding a model to the text: the passages it is given, each with an id, and its answer
kept only where a sentence cites one of them.

The model sees numbered passages ("[P3]") quoted from the documents and must end every
sentence with the ids it rests on. A sentence that cites nothing, or only ids it was not
given, is dropped, so each sentence left on the page shows the passage that backs it.
"""

from __future__ import annotations

import re

CITATION = re.compile(r"\[(P\d+(?:\s*[,;]\s*P\d+)*)\]")
# Sentence ends inside a line of Markdown; a citation after the full stop stays with it.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
LEADING_CITATION = re.compile(r"^(\[P\d+(?:\s*[,;]\s*P\d+)*\])\s*")
INSTRUCTIONS = (
    "Every sentence you write must end with the ids of the passages it rests on, in "
    "square brackets, such as [P2] or [P1, P4]. Use only the passages given; a sentence "
    "without an id will be deleted. Name the entities and numbers the question asks for."
)


def passages_of(analyses: list[dict], per_document: int = 6) -> list[dict]:
    """The passages a model may cite: each document's answering passages, then its fact
    anchors, numbered P1, P2… in the order given."""
    found: list[dict] = []
    for analysis in analyses:
        items = [*analysis.get("answers", []), *analysis.get("anchors", [])]
        seen: set[int] = set()
        for item in items:
            if item["start"] in seen or len(seen) >= per_document:
                continue
            seen.add(item["start"])
            found.append(
                {
                    "id": f"P{len(found) + 1}",
                    "document": analysis.get("title", ""),
                    "document_id": analysis.get("document_id"),
                    "quote": " ".join(item["quote"].split()),
                    "start": item["start"],
                    "end": item["end"],
                    # A value computed from the passage (a table's highest row, a verdict
                    # from a p-value): the model states it and cites the passage.
                    **({"computed": item["direct"]} if item.get("direct") else {}),
                }
            )
    return found


def prompt_input(question: str, passages: list[dict], extra: str = "") -> str:
    lines = [f"Question: {question}", "", "Passages:"]
    lines += [
        f"[{p['id']}] ({p['document']}) {p['quote']}"
        + (f" (computed from this passage: {p['computed']})" if p.get("computed") else "")
        for p in passages
    ]
    if extra:
        lines += ["", extra]
    return "\n".join(lines)


def split_sentences(answer: str) -> list[str]:
    """The model's answer as sentences: by line, then by sentence end within a line."""
    found: list[str] = []
    for line in answer.splitlines():
        for piece in SENTENCE_END.split(line.strip()):
            piece = piece.strip()
            # A citation placed after the full stop belongs to the sentence before it.
            leading = LEADING_CITATION.match(piece)
            if found and leading:
                found[-1] = f"{found[-1]} {leading.group(1)}"
                piece = piece[leading.end() :]
            if piece:
                found.append(piece)
    return found


def keep_cited(answer: str, passages: list[dict]) -> dict:
    """The sentences of `answer` that cite a passage it was given, each with the ids it
    cites, and how many were dropped."""
    known = {p["id"] for p in passages}
    kept, dropped = [], 0
    for sentence in split_sentences(answer):
        ids = [
            pid.strip()
            for group in CITATION.findall(sentence)
            for pid in re.split(r"[,;]", group)
            if pid.strip() in known
        ]
        if not ids:
            dropped += 1
            continue
        kept.append({"text": sentence, "passages": list(dict.fromkeys(ids))})
    return {
        "sentences": kept,
        "dropped": dropped,
        "passages": {p["id"]: p for p in passages},
    }


def as_markdown(cited: dict) -> str:
    return "\n\n".join(item["text"] for item in cited["sentences"])
