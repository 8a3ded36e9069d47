from __future__ import annotations

from jobs.analysis.texts.sentences import is_heading, key_phrases, sentences, summarize, tokens

TEXT = """# A trial

Dr. Smith et al. enrolled 120 adults. HbA1c fell by 0.6% (95% CI 0.3 to 0.9; p = 0.002).

  Fig. 2 shows weight.   Adherence was 84%.
"""


def test_sentences_keep_exact_offsets():
    spans = sentences(TEXT)

    assert [s.text for s in spans] == [
        "# A trial",
        "Dr. Smith et al. enrolled 120 adults.",
        "HbA1c fell by 0.6% (95% CI 0.3 to 0.9; p = 0.002).",
        "Fig. 2 shows weight.",
        "Adherence was 84%.",
    ]
    assert all(TEXT[s.start : s.end] == s.text for s in spans)


def test_headings_are_recognised():
    assert is_heading("# A trial") and is_heading("Methods")
    assert not is_heading("Adherence was 84%.")


def test_key_phrases_of_a_question_drop_its_verbs():
    phrases = key_phrases("Does intermittent fasting improve glycaemic control in diabetes?")

    assert "intermittent fasting" in phrases and "glycaemic control" in phrases
    assert not any("improve" in phrase for phrase in phrases)
    assert key_phrases("   ") == []


def test_tokens_drop_stopwords_and_single_characters():
    assert tokens("The effect of a 2 week diet on HbA1c") == ["effect", "week", "diet", "hba1c"]


def test_summaries_are_deterministic_focused_and_in_document_order():
    text = (
        "Gardens need water in summer. Fasting lowered HbA1c in adults with diabetes. "
        "Tomatoes grow well in full sun. Fasting improved insulin sensitivity in diabetes."
    )

    first = summarize(text, k=2, focus=["fasting", "diabetes"])

    assert [s.text for s in first] == [
        "Fasting lowered HbA1c in adults with diabetes.",
        "Fasting improved insulin sensitivity in diabetes.",
    ]
    assert first == summarize(text, k=2, focus=["fasting", "diabetes"])


def test_hard_wrapped_paragraphs_give_whole_sentences_and_tables_whole_rows():
    text = (
        "The mean, standard error, and worst of these features were computed for\n"
        "each image, resulting in 30 features. Files are larger than\n"
        "200 MB in all.\n\n"
        "                 coef    std err          z      P>|z|\n"
        "GPA            2.8261      1.263      2.238      0.025\n"
    )

    spans = sentences(text)

    assert [" ".join(s.text.split()) for s in spans] == [
        "The mean, standard error, and worst of these features were computed for each "
        "image, resulting in 30 features.",
        "Files are larger than 200 MB in all.",
        "coef std err z P>|z|",
        "GPA 2.8261 1.263 2.238 0.025",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_splitting_a_long_text_reports_its_progress_as_it_goes():
    from jobs.analysis.texts.sentences import PROGRESS_EVERY

    text = "\n\n".join(f"Paragraph {n} says the rate was {n} per cent." for n in range(12_000))
    fractions = []

    spans = sentences(text, on_progress=fractions.append)

    assert len(spans) == 12_000
    assert len(fractions) >= len(text) // PROGRESS_EVERY
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_sentences_split_in_many_threads_match_a_serial_run():
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from jobs.analysis.texts import sentences as module

    texts = [
        f"Paper {n}. Dr. Smith et al. enrolled {n * 7} adults in {2000 + n}. "
        f"The rate was {n}.{n}% (p = 0.0{n}). "
        * (1 + n % 5)
        + "\n\nMethods\n\nWe measured weight weekly. Results held. " * (n % 3 + 1)
        for n in range(40)
    ]

    def split(text: str) -> list[tuple[str, int, int]]:
        # The cache would hide a wrong split: go to the splitter itself.
        return [(s.text, s.start, s.end) for s in module._split(text, None)]

    serial = [split(text) for text in texts]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(3):
                assert list(pool.map(split, texts)) == serial
    finally:
        sys.setswitchinterval(interval)
    assert all(
        text[start:end] == quote
        for text, spans in zip(texts, serial, strict=True)
        for quote, start, end in spans
    )


def test_a_reference_is_not_split_at_its_authors_initials():
    text = (
        "Efron, B., Hastie, T., Johnstone, I. and Tibshirani, R. (2004). Least Angle "
        "Regression. Annals of Statistics.\n\nBreiman, L. (2001). Random forests."
    )

    found = [span.text for span in sentences(text)]

    assert found[0] == (
        "Efron, B., Hastie, T., Johnstone, I. and Tibshirani, R. (2004). Least Angle Regression."
    )
    assert "Breiman, L. (2001). Random forests." in found
    assert all(text[s.start : s.end] == s.text for s in sentences(text))
