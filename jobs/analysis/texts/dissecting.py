"""A deep dive into one document: sections, design, methods, results, limitations.

Everything is found in the text by documented patterns and returned with its position.
A field the text does not support stays empty and is listed in `unsupported`: nothing
is filled in by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jobs.analysis.texts.reviewing import fact_anchors
from jobs.analysis.texts.sentences import Span, is_heading, sentences, summarize

KNOWN_HEADINGS = (
    "abstract|summary|introduction|background|methods|materials and methods|methodology|"
    "study design|participants|results|findings|discussion|conclusions?|limitations|"
    "strengths and limitations|references|acknowledg(?:e)?ments|appendix"
)
HEADING = re.compile(
    rf"^(?:#{{1,6}}\s+(?P<md>.+?)\s*#*"
    rf"|(?P<num>\d+(?:\.\d+)*\.?\s+[A-Z][^\n.]{{2,80}})"
    rf"|(?P<known>(?:{KNOWN_HEADINGS}))\s*:?"
    rf"|(?P<caps>[A-Z][A-Z0-9 ,&\-]{{3,60}}))$",
    re.MULTILINE | re.IGNORECASE,
)
# Most specific first: the first design named in the text wins.
DESIGNS = [
    ("systematic review and meta-analysis", r"systematic review and meta-analys[ie]s"),
    ("meta-analysis", r"meta-analys[ie]s"),
    ("systematic review", r"systematic review"),
    ("randomized controlled trial", r"randomi[sz]ed[\w\s,\-]{0,40}?(?:controlled )?trial"),
    ("non-randomized trial", r"non-randomi[sz]ed trial|single-arm trial"),
    ("prospective cohort study", r"prospective cohort"),
    ("retrospective cohort study", r"retrospective cohort"),
    ("cohort study", r"cohort study"),
    ("case-control study", r"case[- ]control"),
    ("cross-sectional study", r"cross-sectional"),
    ("qualitative study", r"qualitative (?:study|interviews?|analysis)"),
    ("simulation study", r"simulation stud(?:y|ies)|monte carlo"),
    ("machine-learning model", r"machine[- ]learning model|neural network|random forest"),
    ("regression model", r"(?:mixed-effects |linear |logistic |cox )?regression model"),
    ("observational study", r"observational study"),
]
METHOD_CUES = re.compile(
    r"\b(?:we (?:enrolled|recruited|measured|searched|fitted|used|conducted|collected)|"
    r"participants|randomi[sz]ed|assigned|outcome|analys[ie]s|model|recorded|sample)\b",
    re.IGNORECASE,
)
LIMITATION_CUES = re.compile(
    r"\b(?:limitation|bias|confound|small sample|not generali[sz]|caution|cannot be "
    r"(?:excluded|ruled out)|self-reported|may not)\w*",
    re.IGNORECASE,
)
UNITS = (
    r"%|percent|mg/dl|mmol/l|kg/m2|kg/m²|mg|kg|g|ml|l|mmhg|°c|°f|km|m|cm|mm|"
    r"years?|months?|weeks?|days?|hours?|minutes?|patients|participants|adults|"
    r"people|trials|person-years|points|events|\$|€|£|usd|eur|million|billion"
)
NUMBER_WITH_UNIT = re.compile(
    rf"(?<![\w.])(?P<prefix>[$€£])?(?P<value>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)"
    rf"(?:\s?(?P<unit>(?:{UNITS}))(?![\w/]))?",
    re.IGNORECASE,
)
P_VALUE = re.compile(r"\bp\s*(?:[<>=≤≥]|&lt;|&gt;)\s*0?\.\d+", re.IGNORECASE)
CONFIDENCE_INTERVAL = re.compile(
    r"\b\d{2}\s?%\s?(?:CI|confidence interval)[,:]?\s*\[?\(?-?\d+(?:\.\d+)?"
    r"\s?(?:to|–|—|-|,)\s?-?\d+(?:\.\d+)?\)?\]?",
    re.IGNORECASE,
)
FIGURE = re.compile(r"\b(?:Figure|Fig\.)\s?\d+[a-z]?\b")
TABLE = re.compile(r"\bTable\s?\d+[a-z]?\b")
STEPS = ("sectioning", "design", "methods", "results", "limitations", "anchoring")


def find_sections(text: str) -> list[dict]:
    marks = []
    for match in HEADING.finditer(text):
        title = next(group for group in match.groups() if group).strip().strip("#").strip()
        if match.group("caps") and len(title.split()) > 8:
            continue
        marks.append((match.start(), title))
    return [
        {
            "title": title,
            "start": start,
            "end": marks[i + 1][0] if i + 1 < len(marks) else len(text),
        }
        for i, (start, title) in enumerate(marks)
    ]


def section_text(text: str, sections: list[dict], pattern: str) -> tuple[str, int] | None:
    for section in sections:
        if re.search(pattern, section["title"], re.IGNORECASE):
            return text[section["start"] : section["end"]], section["start"]
    return None


def shifted(spans: list[Span], offset: int) -> list[dict]:
    return [{"text": s.text, "start": s.start + offset, "end": s.end + offset} for s in spans]


def study_design(text: str) -> dict:
    for name, pattern in DESIGNS:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            quote = next((s for s in sentences(text) if s.start <= match.start() < s.end), None)
            return {
                "value": name,
                "supported": True,
                "quote": quote.as_dict() if quote else None,
            }
    return {"value": None, "supported": False, "quote": None}


def cue_sentences(text: str, sections, section_pattern: str, cues: re.Pattern, limit: int):
    found = section_text(text, sections, section_pattern)
    if found:
        body, offset = found
        spans = [s for s in sentences(body) if not is_heading(s.text)]
        return shifted(spans[:limit], offset)
    spans = [s for s in sentences(text) if not is_heading(s.text) and cues.search(s.text)]
    return [s.as_dict() for s in spans[:limit]]


def matches(pattern: re.Pattern, text: str) -> list[dict]:
    seen, found = set(), []
    for match in pattern.finditer(text):
        key = match.group().strip()
        if key in seen:
            continue
        seen.add(key)
        found.append({"text": key, "start": match.start(), "end": match.end()})
    return found


def numbers_with_units(text: str) -> list[dict]:
    spans = sentences(text)
    found, seen = [], set()
    for match in NUMBER_WITH_UNIT.finditer(text):
        unit = " ".join(part for part in (match.group("prefix"), match.group("unit")) if part)
        if not unit:
            continue
        value = match.group("value")
        key = (value, unit.lower())
        if key in seen:
            continue
        seen.add(key)
        quote = next((s for s in spans if s.start <= match.start() < s.end), None)
        found.append(
            {
                "value": value,
                "unit": unit,
                "text": match.group().strip(),
                "quote": quote.text if quote else match.group(),
                "start": match.start(),
                "end": match.end(),
            }
        )
    return found


def analyse(
    text: str, objective: str, *, on_step: Callable[[str, float], None] | None = None
) -> dict:
    def step(name: str, fraction: float = 0.0) -> None:
        if on_step:
            on_step(name, fraction)

    step("sectioning")
    sections = find_sections(text)
    step("design")
    design = study_design(text)
    step("methods")
    methods = cue_sentences(text, sections, r"method|design|participants", METHOD_CUES, 6)
    step("results")
    key_results = {
        "numbers_with_units": numbers_with_units(text),
        "p_values": matches(P_VALUE, text),
        "confidence_intervals": matches(CONFIDENCE_INTERVAL, text),
        "figures": matches(FIGURE, text),
        "tables": matches(TABLE, text),
    }
    step("limitations")
    limitations = cue_sentences(text, sections, r"limitation", LIMITATION_CUES, 6)
    step("anchoring")
    anchors = fact_anchors(text, [objective], 8)
    summary = [span.as_dict() for span in summarize(text, k=4, focus=[objective])]
    step("anchoring", 1.0)
    result = {
        "sections": sections,
        "study_design": design,
        "methods": methods,
        "key_results": key_results,
        "limitations": limitations,
        "anchors": anchors,
        "summary": summary,
    }
    unsupported = [
        name
        for name, value in (
            ("sections", sections),
            ("study_design", design["value"]),
            ("methods", methods),
            ("limitations", limitations),
            ("anchors", anchors),
            *((f"key_results.{key}", items) for key, items in key_results.items()),
        )
        if not value
    ]
    result["unsupported"] = unsupported
    return result
