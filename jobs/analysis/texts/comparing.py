"""Answers computed from a text's structure rather than read from one sentence: the row of
a table with the highest or lowest value in the column the question names, the term of a
coefficient table with the largest or smallest effect, and whether a term is significant
at the level the question states (or 5 %), from its p-value.

Each answer names the row it was computed from, quoted verbatim with its offsets, so the
reader sees the figures it rests on; nothing is computed where the text gives no table.
"""

from __future__ import annotations

import re

from jobs.analysis.texts import statistics
from jobs.analysis.texts.sentences import sentences, tokens
from jobs.analysis.texts.structure import CELL_SPLIT, is_rule, is_table_row
from jobs.analysis.texts.vocabulary import expand, stem

HIGHEST = re.compile(r"\b(?:highest|largest|biggest|greatest|strongest|most|maximum)\b", re.I)
LOWEST = re.compile(r"\b(?:lowest|smallest|weakest|least|minimum)\b", re.I)
SIGNIFICANT = re.compile(r"\bsignifican\w*", re.I)
YES_NO = re.compile(r"^\s*(?:is|are|was|were|does|do|did)\b", re.I)
# "at the 1% level", "at α = 0.01", "at the 0.1 level"
LEVEL = re.compile(
    r"\bat (?:the )?(?P<percent>\d+(?:\.\d+)?)\s?%|\b(?:α|alpha)\s*=?\s*(?P<alpha>0?\.\d+)"
    r"|\bat (?:the )?(?P<fraction>0?\.\d+) level",
    re.I,
)
# The model's constant is no effect of a variable.
CONSTANT = re.compile(r"^(?:const|constant|intercept|\(intercept\)|_cons)$", re.I)
# The strength of an effect is read from its test statistic when the question says so, or
# speaks of an effect; a "coefficient" or "estimate" is compared as stated.
BY_STATISTIC = re.compile(
    r"\b(?:[tz][- ]?(?:stat\w*|value|score)?|effect|impact|significan\w*)\b", re.I
)
BY_COEFFICIENT = re.compile(r"\b(?:coefficient|coef|estimate|beta|slope)\b", re.I)


def _value(cell: str | None) -> float | None:
    try:
        return float(str(cell).replace("−", "-"))
    except (TypeError, ValueError):
        return None


def computed(question: str, text: str) -> list[dict]:
    """Answers the question asks to compute from the text's coefficient tables: a
    superlative over the terms, or a yes/no verdict on one term's significance."""
    rows = [row for row in statistics.coefficient_rows(text) if not CONSTANT.match(row["term"])]
    if not rows:
        extreme = table_superlative(question, text)
        return [extreme] if extreme else []
    found = []
    verdict = significance(question, rows)
    if verdict:
        found.append(verdict)
    extreme = superlative(question, rows)
    if extreme:
        found.append(extreme)
    return found


def _answer(row: dict, direct: str) -> dict:
    return {
        "quote": row["quote"],
        "claim": direct,
        "direct": direct,
        "start": row["start"],
        "end": row["end"],
        "kind": "row",
        "context": "",
        "numbers": [row[key] for key in ("coef", "stat", "p") if key in row],
    }


def significance(question: str, rows: list[dict]) -> dict | None:
    """ "Is X significant?": yes or no from X's p-value against the stated level."""
    if not (SIGNIFICANT.search(question) and YES_NO.match(question)):
        return None
    asked = set(tokens(question))
    row = next((r for r in rows if "p" in r and set(tokens(r["term"])) <= asked), None)
    if row is None:
        return None
    match = LEVEL.search(question)
    if match and match.group("percent"):
        level = float(match.group("percent")) / 100
    elif match:
        level = float(match.group("alpha") or match.group("fraction"))
    else:
        level = 0.05
    p = _value(row["p"])
    if p is None:
        return None
    shown = f"{level:.0%}" if level * 100 == int(level * 100) else str(level)
    if p < level:
        direct = f"Yes: {row['term']} is significant at the {shown} level (p = {row['p']})."
    else:
        direct = f"No: {row['term']} is not significant at the {shown} level (p = {row['p']})."
    return _answer(row, direct)


def superlative(question: str, rows: list[dict]) -> dict | None:
    """ "Which variable has the largest effect": the term with the largest |t| or |z|
    (or |coefficient| without a statistic); "the largest coefficient": the largest value."""
    highest, lowest = HIGHEST.search(question), LOWEST.search(question)
    if not (highest or lowest) or not re.search(r"\b(?:which|what)\b", question, re.I):
        return None
    by_coefficient = BY_COEFFICIENT.search(question) and not re.search(
        r"\b(?:[tz][- ]?stat\w*|effect)\b", question, re.I
    )
    key, absolute = ("coef", False) if by_coefficient else ("stat", True)
    if not by_coefficient and not BY_STATISTIC.search(question):
        return None
    if key == "stat" and not any("stat" in row for row in rows):
        key = "coef"
    scored = [(row, _value(row.get(key))) for row in rows]
    scored = [(row, value) for row, value in scored if value is not None]
    if not scored:
        return None

    def measure(pair: tuple[dict, float]) -> float:
        return abs(pair[1]) if absolute else pair[1]

    want_high = bool(highest) and not (lowest and lowest.start() < highest.start())
    row, _ = max(scored, key=measure) if want_high else min(scored, key=measure)
    word = "largest" if want_high else "smallest"
    what = {"coef": "coefficient", "stat": "test statistic"}[key]
    shown = f"|{what}|" if absolute else what
    figures = ", ".join(f"{name} {row[k]}" for name, k in (("coef", "coef"), ("t/z", "stat"),
                                                          ("p", "p")) if k in row)  # fmt: skip
    direct = f"{row['term']} has the {word} {shown} ({figures})."
    return _answer(row, direct)


def _cells(line: str) -> list[tuple[str, int]]:
    """A row's cells with their offsets in the line."""
    stripped = line.strip()
    if stripped.startswith("|"):
        found, position = [], line.index("|") + 1
        for cell in line.strip().strip("|").split("|"):
            offset = line.index(cell, position) if cell else position
            if cell.strip():
                found.append((cell.strip(), offset + len(cell) - len(cell.lstrip())))
            position = offset + len(cell) + 1
        return found
    found, position = [], 0
    for cell in CELL_SPLIT.split(line):
        offset = line.index(cell, position)
        if cell.strip():
            found.append((cell.strip(), offset))
        position = offset + len(cell)
    return found


def _number(cell: str) -> float | None:
    return _value(cell.strip().strip("*`").replace(",", "").rstrip("%").strip())


def tables(text: str) -> list[tuple[list[str], list[tuple[list[str], object]]]]:
    """Each table of the text: its header's cells, and its rows' cells with their span.
    A table is a run of rows with no blank line between them, its first row the header."""
    found, header, rows, last = [], None, [], -1
    for span in sentences(text):
        if is_rule(span.text):
            continue
        gap = last >= 0 and "\n\n" in text[last : span.start].replace(" ", "")
        if not is_table_row(span.text) or gap:
            if header and rows:
                found.append((header, rows))
            header, rows = None, []
            if not is_table_row(span.text):
                last = -1
                continue
        cells = [cell for cell, _ in _cells(span.text)]
        if header is None:
            header = cells
        else:
            rows.append((cells, span))
        last = span.end
    if header and rows:
        found.append((header, rows))
    return found


def table_superlative(question: str, text: str) -> dict | None:
    """ "Which area had the highest share": the row with the highest (lowest) value in the
    column whose header the question names, or in a table's only numeric column."""
    highest, lowest = HIGHEST.search(question), LOWEST.search(question)
    if not (highest or lowest) or not re.search(r"\b(?:which|what|who)\b", question, re.I):
        return None
    asked = set(stem(tokens(question)))
    asked |= set(expand(list(asked)))
    best = None
    for header, rows in tables(text):
        width = len(header)
        numeric = [
            column
            for column in range(1, width)
            if sum(
                1 for cells, _ in rows if column < len(cells) and _number(cells[column]) is not None
            )
            >= max(2, len(rows) // 2)
        ]
        named = [c for c in numeric if asked & set(stem(tokens(header[c])))]
        if named:
            column = named[0]
        elif len(numeric) == 1 and asked & set(stem(tokens(" ".join(header)))):
            column = numeric[0]
        else:
            continue
        values = [
            (_number(cells[column]), cells, span)
            for cells, span in rows
            if len(cells) == width and _number(cells[column]) is not None
        ]
        if len(values) < 2:
            continue
        want_high = bool(highest) and not (lowest and lowest.start() < highest.start())
        pick = max if want_high else min
        value, cells, span = pick(values, key=lambda item: item[0])
        overlap = len(asked & set(stem(tokens(" ".join(header)))))
        if best is None or overlap > best[0]:
            word = "highest" if want_high else "lowest"
            direct = f"{cells[0]} has the {word} {header[column]} ({cells[column]})."
            best = (overlap, {
                "quote": span.text, "claim": direct, "direct": direct, "start": span.start,
                "end": span.end, "kind": "row", "context": " | ".join(header),
                "numbers": [cells[column]],
            })  # fmt: skip
    return best[1] if best else None
