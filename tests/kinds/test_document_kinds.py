"""Reviews and deep dives over the demo documents, run by the engine, offline."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from jobs.engine import running
from jobs.models import Document, Job
from tests.factories import demo_documents, make_document, make_job, make_user
from tests.fake_openai import fake_openai  # noqa: F401

pytestmark = pytest.mark.django_db
QUESTION = "Does intermittent fasting improve glycaemic control in adults with type 2 diabetes?"


def run(job: Job) -> Job:
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    return job


def by_file(documents) -> dict:
    return {doc.filename: doc for doc in documents}


@pytest.fixture
def docs(user):
    return by_file(demo_documents(user))


def review(user, docs, mode="precision", question=QUESTION) -> Job:
    ids = sorted(doc.pk for doc in docs.values())
    params = {"question": question, "document_ids": ids, "mode": mode}
    return run(make_job(user, kind="review", params=params))


class TestReview:
    def test_ranks_the_relevant_studies_first_and_leaves_the_others_out(self, user, docs):
        job = review(user, docs)

        assert job.status == Job.Status.SUCCEEDED, job.error
        analysed = [a["title"] for a in job.result["documents"]]
        assert len(analysed) == 3
        assert all("fasting" in title.lower() or "eating" in title.lower() for title in analysed)
        skipped = {item["title"] for item in job.result["not_selected"]}
        assert skipped == {docs["urban_trees.md"].title, docs["remote_work_survey.md"].title}
        assert job.result["engine"] == "offline analysis"
        assert "intermittent fasting" in job.result["phrases"]

    def test_scores_show_their_parts(self, user, docs):
        job = review(user, docs)

        for analysis in job.result["documents"]:
            parts = analysis["components"]
            assert set(parts) == {"bm25", "phrase_coverage", "density"}
            assert all(0 <= value <= 1 for value in parts.values())
            weighted = 0.6 * parts["bm25"] + 0.3 * parts["phrase_coverage"] + 0.1 * parts["density"]
            assert analysis["score"] == pytest.approx(weighted, abs=1e-3)
        scores = [a["score"] for a in job.result["documents"]]
        assert scores == sorted(scores, reverse=True)

    def test_every_quote_is_verbatim_at_its_position(self, user, docs):
        job = review(user, docs)
        texts = {doc.pk: doc.text for doc in docs.values()}

        anchors = 0
        for analysis in job.result["documents"]:
            text = texts[analysis["document_id"]]
            for anchor in analysis["anchors"]:
                assert text[anchor["start"] : anchor["end"]] == anchor["quote"]
                anchors += 1
            for span in analysis["summary_spans"]:
                assert text[span["start"] : span["end"]] == span["text"]
        assert anchors >= 6
        quotes = " ".join(a["quote"] for d in job.result["documents"] for a in d["anchors"])
        assert "HbA1c by 0.6% (95% CI 0.3 to 0.9; p = 0.002)" in quotes

    def test_recall_reads_more_than_precision(self, user, docs):
        precision = review(user, docs, "precision")
        recall = review(user, docs, "recall")

        assert len(recall.result["documents"]) >= len(precision.result["documents"])

    def test_the_same_input_gives_the_same_report(self, user, docs):
        assert review(user, docs).result == review(user, docs).result

    def test_themes_and_summary_come_from_the_documents(self, user, docs):
        job = review(user, docs)

        assert job.result["themes"]
        for theme in job.result["themes"]:
            assert len(theme["documents"]) >= 2
            for item in theme["evidence"]:
                assert theme["theme"] in item["quote"].lower()
        summary = job.result["executive_summary"]
        # The answer comes first, quoted from the documents; the count of documents after.
        assert summary.startswith("**Answer.**")
        assert "3 documents read for" in summary

    def test_a_question_no_document_matches_fails_clearly(self, user, docs):
        job = review(user, {"x": docs["urban_trees.md"]}, question="quantum chromodynamics lattice")

        assert job.status == Job.Status.FAILED
        assert "None of the chosen documents matches the question" in job.error

    def test_a_document_deleted_after_submitting_fails_the_job_clearly(self, user, docs):
        job = make_job(
            user,
            kind="review",
            params={
                "question": QUESTION,
                "document_ids": [docs["fasting_rct.md"].pk],
                "mode": "recall",
            },
        )
        docs["fasting_rct.md"].delete()

        job = run(job)

        assert job.status == Job.Status.FAILED
        assert "no longer exist" in job.error

    def test_page_and_downloads(self, alice_client, user, docs):
        job = review(user, docs)

        page = alice_client.get(job.get_absolute_url()).content.decode()
        markdown = alice_client.get(reverse("jobs:download", args=[job.pk, "md"]))
        data = alice_client.get(reverse("jobs:download", args=[job.pk, "json"]))

        assert "Executive summary" in page and "Fact anchors" in page
        assert docs["fasting_rct.md"].title in page
        assert "characters" in page  # each quote names its place
        assert markdown["Content-Type"].startswith("text/markdown")
        assert markdown.content.decode().startswith(f"# Review: {QUESTION}")
        assert json.loads(data.content)["question"] == QUESTION


class TestDeepDive:
    def test_finds_design_methods_results_and_limitations(self, user, docs):
        params = {"document_id": docs["fasting_rct.md"].pk, "objective": "effect on HbA1c"}
        job = run(make_job(user, kind="deep_dive", params=params))

        assert job.status == Job.Status.SUCCEEDED, job.error
        result = job.result
        assert result["study_design"]["value"] == "randomized controlled trial"
        assert [s["title"] for s in result["sections"]][1:5] == [
            "Abstract", "Methods", "Results", "Discussion",
        ]  # fmt: skip
        assert any("120 adults" in m["text"] for m in result["methods"])
        found = result["key_results"]
        assert "95% CI 0.3 to 0.9" in [ci["text"] for ci in found["confidence_intervals"]]
        assert "p = 0.002" in [p["text"] for p in found["p_values"]]
        assert {"Figure 2", "Figure 3"} <= {f["text"] for f in found["figures"]}
        assert "Table 1" in [t["text"] for t in found["tables"]]
        assert ("1.2", "mmol/L") in [(n["value"], n["unit"]) for n in found["numbers_with_units"]]
        assert any("open-label" in item["text"] for item in result["limitations"])
        text = docs["fasting_rct.md"].text
        for anchor in result["anchors"]:
            assert text[anchor["start"] : anchor["end"]] == anchor["quote"]
        assert result["unsupported"] == []

    def test_a_text_without_findings_leaves_fields_empty_and_says_so(self, alice_client, user):
        document = make_document(
            user, "Garden", "Roses and tulips bloom in spring. They look lovely."
        )
        params = {"document_id": document.pk, "objective": "effect on HbA1c"}
        job = run(make_job(user, kind="deep_dive", params=params))

        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.result["study_design"] == {"value": None, "supported": False, "quote": None}
        assert job.result["key_results"]["p_values"] == []
        assert {"study_design", "methods", "limitations", "key_results.p_values"} <= set(
            job.result["unsupported"]
        )
        page = alice_client.get(job.get_absolute_url()).content.decode()
        assert "Not stated in the text." in page


class TestForms:
    def test_another_users_document_cannot_be_chosen(self, alice_client, user):
        theirs = make_document(make_user("bob"), "Bob's secret", "Private findings 12%.")

        review_response = alice_client.post(
            reverse("jobs:new", args=["review"]),
            {"question": QUESTION, "documents": [theirs.pk], "mode": "precision"},
        )
        dive_response = alice_client.post(
            reverse("jobs:new", args=["deep_dive"]),
            {"document": theirs.pk, "objective": "findings"},
        )

        assert review_response.status_code == dive_response.status_code == 400
        assert "That document cannot be chosen" in review_response.content.decode()
        assert "That document cannot be chosen" in dive_response.content.decode()
        assert "Bob&#x27;s secret" not in review_response.content.decode()
        assert not Job.objects.exists()

    def test_a_document_still_extracting_or_refused_cannot_be_chosen(self, alice_client, user):
        waiting = make_document(user, "Waiting", "", status=Document.Status.EXTRACTING)
        refused = make_document(
            user, "Refused", "", status=Document.Status.REFUSED,
            error="x.pdf: the PDF has 3,000 pages, over the limit of 2,000.",
        )  # fmt: skip

        page = alice_client.get(reverse("jobs:new", args=["review"])).content.decode()
        answers = [
            alice_client.post(
                reverse("jobs:new", args=["deep_dive"]),
                {"document": doc.pk, "objective": "findings"},
            )
            for doc in (waiting, refused)
        ]

        assert "Waiting" not in page and "Refused" not in page
        assert [answer.status_code for answer in answers] == [400, 400]
        assert all("still being extracted" in answer.content.decode() for answer in answers)
        assert not Job.objects.exists()

    def test_a_job_on_a_document_still_extracting_waits_for_it(self, user):
        waiting = make_document(user, "Waiting", "", status=Document.Status.EXTRACTING,
                                filename="slow.pdf")  # fmt: skip
        params = {"document_id": waiting.pk, "objective": "findings"}
        job = run(make_job(user, kind="deep_dive", params=params))

        # Not failed: queued again, to try once the file is read (the retries' backoff).
        assert job.status == Job.Status.QUEUED, job.error
        assert "slow.pdf: the text is still being extracted" in job.error

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"question": "", "mode": "precision"}, "This field is required."),
            ({"question": "hi", "mode": "precision"}, "at least 5 characters"),
            ({"question": "x" * 2001, "mode": "precision"}, "at most 2000 characters"),
            ({"question": QUESTION, "mode": "everything"}, "Select a valid choice"),
        ],
    )
    def test_bad_review_input_gets_a_form_error(self, alice_client, docs, data, message):
        data = {**data, "documents": [doc.pk for doc in docs.values()]}

        response = alice_client.post(reverse("jobs:new", args=["review"]), data)

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Job.objects.exists()

    def test_review_document_count_limit(self, alice_client, docs, settings):
        settings.REVIEW_MAX_DOCUMENTS = 2

        response = alice_client.post(
            reverse("jobs:new", args=["review"]),
            {"question": QUESTION, "documents": [d.pk for d in docs.values()], "mode": "recall"},
        )

        assert "Choose at most 2 documents; you chose 5." in response.content.decode()

    def test_a_valid_review_is_submitted(self, alice_client, docs):
        ids = sorted(d.pk for d in docs.values())
        response = alice_client.post(
            reverse("jobs:new", args=["review"]),
            {"question": QUESTION, "documents": ids, "mode": "recall"},
        )

        job = Job.objects.get()
        assert response.status_code == 302
        assert job.params == {"question": QUESTION, "document_ids": ids, "mode": "recall"}


class TestWithTheProvider:
    def test_review_uses_the_model_for_summaries_and_renders_them_safely(
        self,
        alice_client,
        user,
        docs,
        fake_openai,  # noqa: F811
    ):
        fake_openai.script.answer = (
            "**Fasting helped** [P1]. It cures everything. <script>alert(1)</script> [P999]"
        )

        job = review(user, docs)

        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.result["engine"] == "AI model fake-model"
        # Only the sentence that cites a passage it was given is kept.
        assert job.result["executive_summary"] == "**Fasting helped** [P1]."
        citations = job.result["citations"]
        assert citations["dropped"] == 2
        assert [s["passages"] for s in citations["sentences"]] == [["P1"]]
        backing = citations["passages"]["P1"]
        text = Document.objects.get(pk=backing["document_id"]).text
        assert " ".join(text[backing["start"] : backing["end"]].split()) == backing["quote"]
        # One summary per analysed document, then the executive summary.
        assert len(fake_openai.script.requests) == len(job.result["documents"]) + 1
        sent = fake_openai.script.requests[-1]["body"]["messages"]
        assert QUESTION in sent[1]["content"] and "[P1] (" in sent[1]["content"]
        assert "square brackets" in sent[0]["content"]
        page = alice_client.get(job.get_absolute_url()).content.decode()
        assert "<strong>Fasting helped</strong> [P1]." in page
        assert f"[P1] “{backing['quote']}”" in page.replace("&quot;", '"')
        assert "<script>alert(1)</script>" not in page and "cures everything" not in page
        # The offline anchors stay: quotes come from the documents, not the model.
        assert job.result["documents"][0]["anchors"]
        # Each document's summary is held to its own passages the same way.
        for analysis in job.result["documents"]:
            assert analysis["summary"] == "**Fasting helped** [P1]."
            assert analysis["citations"]["dropped"] == 2

    def test_a_provider_error_is_retried_then_fails_the_job_with_its_message(
        self,
        user,
        docs,
        fake_openai,  # noqa: F811
        settings,
    ):
        settings.MAX_JOB_RETRIES = 1
        fake_openai.script.scenario = "error_500"
        params = {"document_id": docs["fasting_rct.md"].pk, "objective": "HbA1c"}
        job = make_job(user, kind="deep_dive", params=params)

        assert running.run_queued_job(str(job.pk)) == "retrying"
        job = run(job)

        assert job.status == Job.Status.FAILED
        assert job.attempts == 2
        assert job.stage == "writing"
        assert "The AI provider answered HTTP 500" in job.error

    def test_deep_dive_overview_keeps_only_cited_sentences(
        self,
        alice_client,
        user,
        docs,
        fake_openai,  # noqa: F811
    ):
        fake_openai.script.answer = "HbA1c fell by 0.6% [P1]. Everyone was cured."
        document = docs["fasting_rct.md"]
        params = {"document_id": document.pk, "objective": "effect on HbA1c"}

        job = run(make_job(user, kind="deep_dive", params=params))

        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.result["overview"] == "HbA1c fell by 0.6% [P1]."
        backing = job.result["citations"]["passages"]["P1"]
        assert (
            " ".join(document.text[backing["start"] : backing["end"]].split()) == (backing["quote"])
        )
        page = alice_client.get(job.get_absolute_url()).content.decode()
        assert "[P1] “" in page and "Everyone was cured" not in page

    def test_exhausted_rate_limit_waits_are_not_retried_again(self, user, docs, fake_openai):  # noqa: F811
        fake_openai.script.scenario = "rate_limit"
        fake_openai.script.retry_after = "0"

        params = {"document_id": docs["fasting_rct.md"].pk, "objective": "HbA1c"}
        job = run(make_job(user, kind="deep_dive", params=params))

        assert job.status == Job.Status.FAILED
        assert "kept rate-limiting" in job.error

    def test_the_stage_message_shows_the_stream_arriving(self, user, fake_openai):  # noqa: F811
        from jobs.engine.context import JobContext
        from jobs.engine.registry import get_kind
        from jobs.kinds.asking import stream_into

        job = running.claim(str(make_job(user, kind="deep_dive", params={}).pk))
        context = JobContext(job, get_kind("deep_dive"), write_interval=0)
        context.stage("writing")
        messages = []
        original = context._write

        def record(**fields):
            original(**fields)
            messages.append(Job.objects.get(pk=job.pk).message)

        context._write = record

        answer = stream_into(context, "Writing the overview", [{"role": "user", "content": "x"}])

        assert answer == fake_openai.script.answer
        assert messages == [
            f"Writing the overview: {n} tokens received so far" for n in range(1, 6)
        ]


def test_a_deep_dives_overview_opens_with_a_computed_answer():
    from jobs.kinds.deep_dive import offline_overview

    analysis = {
        "answers": [
            {
                "quote": "GNP  -0.0358  0.033  -1.070  0.313",
                "direct": "No: GNP is not significant.",
            },
            {"quote": "GNP was measured yearly."},
        ],
        "summary": [{"text": "An employment regression."}],
    }

    lines = offline_overview(analysis).splitlines()

    assert lines[:2] == ["**On the objective:**", "- **No: GNP is not significant.**"]
    assert "- “GNP -0.0358 0.033 -1.070 0.313”" in lines
