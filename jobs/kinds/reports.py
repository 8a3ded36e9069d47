"""Reviews and deep dives as Markdown reports, and the downloads both offer."""

from __future__ import annotations

import json

from jobs.engine.registry import Download

# Reviews and deep dives both download as their Markdown report and as the whole result.
REPORT_DOWNLOADS = {
    "md": Download(".md", "text/markdown; charset=utf-8", lambda result: result["markdown"]),
    "json": Download(
        ".json",
        "application/json",
        lambda result: json.dumps(result, indent=2, ensure_ascii=False),
    ),
}


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
        cited = result.get("citations") or {}
        used = list(dict.fromkeys(p for s in cited.get("sentences", []) for p in s["passages"]))
        if used:
            lines += ["Passages cited:", ""]
            for pid in used:
                passage = cited["passages"][pid]
                lines.append(f"- [{pid}] “{passage['quote']}” ({passage['document']})")
            lines.append("")
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


NOT_REACHED = "*Not reached: the job stopped before this step.*"


def deep_dive_markdown(result: dict) -> str:
    """The report; a partial one (`not_reached` names the parts the job did not get to)
    says so where each missing part would be."""
    missing = set(result.get("not_reached", []))

    def spans(name: str) -> list[str]:
        if name in missing:
            return [NOT_REACHED]
        return [f"- {item['text']}" for item in result[name]] or ["*Not found in the text.*"]

    lines = [f"# Deep dive: {result['title']}", ""]
    if missing:
        lines += ["*Partial report: the job stopped before it finished.*", ""]
    lines += [
        f"Objective: {result['objective']} · engine: {result['engine']}",
        "",
        "## Overview",
        "",
        result["overview"]
        or (NOT_REACHED if "overview" in missing else "*Not found in the text.*"),
        "",
        "## Sections",
        "",
    ]
    if "sections" in missing:
        lines.append(NOT_REACHED)
    else:
        lines += [f"- {s['title']}" for s in result["sections"]] or ["*No sections detected.*"]
    lines += ["", "## Study design or model", ""]
    if "study_design" in missing:
        lines.append(NOT_REACHED)
    else:
        lines.append(result["study_design"]["value"] or "*Not stated in the text.*")
    lines += ["", "## Methods", "", *spans("methods"), "", "## Key results", ""]
    if "key_results" in missing:
        lines.append(NOT_REACHED)
    else:
        lines += key_results_markdown(result["key_results"])
    lines += ["", "## Limitations", "", *spans("limitations"), "", "## Fact anchors", ""]
    if "anchors" in missing:
        lines.append(NOT_REACHED)
    for anchor in result.get("anchors", []):
        lines += [f"- {anchor['claim']}", "", quote_line(anchor), ""]
    if result["unsupported"]:
        lines += ["", f"Not supported by the text: {', '.join(result['unsupported'])}."]
    return "\n".join(lines).rstrip() + "\n"


def key_results_markdown(results: dict) -> list[str]:
    lines = []
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
    if results.get("coefficients"):
        lines += ["", "| Term | Coefficient | SE | z/t | P | CI low | CI high |"]
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for row in results["coefficients"]:
            cells = [row.get(k, "") for k in ("coef", "se", "stat", "p", "ci_low", "ci_high")]
            lines.append(f"| {row['term']} | " + " | ".join(cells) + " |")
    if results.get("model_statistics"):
        found = ", ".join(
            f"{item['label']} {item['value']}" for item in results["model_statistics"]
        )
        lines += ["", f"- Model statistics: {found}"]
    return lines
