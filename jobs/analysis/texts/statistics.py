"""Statistics read where a text states them: coefficient tables of regression summaries
(statsmodels, R, Stata-like layouts), their "label: value" model lines (R², N, LLR
p-value, F), and prose ("p = 0.03", "95% CI 0.3 to 0.9", "[0.292, 4.465]", "n = 442").

Every value keeps the line or sentence it came from and its position, so a page can show
where it was read.
"""

from __future__ import annotations

import re

from jobs.analysis.texts.sentences import Span, sentences
from jobs.analysis.texts.structure import CELL_SPLIT, is_rule, is_table_row

NUMBER = r"[-−]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"
# Column names of a coefficient table, mapped to what they hold.
COLUMNS = [
    ("coef", re.compile(r"^(?:coef\.?|coefficient|estimate|b|beta|odds ratio|hr|or)$", re.I)),
    ("se", re.compile(r"^(?:std\.? ?err\.?(?:or)?|s\.?e\.?|standard error)$", re.I)),
    ("stat", re.compile(r"^(?:[zt]|[zt] ?value|[zt]-stat\w*|wald)$", re.I)),
    ("p", re.compile(r"^(?:p>\|[zt]\||pr\(>\|[zt]\|\)|p|p-?value|sig\.?)$", re.I)),
    ("ci_low", re.compile(r"^\[?0?\.025\]?$|^\[?2\.5 ?%\]?$|^lower|^\[95(?:\.0)?%", re.I)),
    ("ci_high", re.compile(r"^\[?0?\.975\]?$|^\[?97\.5 ?%\]?$|^upper|conf\.? int\.?\]?$", re.I)),
]
# Model lines of a regression summary: what each label reports.
MODEL_LINES = [
    ("r_squared", r"R-squared|R²|R2|Multiple R-squared"),
    ("adj_r_squared", r"Adj\.? R-squared|Adjusted R-squared|Adjusted R²"),
    ("pseudo_r_squared", r"Pseudo R-squ\.?|Pseudo R-squared|Pseudo R²"),
    ("observations", r"No\. Observations|Number of obs|Observations|N"),
    ("llr_p_value", r"LLR p-value"),
    ("f_statistic", r"F-statistic"),
    ("f_p_value", r"Prob \(F-statistic\)|Prob > F"),
    ("log_likelihood", r"Log-Likelihood"),
    ("aic", r"AIC"),
    ("bic", r"BIC"),
    ("df_residuals", r"Df Residuals"),
    ("df_model", r"Df Model"),
    # A summary's diagnostics block: statistics of the model, never coefficients.
    ("durbin_watson", r"Durbin-Watson"),
    ("omnibus", r"Omnibus"),
    ("jarque_bera", r"Jarque-Bera \(JB\)"),
    ("condition_number", r"Cond\. No\."),
    ("skew", r"Skew"),
    ("kurtosis", r"Kurtosis"),
]
MODEL_VALUE = re.compile(
    r"(?P<label>"
    + "|".join(f"(?:{pattern})" for _, pattern in sorted(MODEL_LINES, key=lambda x: -len(x[1])))
    # "Cond. No." is printed without a colon.
    + rf")(?:\s*[:=]\s*|(?<=No\.)\s+)(?P<value>{NUMBER})",
    re.IGNORECASE,
)
P_VALUE = re.compile(
    rf"\b(?:p|p-value|p value)\s*(?:[<>=≤≥]|&lt;|&gt;|:|of)\s*(?P<value>{NUMBER})",
    re.IGNORECASE,
)
INTERVAL = re.compile(
    rf"(?:(?P<level>\d{{2}}(?:\.\d)?)\s?%\s?(?:CI|confidence interval)[,:]?\s*(?:of\s+)?)?"
    rf"[\[(]\s*(?P<low>{NUMBER})\s*(?:,|;|to|–|—)\s*(?P<high>{NUMBER})\s*[\])]"
    rf"|(?P<level2>\d{{2}}(?:\.\d)?)\s?%\s?(?:CI|confidence interval)[,:]?\s*(?:of\s+|from\s+)?"
    rf"(?P<low2>{NUMBER})\s*(?:to|–|—|-)\s*(?P<high2>{NUMBER})",
    re.IGNORECASE,
)
SAMPLE_SIZE = re.compile(r"\b[nN]\s?=\s?(?P<value>\d[\d,]*)")
R_SQUARED = re.compile(
    rf"\b(?:R2|R²|R-squared|R squared)\s*(?:=|of|was|is|:)\s*(?P<value>{NUMBER})",
    re.IGNORECASE,
)
COEFFICIENT = re.compile(
    rf"(?:\b(?:β|beta|b)\s*=\s*|\b(?:coefficient|odds ratio|hazard ratio|OR|HR|RR)\s*"
    rf"(?:=|of|was|:)?\s*)(?P<value>{NUMBER})",
)


# A "Label: value" cell: a model's or a diagnostic's line, not a term's row.
DIAGNOSTIC = re.compile(r"[A-Za-z)][\w.()'|/ -]*:\s+[-−]?\d")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|") and line.endswith("|"):
        return [cell.strip() for cell in line[1:-1].split("|") if cell.strip()]
    return [cell.strip() for cell in CELL_SPLIT.split(line) if cell.strip()]


def _columns(header: str) -> list[str | None]:
    """What each column of a header row holds, None for one it does not know."""
    names = []
    for cell in _cells(header):
        names.append(next((name for name, pattern in COLUMNS if pattern.search(cell)), None))
    return names


def _is_number(cell: str) -> bool:
    return re.fullmatch(NUMBER, cell.strip().strip("()[]*").replace("−", "-")) is not None


def coefficient_rows(text: str) -> list[dict]:
    """The rows of every coefficient table: a header naming at least a coefficient and
    one other statistic, then rows of a term and its numbers."""
    rows: list[dict] = []
    spans = sentences(text)
    columns: list[str | None] = []
    for span in spans:
        if is_rule(span.text):
            # A double rule closes a summary's block: what follows it (the diagnostics,
            # "Omnibus: 0.749  Durbin-Watson: 2.559") is no coefficient.
            if "=" in span.text:
                columns = []
            continue
        if not is_table_row(span.text) or DIAGNOSTIC.search(span.text):
            columns = []
            continue
        names = _columns(span.text)
        if "coef" in names and len([n for n in names if n]) >= 2:
            columns = list(names)
            continue
        if not columns:
            continue
        cells = _cells(span.text)
        values = [cell for cell in cells if _is_number(cell)]
        term = " ".join(cell for cell in cells[: len(cells) - len(values)]).strip()
        if not term or len(values) < 2:
            continue
        # Headers have no cell over the term column: values line up from the right.
        named = columns[-len(values) :] if len(values) <= len(columns) else columns
        row = {"term": term, "quote": span.text, "start": span.start, "end": span.end}
        for name, value in zip(named, values[-len(named) :], strict=False):
            if name:
                row[name] = value.strip("()[]*")
        rows.append(row)
    return rows


def model_statistics(text: str) -> list[dict]:
    """ "Label: value" statistics of a model: R², observations, LLR p-value, F, AIC..."""
    found, seen = [], set()
    for span in sentences(text):
        for match in MODEL_VALUE.finditer(span.text):
            label = match.group("label")
            name = next(n for n, p in MODEL_LINES if re.fullmatch(p, label, re.IGNORECASE))
            if name == "observations" and label.strip() == "N" and not is_table_row(span.text):
                continue
            if name in seen:
                continue
            seen.add(name)
            found.append(_found(name, match.group("value"), label, span, match))
    return found


def _found(name: str, value: str, label: str, span: Span, match: re.Match) -> dict:
    return {
        "name": name,
        "label": label.strip(),
        "value": value,
        "text": match.group().strip(),
        "quote": span.text,
        "start": span.start + match.start(),
        "end": span.start + match.end(),
    }


def p_values(text: str) -> list[dict]:
    """p-values stated in prose and in model lines, and the P column of coefficient
    tables, each once."""
    found, seen = [], set()
    for span in sentences(text):
        for match in P_VALUE.finditer(span.text):
            key = match.group().strip()
            if key not in seen:
                seen.add(key)
                found.append({"text": key, "start": span.start + match.start(),
                              "end": span.start + match.end(), "quote": span.text})  # fmt: skip
    for stat in model_statistics(text):
        if stat["name"] in ("llr_p_value", "f_p_value") and stat["text"] not in seen:
            seen.add(stat["text"])
            found.append({k: stat[k] for k in ("text", "start", "end", "quote")})
    for row in coefficient_rows(text):
        if "p" in row:
            text_ = f"{row['term']}: P = {row['p']}"
            found.append({"text": text_, "start": row["start"], "end": row["end"],
                          "quote": row["quote"]})  # fmt: skip
    return found


def intervals(text: str) -> list[dict]:
    """Confidence intervals: "95% CI 0.3 to 0.9", "[0.292, 4.465]", and the interval
    columns of coefficient tables."""
    found, seen = [], set()
    for span in sentences(text):
        if is_table_row(span.text):
            continue
        for match in INTERVAL.finditer(span.text):
            low = match.group("low") or match.group("low2")
            high = match.group("high") or match.group("high2")
            level = match.group("level") or match.group("level2")
            # A bare bracket pair is an interval only where the sentence speaks of one.
            if not level and not re.search(r"\bCI\b|interval", span.text, re.IGNORECASE):
                continue
            key = match.group().strip()
            if key in seen:
                continue
            seen.add(key)
            found.append({"text": key, "low": low, "high": high, "level": level,
                          "start": span.start + match.start(),
                          "end": span.start + match.end(), "quote": span.text})  # fmt: skip
    for row in coefficient_rows(text):
        if "ci_low" in row and "ci_high" in row:
            found.append({"text": f"{row['term']}: [{row['ci_low']}, {row['ci_high']}]",
                          "low": row["ci_low"], "high": row["ci_high"], "level": "95",
                          "start": row["start"], "end": row["end"],
                          "quote": row["quote"]})  # fmt: skip
    return found


def prose_statistics(text: str) -> list[dict]:
    """Sample sizes, R² and coefficients stated in sentences."""
    found = []
    for span in sentences(text):
        if is_table_row(span.text):
            continue
        for name, pattern in (
            ("observations", SAMPLE_SIZE),
            ("r_squared", R_SQUARED),
            ("coefficient", COEFFICIENT),
        ):
            for match in pattern.finditer(span.text):
                found.append(_found(name, match.group("value"), name, span, match))
    return found
