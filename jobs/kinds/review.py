"""Review: a report across several of the user's documents that answers a question."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import pluralize

from jobs.analysis.texts import citing, ranking, reviewing
from jobs.analysis.texts import sentences as text
from jobs.engine.context import JobContext, JobError
from jobs.engine.registry import JobKind, Stage
from jobs.kinds.asking import ask, engine_name
from jobs.kinds.reports import REPORT_DOWNLOADS, review_markdown
from jobs.kinds.sources import DocumentChoiceMixin, load_documents
from jobs.lib.validators import visible_text
from jobs.models import Document
from jobs.provider import chat as ai


class ReviewForm(DocumentChoiceMixin, forms.Form):
    question = forms.CharField(
        label="Question or objective",
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[visible_text],
    )
    documents = forms.ModelMultipleChoiceField(
        queryset=Document.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    mode = forms.ChoiceField(
        choices=[
            ("precision", "Precision: fewer documents, analysed in depth"),
            ("recall", "Recall: more documents"),
        ],
        initial="precision",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = self.documents_for(user)
        self.explain_unready_choices("documents")

    def clean_documents(self):
        chosen = self.cleaned_data["documents"]
        if len(chosen) > settings.REVIEW_MAX_DOCUMENTS:
            raise forms.ValidationError(
                f"Choose at most {settings.REVIEW_MAX_DOCUMENTS} documents; "
                f"you chose {len(chosen)}."
            )
        return chosen

    def to_params(self) -> dict:
        return {
            "question": self.cleaned_data["question"],
            "document_ids": sorted(doc.pk for doc in self.cleaned_data["documents"]),
            "mode": self.cleaned_data["mode"],
        }

    @staticmethod
    def initial_from(params: dict) -> dict:
        """The form filled in as for a job with these params (Edit and run again)."""
        return {
            "question": params.get("question", ""),
            "documents": params.get("document_ids", []),
            "mode": params.get("mode", "precision"),
        }


STAGES = (
    Stage("planning", "Planning", 0.3),
    Stage("loading", "Loading documents", 0.5),
    Stage("ranking", "Ranking documents (BM25)", 1),
    Stage("analysing", "Analysing the top documents", 6),
    Stage("synthesising", "Synthesising", 2),
    Stage("finalising", "Finalising", 0.2),
)


def run(ctx: JobContext, params: dict) -> dict:
    question, mode = params["question"], params["mode"]
    ctx.stage("planning", "Finding the key phrases of the question…")
    phrases = text.key_phrases(question, top=6)
    ctx.progress(1.0, f"Key phrases: {', '.join(phrases) or 'none'}")

    ctx.stage("loading")
    documents = load_documents(ctx, params["document_ids"])

    ctx.stage("ranking", f"Ranking {len(documents)} document{pluralize(len(documents))}…")
    ranked = ctx.cpu(ranking.rank, question, phrases, [doc.text for doc in documents])
    selected = ranking.select(ranked, mode)
    if not selected:
        raise JobError(
            "None of the chosen documents matches the question; "
            "try other documents, other words, or recall mode."
        )

    ctx.stage("analysing")
    analyses = []
    for position, item in enumerate(selected):
        document = documents[item.index]
        ctx.progress(
            position / len(selected),
            f"Analysing “{document.title}” ({position + 1} of {len(selected)})",
        )
        until = (position + 1) / len(selected)
        analysis = ctx.checkpoint(
            f"analysed|{document.pk}",
            lambda document=document, item=item, until=until: analyse(
                ctx, question, phrases, document, item, until
            ),
        )
        analyses.append(analysis)

    ctx.stage("synthesising", "Finding themes across documents…")
    texts = {doc.pk: doc.text for doc in documents}
    themes = ctx.cpu(
        reviewing.themes,
        phrases,
        [(a["title"], texts[a["document_id"]]) for a in analyses],
        on_progress=lambda fraction, message: ctx.progress(0.5 * fraction, message),
    )
    citations = None
    if ai.configured():
        passages = citing.passages_of(analyses)
        answer = ctx.checkpoint(
            "summary",
            lambda: ask(
                ctx,
                "Writing the executive summary",
                SYNTHESIS_PROMPT,
                synthesis_input(question, passages, themes),
                expected=SYNTHESIS_TOKENS,
            ),
        )
        citations = citing.keep_cited(answer, passages)
        summary = citing.as_markdown(citations)
        if not summary:
            # Nothing the model wrote rests on a passage: the offline answer stands.
            summary = reviewing.executive_summary(question, analyses, themes)
    else:
        summary = reviewing.executive_summary(question, analyses, themes)

    ctx.stage("finalising")
    result = {
        "question": question,
        "mode": mode,
        "phrases": phrases,
        "engine": engine_name(),
        "executive_summary": summary,
        "citations": citations,
        "themes": themes,
        "documents": analyses,
        "not_selected": [
            {"title": documents[item.index].title, "score": item.score}
            for item in ranked
            if item not in selected
        ],
    }
    result["markdown"] = review_markdown(result)
    return result


def analyse(ctx: JobContext, question, phrases, document, item, until: float = 1.0) -> dict:
    """One document's relevance, quotes and summary: the step a resumed job skips. The
    stage's progress moves towards `until` while the document is read and the model
    writes the summary."""
    start = ctx.stage_fraction
    share = (until - start) * (0.5 if ai.configured() else 1.0)
    analysis = ctx.cpu(
        reviewing.analyse_document,
        question,
        phrases,
        document.title,
        document.text,
        item,
        on_progress=lambda fraction, message: ctx.progress(start + share * fraction, message),
    )
    analysis["document_id"] = document.pk
    if ai.configured():
        passages = citing.passages_of([analysis])
        answer = ask(
            ctx,
            f"Summarising “{document.title}”",
            SUMMARY_PROMPT,
            f"Document: {document.title}\n\n" + citing.prompt_input(question, passages),
            until=until,
            expected=SUMMARY_TOKENS,
        )
        cited = citing.keep_cited(answer, passages)
        analysis["citations"] = cited
        # With nothing cited, the document's own central sentences stay as its summary.
        analysis["summary"] = citing.as_markdown(cited) or analysis["summary"]
    return analysis


def partial(params: dict, saved: dict) -> dict | None:
    """The documents analysed before the job stopped, in the order they were chosen."""
    analyses = [
        saved[f"analysed|{pk}"] for pk in params["document_ids"] if f"analysed|{pk}" in saved
    ]
    if not analyses:
        return None
    result = {
        "question": params["question"],
        "mode": params["mode"],
        "phrases": [],
        "engine": engine_name(),
        "executive_summary": "",
        "themes": [],
        "documents": analyses,
        "not_selected": [],
    }
    result["markdown"] = review_markdown(result)
    return result


# About how many tokens (streamed chunks) each answer takes, for the progress bar: the
# prompts ask for 120 and 250 words.
SUMMARY_TOKENS = 170
SYNTHESIS_TOKENS = 340
SUMMARY_PROMPT = (
    "You summarise one document for a literature review. Answer in Markdown, at most 120 "
    "words, using only the passages given, and say how they bear on the question. "
    + citing.INSTRUCTIONS
)
SYNTHESIS_PROMPT = (
    "You write the executive summary of a literature review in Markdown, at most 250 words. "
    "Open with the direct answer, the value or the name asked for, in a sentence of its own "
    "citing the passage it comes from; answer each part of the question, or say a part is "
    "not found in these documents. Then what else the passages show. " + citing.INSTRUCTIONS
)


def synthesis_input(question: str, passages: list[dict], themes: list[dict]) -> str:
    shared = "Themes across documents: " + "; ".join(theme["theme"] for theme in themes)
    return citing.prompt_input(question, passages, shared if themes else "")


def _title(params: dict) -> str:
    return params.get("question", "")[:120]


def _details(params: dict) -> str:
    count = len(params.get("document_ids", []))
    return f"{count} document{pluralize(count)}, {params.get('mode', 'precision')}"


KIND = JobKind(
    slug="review",
    label="Review",
    description=(
        "A report across several of your documents that answers a question: the most "
        "relevant documents ranked, summarised and quoted, and the themes they share."
    ),
    form_class=ReviewForm,
    stages=STAGES,
    run=run,
    result_template="jobs/results/review.html",
    downloads=REPORT_DOWNLOADS,
    title=_title,
    details=_details,
    partial=partial,
)
