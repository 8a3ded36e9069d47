"""A deep dive into one document: sections, design, methods, results, limitations.

Everything is found in the text by documented patterns and returned with its position.
A field the text does not support stays empty and is listed in `unsupported`: nothing
is filled in by default.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from jobs.analysis.texts import answering, statistics
from jobs.analysis.texts.reviewing import fact_anchors
from jobs.analysis.texts.sentences import Span, is_heading, sentences, summarize, tokens
from jobs.analysis.texts.structure import is_rule, is_table_row
from jobs.analysis.texts.vocabulary import expand, stem

KNOWN_HEADINGS = (
    "abstract|summary|introduction|background|methods|materials and methods|methodology|"
    "study design|participants|results|findings|discussion|conclusions?|limitations|"
    "strengths and limitations|references|acknowledg(?:e)?ments|appendix"
)
# A heading is a Markdown "#" line, a line underlined with "===" or "---", a numbered
# title ("2.1 Methods": small section numbers, not a figure such as "159.01327"), a known
# section name, or a title in capitals of at least two words (a single capitalised word is
# as often a library's or a variable's name).
HEADING = re.compile(
    rf"^(?:#{{1,6}}\s+(?P<md>.+?)\s*#*"
    rf"|(?P<underlined>[^\n]{{2,80}}?)[ \t]*\n(?:={{3,}}|-{{3,}}|~{{3,}})[ \t]*(?=\n|$)"
    rf"|(?P<num>\d{{1,2}}(?:\.\d{{1,2}}){{0,3}}\.?\s+[A-Z][A-Za-z][^\n.:]{{1,80}})"
    rf"|(?P<known>(?:{KNOWN_HEADINGS}))\s*:?"
    rf"|(?P<caps>[A-Z][A-Z&\-]+(?:[ ,]+[A-Z][A-Z0-9&\-]*)+))[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
CAPS_WORDS = re.compile(r"^[A-Z][A-Z&\-]+(?:[ ,]+[A-Z][A-Z0-9&\-]*)+$")
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
    ("case-control study", r"case[- ]control (?:study|design|analysis)"),
    ("cross-sectional study", r"cross-sectional (?:study|survey|design|analysis|sample|data)"),
    ("qualitative study", r"qualitative (?:study|interviews?|analysis)"),
    ("simulation study", r"simulation stud(?:y|ies)|monte carlo (?:simulation|study|experiment)s?"),
    ("machine-learning model", r"machine[- ]learning model|neural network|random forest"),
    ("regression model", r"(?:mixed-effects |linear |logistic |cox )?regression model"),
    ("observational study", r"observational study"),
]
METHOD_CUES = re.compile(
    r"\b(?:we (?:enrolled|recruited|measured|searched|fitted|used|conducted|collected)|"
    r"participants|randomi[sz]ed|assigned|outcome|analys[ie]s|model|recorded|sample|"
    # How it was measured: the instrument and how often.
    r"measured (?:with|by|using|every|each|daily|weekly|monthly|hourly)|instrument|"
    r"questionnaire|surveyed|interviewed|sampled|estimated (?:by|with|using))\b",
    re.IGNORECASE,
)
LIMITATION_CUES = re.compile(
    r"\b(?:limitation|bias|confound|small sample|not generali[sz]|caution|cannot be "
    r"(?:excluded|ruled out)|self-reported|may not|"
    # A model's own warnings: "the condition number is large… might indicate that there
    # are strong multicollinearity", "the design matrix is ill-conditioned".
    r"multicollinearity|collinear|ill-conditioned|numerical problems|might indicate|"
    r"condition number is large|"
    r"may suffer|should be interpreted|warning|caveat)\w*",
    re.IGNORECASE,
)
# A regression summary's lines that say how the model was fitted.
MODEL_LINE = re.compile(
    r"^\s*(?:Dep\. Variable|Model|Method|Covariance Type|Model Family|Link Function|"
    r"Estimator|Distribution)\s*:\s+\S",
    re.IGNORECASE | re.MULTILINE,
)
MODEL_NAMES = re.compile(
    r"\b(?:OLS|WLS|GLS|GLM|Logit|Probit|Poisson|Negative Binomial|QuantReg|MNLogit|"
    r"Cox|Tobit|Mixed ?LM|RLM|Least Squares|MLE|IRLS)\b"
)
UNITS = (
    # A rate first: "deaths per 100,000 people", "per year".
    r"(?:[a-z\-]+ )?per (?:\d[\d,]* )?[a-z\-]+|"
    r"%|per ?cent|percent|mg/dl|mmol/l|kg/m2|kg/m²|mg|kg|g|ml|l|mmhg|°c|°f|km|m|cm|mm|"
    r"years?|months?|weeks?|days?|hours?|minutes?|patients|participants|adults|"
    r"people|trials|person-years|points|events|\$|€|£|usd|eur|million|billion"
)
NUMBER_WITH_UNIT = re.compile(
    rf"(?<![\w.])(?P<prefix>[$€£])?(?P<value>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)"
    rf"(?:[ \t]?(?P<unit>(?:{UNITS}))(?![\w/]))?",
    re.IGNORECASE,
)
FIGURE = re.compile(r"\b(?:Figure|Fig\.)\s?\d+[a-z]?\b")
TABLE = re.compile(r"\bTable\s?\d+[a-z]?\b")


def find_sections(text: str) -> list[dict]:
    marks = []
    for match in HEADING.finditer(text):
        title = next(group for group in match.groups() if group).strip().strip("#").strip()
        line = text[match.start() : text.find("\n", match.start()) % (len(text) + 1)]
        if is_table_row(line) or is_rule(title):
            continue
        if match.group("caps") and (len(title.split()) > 8 or not CAPS_WORDS.match(title)):
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


def prose(spans: list[Span]) -> list[Span]:
    """Sentences a writer wrote as prose: not headings, table rows, list labels or the
    short lines of page furniture ("Cross-sectional dataset viewer")."""
    return [
        span
        for span in spans
        if not is_heading(span.text)
        and not is_table_row(span.text)
        and len(span.text.split()) >= 4
        and span.text.rstrip()[-1:] in ".!?;:)\"”'"
    ]


def study_design(text: str, sections: list[dict] | None = None) -> dict:
    """The design the methods describe: the first design named in a prose sentence of a
    methods-like section, else of the whole text; the most specific name wins."""
    spans = prose(sentences(text))
    methods = [
        span
        for section in sections or []
        if re.search(r"method|design|participants|data", section["title"], re.IGNORECASE)
        for span in spans
        if section["start"] <= span.start < section["end"]
    ]
    for candidates in (methods, spans):
        for name, pattern in DESIGNS:
            for span in candidates:
                if re.search(pattern, span.text, re.IGNORECASE):
                    return {"value": name, "supported": True, "quote": span.as_dict()}
    # A model's printed summary states its design in its model lines ("Model: OLS").
    for span in model_lines(text):
        named = MODEL_NAMES.search(span.text)
        if named and re.match(r"\s*Model\b", span.text, re.IGNORECASE):
            value = f"regression model ({named.group()})"
            return {"value": value, "supported": True, "quote": span.as_dict()}
    return {"value": None, "supported": False, "quote": None}


def model_lines(text: str) -> list[Span]:
    """The "Model: OLS", "Method: Least Squares" pairs of a regression summary, each its
    own span: the left column of a two-column line, up to the next label."""
    found = []
    for match in MODEL_LINE.finditer(text):
        line_end = text.find("\n", match.start())
        line_end = len(text) if line_end < 0 else line_end
        line = text[match.start() : line_end]
        # The pair ends where the next column's label begins (two spaces, then a word).
        value = line.index(":") + 1
        value += len(line[value:]) - len(line[value:].lstrip())
        cut = re.search(r"\S(?: {2,}|\t)[A-Za-z(][^:]{0,30}:", line[value:])
        end = match.start() + (value + cut.start() + 1 if cut else len(line.rstrip()))
        start = match.start() + len(line) - len(line.lstrip())
        found.append(Span(text[start:end], start, end))
    return found


def cue_sentences(text: str, sections, section_pattern: str, cues: re.Pattern, limit: int):
    found = section_text(text, sections, section_pattern)
    if found:
        body, offset = found
        spans = [s for s in sentences(body) if not is_heading(s.text)]
        return shifted(spans[:limit], offset)
    spans = [
        s
        for s in sentences(text)
        if not is_heading(s.text) and not is_table_row(s.text) and cues.search(s.text)
    ]
    return [s.as_dict() for s in spans[:limit]]


def methods_of(text: str, sections: list[dict]) -> list[dict]:
    """The methods section's sentences, else the sentences that state a method, and a
    regression summary's model lines (the model, how it was fitted, its covariance)."""
    found = cue_sentences(text, sections, r"method|design|participants", METHOD_CUES, 6)
    lines = [span.as_dict() for span in model_lines(text)]
    taken = {item["start"] for item in found}
    return found + [item for item in lines if item["start"] not in taken][:6]


def matches(pattern: re.Pattern, text: str) -> list[dict]:
    seen, found = set(), []
    for match in pattern.finditer(text):
        key = match.group().strip()
        if key in seen:
            continue
        seen.add(key)
        found.append({"text": key, "start": match.start(), "end": match.end()})
    return found


def sentence_at(spans: list[Span], position: int) -> Span | None:
    index = bisect_right([span.start for span in spans], position) - 1
    if index >= 0 and spans[index].start <= position < spans[index].end:
        return spans[index]
    return None


def numbers_with_units(text: str, objective: str = "") -> list[dict]:
    """Numbers with a unit or a rate ("4.2 per 1,000 person-years"), those in sentences
    about the objective first; none from headings or page furniture."""
    spans = sentences(text)
    starts = [span.start for span in spans]
    wanted = set(stem(tokens(objective)))
    wanted |= set(expand(list(wanted)))
    found, seen = [], set()
    for match in NUMBER_WITH_UNIT.finditer(text):
        unit = " ".join(part for part in (match.group("prefix"), match.group("unit")) if part)
        if not unit:
            continue
        value = match.group("value")
        key = (value, unit.lower())
        if key in seen:
            continue
        index = bisect_right(starts, match.start()) - 1
        quote = spans[index] if index >= 0 and match.start() < spans[index].end else None
        if quote is not None and is_heading(quote.text) and not is_table_row(quote.text):
            continue
        seen.add(key)
        relevance = len(wanted.intersection(stem(tokens(quote.text)))) if quote else 0
        found.append(
            {
                "value": value,
                "unit": unit,
                "text": match.group().strip(),
                "quote": quote.text if quote else match.group(),
                "start": match.start(),
                "end": match.end(),
                "relevance": relevance,
            }
        )
    return sorted(found, key=lambda item: (-item["relevance"], item["start"]))


# The analysis in steps. Each reads the text, the objective and what the steps before it
# found (the sections), and gives its own fields.


def sections_step(text: str, objective: str, found: dict) -> dict:
    return {"sections": find_sections(text)}


def design_step(text: str, objective: str, found: dict) -> dict:
    return {"study_design": study_design(text, found["sections"])}


def methods_step(text: str, objective: str, found: dict) -> dict:
    return {"methods": methods_of(text, found["sections"])}


def results_step(text: str, objective: str, found: dict) -> dict:
    return {
        "key_results": {
            "numbers_with_units": numbers_with_units(text, objective),
            "p_values": statistics.p_values(text),
            "confidence_intervals": statistics.intervals(text),
            "coefficients": statistics.coefficient_rows(text),
            "model_statistics": (
                statistics.model_statistics(text) + statistics.prose_statistics(text)
            ),
            "figures": matches(FIGURE, text),
            "tables": matches(TABLE, text),
        }
    }


def limitations_step(text: str, objective: str, found: dict) -> dict:
    return {
        "limitations": cue_sentences(text, found["sections"], r"limitation", LIMITATION_CUES, 6)
    }


def anchors_step(text: str, objective: str, found: dict) -> dict:
    """The passages that answer the objective, and the sentences that anchor the text's
    facts: the answers' sentences first, then other facts, eight in all."""
    answers = answering.answer(objective, text, 4)
    anchors = [
        {"claim": a["claim"], "quote": a["quote"], "start": a["start"], "end": a["end"]}
        for a in answers
        if a["kind"] == "sentence"
    ]
    for item in fact_anchors(text, [objective], 8):
        if len(anchors) < 8 and all(a["start"] != item["start"] for a in anchors):
            anchors.append(item)
    return {"answers": answers, "anchors": anchors}


def summary_step(text: str, objective: str, found: dict) -> dict:
    return {"summary": [span.as_dict() for span in summarize(text, k=4, focus=[objective])]}


@dataclass(frozen=True)
class Step:
    """One part of the analysis, which a job saves on its own (a checkpoint): a job
    stopped midway keeps the parts it finished, and a resumed one does only the rest.
    A step's fields hold positions and the sentences they quote, never the text again."""

    key: str
    stage: str
    find: Callable[[str, str, dict], dict]
    # How much of its stage is done when the step begins.
    start: float = 0.0


STEPS = (
    Step("sections", "sectioning", sections_step),
    Step("design", "design", design_step),
    Step("methods", "methods", methods_step),
    Step("results", "results", results_step),
    Step("limitations", "limitations", limitations_step),
    Step("anchors", "anchoring", anchors_step),
    Step("summary", "anchoring", summary_step, start=0.5),
)
# What a report shows, each part found by one step (the answers and the summary go into
# its overview), in the order the steps find them.
PARTS = ("sections", "study_design", "methods", "key_results", "limitations", "anchors")
# The key results in a fixed order, not a dict's: read back from its checkpoint (jsonb),
# a step's dict has its keys in another order, and a resumed job must write the same
# report as an uninterrupted one.
KEY_RESULTS = (
    "numbers_with_units", "p_values", "confidence_intervals", "coefficients",
    "model_statistics", "figures", "tables",
)  # fmt: skip


def analyse(
    text: str,
    objective: str,
    *,
    on_step: Callable[[str, float], None] | None = None,
    keep: Callable[[str, Callable[[], dict]], dict] | None = None,
) -> dict:
    """Every step in turn, then the report of what they found.

    `keep(key, compute)`, when given, is where each step's fields come from: a job's
    checkpoint, saved by an earlier attempt or computed and saved now. `on_step(stage,
    fraction)` hears of the steps computed, not of those an earlier attempt saved.
    """

    def step(name: str, fraction: float = 0.0) -> None:
        if on_step:
            on_step(name, fraction)

    found: dict = {}
    split = False
    for current in STEPS:

        def compute(current: Step = current) -> dict:
            nonlocal split
            step(current.stage, current.start)
            if not split:
                # Splitting into sentences is the slow part of a long text; every step
                # after reads the cached split. Its progress is the first step's.
                sentences(text, on_progress=lambda f: step(current.stage, 0.9 * f))
                split = True
            return current.find(text, objective, found)

        found.update(keep(current.key, compute) if keep else compute())
    return assemble(found)


def assemble(found: dict) -> dict:
    """The report of the steps' fields: every part when every step ran, or the parts of
    the steps a stopped job finished. What a finished step did not find is listed in
    `unsupported`; what no step looked for is not."""
    # What each finished step found, under the name `unsupported` and `counts` give it,
    # in the report's order.
    found_by_name = {
        name: found[name]
        for name in ("sections", "study_design", "methods", "limitations", "anchors")
        if name in found
    }
    if "study_design" in found_by_name:
        found_by_name["study_design"] = found["study_design"]["value"]
    if "key_results" in found:
        for key in KEY_RESULTS:
            found_by_name[f"key_results.{key}"] = found["key_results"][key]
    # Coefficients and model statistics are there when the text is a model's output;
    # their absence elsewhere is no gap in the text.
    model_only = {"key_results.coefficients", "key_results.model_statistics"}
    return {
        **found,
        "unsupported": [
            name for name, value in found_by_name.items() if not value and name not in model_only
        ],
        # How many of each a page shows, so that a long list can be folded with its count.
        "counts": {
            name: len(value) for name, value in found_by_name.items() if name != "study_design"
        },
    }
