"""Deep dive: one of the user's documents analysed in depth against an objective."""

from __future__ import annotations

from django import forms

from jobs.analysis.texts import citing, dissecting
from jobs.engine.context import JobContext
from jobs.engine.registry import JobKind, Stage
from jobs.kinds.asking import ask, engine_name
from jobs.kinds.reports import REPORT_DOWNLOADS, deep_dive_markdown
from jobs.kinds.sources import DocumentChoiceMixin, load_documents
from jobs.lib.validators import visible_text
from jobs.models import Document
from jobs.provider import chat as ai


class DeepDiveForm(DocumentChoiceMixin, forms.Form):
    document = forms.ModelChoiceField(queryset=Document.objects.none())
    objective = forms.CharField(
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[visible_text],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = self.documents_for(user)
        self.explain_unready_choices("document")

    def to_params(self) -> dict:
        return {
            "document_id": self.cleaned_data["document"].pk,
            "objective": self.cleaned_data["objective"],
        }

    @staticmethod
    def initial_from(params: dict) -> dict:
        """The form filled in as for a job with these params (Edit and run again)."""
        return {"document": params.get("document_id"), "objective": params.get("objective", "")}


STAGES = (
    Stage("loading", "Loading the document", 0.3),
    Stage("sectioning", "Detecting sections", 1),
    Stage("design", "Study design", 0.5),
    Stage("methods", "Methods", 1),
    Stage("results", "Key results", 2),
    Stage("limitations", "Limitations", 1),
    Stage("anchoring", "Fact anchors", 2),
    Stage("writing", "Writing the overview", 2),
    Stage("finalising", "Finalising", 0.2),
)
ANALYSIS_STAGES = {"sectioning", "design", "methods", "results", "limitations", "anchoring"}


def run(ctx: JobContext, params: dict) -> dict:
    ctx.stage("loading")
    (document,) = load_documents(ctx, [params["document_id"]])
    objective = params["objective"]

    def on_step(step: str, fraction: float) -> None:
        if step in ANALYSIS_STAGES and step != ctx.current_stage:
            ctx.stage(step)
        ctx.progress(fraction)

    # Each step of the analysis is a checkpoint of its own: a job stopped midway keeps
    # (and shows) the parts it finished, and a retry does only the rest. The steps to
    # compute share one CPU slot, taken at the first (a job waiting for a slot gives its
    # database connection back: a slot per step cost 400 deep dives starting together
    # 2,800 reconnections), and their checkpoints are written together once the slot
    # is given back, not while others wait for it (docs/benchmarks.md, section 6).
    with ctx.checkpoints_together(), ctx.cpu_bound_when_needed() as need_cpu:

        def keep(key: str, compute):
            def in_slot():
                need_cpu()
                return compute()

            return ctx.checkpoint(f"analysis|{key}", in_slot)

        analysis = dissecting.analyse(document.text, objective, on_step=on_step, keep=keep)

    ctx.stage("writing")
    citations = None
    if ai.configured():
        passages = citing.passages_of(
            [{**analysis, "title": document.title, "document_id": document.pk}], 10
        )
        answer = ctx.checkpoint(
            "overview",
            lambda: ask(
                ctx,
                "Writing the overview",
                OVERVIEW_PROMPT,
                f"Document: {document.title}\n\n" + citing.prompt_input(objective, passages),
                # The prompt asks for at most 200 words.
                expected=270,
            ),
        )
        citations = citing.keep_cited(answer, passages)
        overview = citing.as_markdown(citations) or offline_overview(analysis)
    else:
        overview = offline_overview(analysis)

    ctx.stage("finalising")
    result = report(document.pk, document.title, objective, overview, analysis)
    result["citations"] = citations
    return result


def offline_overview(analysis: dict) -> str:
    """The passages that answer the objective first, then the document's central
    sentences: all quoted from the text, nothing composed."""
    answers = [" ".join(a["quote"].split()) for a in analysis.get("answers", [])]
    summary = [" ".join(span["text"].split()) for span in analysis["summary"]]
    lines = []
    # A value computed from a table (a verdict, the largest effect) is the direct answer.
    direct = [f"- **{a['direct']}**" for a in analysis.get("answers", []) if a.get("direct")]
    if answers:
        lines += ["**On the objective:**", *direct, *(f"- “{quote}”" for quote in answers), ""]
    rest = [text for text in summary if text not in answers]
    if rest:
        lines.append(" ".join(rest))
    return "\n".join(lines).strip()


def report(
    document_id: int,
    title: str,
    objective: str,
    overview: str,
    analysis: dict,
    not_reached: list[str] | None = None,
) -> dict:
    result = {
        "document_id": document_id,
        "title": title,
        "objective": objective,
        "engine": engine_name(),
        "overview": overview,
        **analysis,
    }
    if not_reached:
        result["not_reached"] = not_reached
    result["markdown"] = deep_dive_markdown(result)
    return result


def partial(params: dict, saved: dict) -> dict | None:
    """The parts of the analysis finished before the job stopped, without its overview;
    `not_reached` names the parts the job did not get to."""
    found = {}
    for step in dissecting.STEPS:
        found.update(saved.get(f"analysis|{step.key}", {}))
    if not found:
        return None
    document = Document.objects.filter(pk=params["document_id"]).only("title").first()
    title = document.title if document else "(deleted document)"
    not_reached = ["overview", *(part for part in dissecting.PARTS if part not in found)]
    analysis = dissecting.assemble(found)
    return report(params["document_id"], title, params["objective"], "", analysis, not_reached)


OVERVIEW_PROMPT = (
    "You write a short overview (at most 200 words, Markdown) of one document for the "
    "reader's objective, from the passages given: the answer to the objective first, with "
    "the entities and numbers it asks for. " + citing.INSTRUCTIONS
)


def _title(params: dict) -> str:
    """The document's title, then the objective: two dives into one document, or one
    objective over two documents, tell apart in the list."""
    document = Document.objects.filter(pk=params.get("document_id")).values("title").first()
    objective = params.get("objective", "")
    return f"{document['title']}: {objective}" if document else objective


KIND = JobKind(
    slug="deep_dive",
    label="Deep dive",
    description=(
        "One of your documents analysed in depth: sections, study design, methods, key "
        "results with their numbers, limitations, and quotes that anchor each fact."
    ),
    form_class=DeepDiveForm,
    stages=STAGES,
    run=run,
    result_template="jobs/results/deep_dive.html",
    downloads=REPORT_DOWNLOADS,
    title=_title,
    partial=partial,
)
