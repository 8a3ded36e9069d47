from __future__ import annotations

from pathlib import Path

from jobs.analysis.texts.dissecting import analyse, find_sections, study_design

PAPER = """CARDIO-FAST TRIAL

Abstract
In this double-blind randomised controlled trial, 240 patients were followed for 12 weeks.

2.1 Methods
We recruited 240 patients with hypertension. Blood pressure was measured at each visit.

Results
Systolic pressure fell by 7.5 mmHg (95% CI [4.1, 10.9]; p < 0.001), see Figure 1 and Table 2.
Costs were $1.2 million in total.

Limitations
The follow-up was short and the sample may not be representative.
"""


def test_sections_of_every_kind_are_found():
    titles = [section["title"] for section in find_sections(PAPER)]

    assert titles == ["CARDIO-FAST TRIAL", "Abstract", "2.1 Methods", "Results", "Limitations"]


def test_results_numbers_and_references():
    found = analyse(PAPER, "blood pressure")["key_results"]

    assert [ci["text"] for ci in found["confidence_intervals"]] == ["95% CI [4.1, 10.9]"]
    assert [p["text"] for p in found["p_values"]] == ["p < 0.001"]
    assert [f["text"] for f in found["figures"]] == ["Figure 1"]
    assert [t["text"] for t in found["tables"]] == ["Table 2"]
    units = {(n["value"], n["unit"]) for n in found["numbers_with_units"]}
    assert {("240", "patients"), ("12", "weeks"), ("7.5", "mmHg"), ("1.2", "$ million")} <= units


def test_design_methods_and_limitations_come_with_their_text():
    result = analyse(PAPER, "blood pressure")

    assert result["study_design"]["value"] == "randomized controlled trial"
    quote = result["study_design"]["quote"]
    assert PAPER[quote["start"] : quote["end"]] == quote["text"]
    assert any("recruited 240 patients" in m["text"] for m in result["methods"])
    assert any("follow-up was short" in item["text"] for item in result["limitations"])
    for item in result["methods"] + result["limitations"] + result["anchors"]:
        text = item.get("text") or item["quote"]
        assert PAPER[item["start"] : item["end"]] == text
    assert result["unsupported"] == []


def test_the_most_specific_design_wins():
    assert study_design("A systematic review and meta-analysis of trials.")["value"] == (
        "systematic review and meta-analysis"
    )
    assert study_design("We used a retrospective cohort.")["value"] == "retrospective cohort study"


def test_nothing_is_invented_for_a_text_without_findings():
    result = analyse("We like walking by the river on Sundays.", "blood pressure")

    assert result["study_design"]["value"] is None
    assert result["key_results"]["numbers_with_units"] == []
    assert set(result["unsupported"]) >= {
        "study_design", "methods", "limitations", "anchors", "key_results.p_values",
    }  # fmt: skip


def test_progress_steps_are_reported_in_order():
    steps = []

    analyse(PAPER, "blood pressure", on_step=lambda name, fraction: steps.append(name))

    assert list(dict.fromkeys(steps)) == [
        "sectioning", "design", "methods", "results", "limitations", "anchoring",
    ]  # fmt: skip


REGRESSION = """Logit model of grade improvement

                           Logit Regression Results
==============================================================================
Dep. Variable:                  GRADE   No. Observations:                   32
Model:                          Logit   Df Residuals:                       28
Date:                Mon, 21 Oct 2019   Pseudo R-squ.:                  0.3740
Covariance Type:            nonrobust   LLR p-value:                  0.001502
==============================================================================
                 coef    std err          z      P>|z|      [0.025      0.975]
------------------------------------------------------------------------------
GPA            2.8261      1.263      2.238      0.025       0.351       5.301
PSI            2.3787      1.065      2.234      0.025       0.292       4.465
==============================================================================

Deaths fell to 4.2 per 100,000 people, and the model was fitted in 3 years.
"""


def test_statistics_are_read_from_a_regression_summary():
    found = analyse(REGRESSION, "effect of PSI on grade")["key_results"]

    psi = next(row for row in found["coefficients"] if row["term"] == "PSI")
    assert (psi["coef"], psi["se"], psi["stat"], psi["p"]) == ("2.3787", "1.065", "2.234", "0.025")
    assert (psi["ci_low"], psi["ci_high"]) == ("0.292", "4.465")
    model = {item["name"]: item["value"] for item in found["model_statistics"]}
    assert model["observations"] == "32" and model["pseudo_r_squared"] == "0.3740"
    assert model["llr_p_value"] == "0.001502"
    assert "PSI: [0.292, 4.465]" in [ci["text"] for ci in found["confidence_intervals"]]
    assert "PSI: P = 0.025" in [p["text"] for p in found["p_values"]]
    # The rate the objective is about comes before an incidental duration.
    units = [(n["value"], n["unit"]) for n in found["numbers_with_units"]]
    assert ("4.2", "per 100,000 people") in units


def test_design_comes_from_the_methods_not_from_page_furniture():
    page = (
        "Cross-sectional dataset viewer\n\nMonte Carlo samples are always drawn.\n\n"
        "Methods\n\nWe followed 300 adults in a prospective cohort from 2001 to 2010.\n"
    )

    assert study_design(page, find_sections(page))["value"] == "prospective cohort study"


def test_numbers_and_library_names_are_not_sections():
    text = "Intro\n\n159.01327 Values were high.\n\nNUMPY\n\n1. Methods\n\nWe ran it.\n"

    assert [s["title"] for s in find_sections(text)] == ["1. Methods"]


def test_a_long_document_reports_progress_within_its_slowest_step():
    from jobs.analysis.texts.sentences import PROGRESS_EVERY

    text = "\n\n".join(f"Section {n} finds a rate of {n} per 1,000 people." for n in range(10_000))
    steps = []

    analyse(text, "rate", on_step=lambda name, fraction: steps.append((name, fraction)))

    sectioning = [fraction for name, fraction in steps if name == "sectioning"]
    assert len(sectioning) >= len(text) // PROGRESS_EVERY


OLS_SUMMARY = (Path(__file__).parent / "quality" / "open" / "longley_ols.txt").read_text(
    encoding="utf-8"
)


def test_a_regression_summary_states_its_design_methods_and_caveats():
    result = analyse(OLS_SUMMARY, "effect of unemployment on employment")

    assert result["study_design"]["value"] == "regression model (OLS)"
    methods = [item["text"] for item in result["methods"]]
    assert any(text.startswith("Method:") and "Least Squares" in text for text in methods)
    assert any("multicollinearity" in item["text"] for item in result["limitations"])
    for item in result["methods"] + result["limitations"]:
        assert OLS_SUMMARY[item["start"] : item["end"]] == item["text"]
    assert not {"study_design", "methods", "limitations"} & set(result["unsupported"])


def test_diagnostics_are_model_statistics_not_coefficients():
    result = analyse(OLS_SUMMARY, "employment")

    terms = [row["term"] for row in result["key_results"]["coefficients"]]
    assert terms == ["const", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
    statistics = {s["name"]: s["value"] for s in result["key_results"]["model_statistics"]}
    # Scientific notation is kept whole.
    assert statistics["condition_number"] == "4.86e+09"
    assert statistics["durbin_watson"] == "2.559"
    assert statistics["f_p_value"] == "4.98e-10"
    # The counts a page folds long lists with.
    assert result["counts"]["key_results.coefficients"] == 7
    assert result["counts"]["sections"] == len(result["sections"])
