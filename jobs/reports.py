"""What the document kinds share: loading the owner's documents, streaming from the AI
provider into the job's stage message, and writing reports as Markdown."""

from __future__ import annotations

import json

from django.conf import settings

from jobs import ai
from jobs.context import JobContext, JobError
from jobs.kinds import Download
from jobs.models import Document

# Reviews and deep dives both download as their Markdown report and as the whole result.
REPORT_DOWNLOADS = {
    "md": Download(".md", "text/markdown; charset=utf-8", lambda result: result["markdown"]),
    "json": Download(
        ".json",
        "application/json",
        lambda result: json.dumps(result, indent=2, ensure_ascii=False),
    ),
}
# The most of one document sent to the model in a single request.
MAX_INPUT_CHARS = 60_000


def engine_name() -> str:
    return f"AI model {settings.AI_MODEL}" if ai.configured() else "offline analysis"


def load_documents(ctx: JobContext, ids: list[int]) -> list[Document]:
    """The job owner's documents, in the order chosen; a deleted one fails the job clearly."""
    found = {doc.pk: doc for doc in Document.objects.filter(owner_id=ctx.owner_id, pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise JobError(
            f"{len(missing)} of the chosen documents no longer exist (deleted after the job "
            "was started). Start the job again with the documents you have."
        )
    ctx.progress(
        1.0, f"Loaded {len(ids)} document(s), {sum(d.chars for d in found.values()):,} characters."
    )
    return [found[pk] for pk in ids]


def stream_into(ctx: JobContext, label: str, messages: list[dict]) -> str:
    """Ask the model, showing the answer arrive in the stage message as it streams."""

    def on_progress(chunks: int, text: str) -> None:
        ctx.message(f"{label}: {chunks} tokens received so far")

    def on_wait(seconds: float, attempt: int) -> None:
        ctx.message(f"{label}: rate-limited by the model, retrying in {seconds:.0f} s ({attempt})")

    return ai.complete(messages, on_progress=on_progress, on_wait=on_wait)


def ask(ctx: JobContext, label: str, system: str, user: str) -> str:
    """One model answer to a system prompt and a user message, streamed into the stage."""
    return stream_into(
        ctx, label, [{"role": "system", "content": system}, {"role": "user", "content": user}]
    )


def quote_line(anchor: dict, document: str | None = None) -> str:
    where = f"{document}, " if document else ""
    return f"> “{anchor['quote']}” ({where}characters {anchor['start']}–{anchor['end']})"


def review_markdown(result: dict) -> str:
    lines = [
        f"# Review: {result['question']}",
        "",
        f"Mode: {result['mode']} · engine: {result['engine']} · "
        f"key phrases: {', '.join(result['phrases']) or 'none'}",
        "",
    ]
    if result["executive_summary"]:
        lines += ["## Executive summary", "", result["executive_summary"], ""]
    else:
        lines += ["*Partial report: the job stopped before writing the summary.*", ""]
    if result["themes"]:
        lines += ["## Themes", ""]
        for theme in result["themes"]:
            lines.append(f"- **{theme['theme']}**: {', '.join(theme['documents'])}")
        lines.append("")
    lines += ["## Documents", ""]
    for analysis in result["documents"]:
        parts = ", ".join(f"{key} {value:.2f}" for key, value in analysis["components"].items())
        lines += [
            f"### {analysis['title']}",
            "",
            f"Relevance {analysis['score']:.2f} ({parts})",
            "",
            analysis["summary"],
            "",
            f"*Why relevant:* {analysis['why_relevant']}",
            "",
        ]
        for anchor in analysis["anchors"]:
            lines += [f"- {anchor['claim']}", "", quote_line(anchor, analysis["title"]), ""]
    if result["not_selected"]:
        lines += ["## Not analysed", ""]
        lines += [
            f"- {item['title']} (relevance {item['score']:.2f})" for item in result["not_selected"]
        ]
    return "\n".join(lines).rstrip() + "\n"


def deep_dive_markdown(result: dict) -> str:
    def spans(items: list[dict]) -> list[str]:
        return [f"- {item['text']}" for item in items] or ["*Not found in the text.*"]

    design = result["study_design"]
    results = result["key_results"]
    lines = [
        f"# Deep dive: {result['title']}",
        "",
        f"Objective: {result['objective']} · engine: {result['engine']}",
        "",
        "## Overview",
        "",
        result["overview"] or "*Not found in the text.*",
        "",
        "## Sections",
        "",
        *([f"- {s['title']}" for s in result["sections"]] or ["*No sections detected.*"]),
        "",
        "## Study design or model",
        "",
        design["value"] if design["value"] else "*Not stated in the text.*",
        "",
        "## Methods",
        "",
        *spans(result["methods"]),
        "",
        "## Key results",
        "",
    ]
    for key, label in (
        ("numbers_with_units", "Numbers with units"),
        ("p_values", "P-values"),
        ("confidence_intervals", "Confidence intervals"),
        ("figures", "Figures"),
        ("tables", "Tables"),
    ):
        found = results.get(key) or []
        values = [item.get("text") or f"{item['value']} {item['unit']}" for item in found]
        lines.append(f"- {label}: {', '.join(values) if values else '*none found*'}")
    lines += ["", "## Limitations", "", *spans(result["limitations"]), "", "## Fact anchors", ""]
    for anchor in result["anchors"]:
        lines += [f"- {anchor['claim']}", "", quote_line(anchor), ""]
    if result["unsupported"]:
        lines += ["", f"Not supported by the text: {', '.join(result['unsupported'])}."]
    return "\n".join(lines).rstrip() + "\n"
