"""Reading uploaded files: each file's text, extracted in the worker, never in a request.

The upload's request stores the files and submits this job (jobs/web/views.py); the job
reads each one in a child process held to the DOCUMENT_* limits
(jobs/analysis/texts/extracting.py) and keeps its text, or a refusal that names the file
and the limit it reached. The kind is not offered on the new-job pages: only an upload
starts one.
"""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import pluralize

from jobs.analysis.texts import documents
from jobs.engine.context import JobCancelled, JobContext
from jobs.engine.registry import JobKind, Stage
from jobs.models import Document


class DocumentExtractionForm(forms.Form):
    """The owner's files still waiting to be read (the API's way to the same job)."""

    documents = forms.ModelMultipleChoiceField(queryset=Document.objects.none())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = Document.objects.for_user(user).filter(
            status=Document.Status.EXTRACTING
        )

    def to_params(self) -> dict:
        return {"document_ids": [document.pk for document in self.cleaned_data["documents"]]}

    @staticmethod
    def initial_from(params: dict) -> dict:
        return {"documents": params.get("document_ids", [])}


def params_for(stored: list[Document]) -> dict:
    return {"document_ids": [document.pk for document in stored]}


def run(ctx: JobContext, params: dict) -> dict:
    ctx.stage("extracting")
    ids = params["document_ids"]
    read = []
    try:
        for done, pk in enumerate(ids):
            name = Document.objects.filter(pk=pk).values_list("filename", flat=True).first()
            ctx.progress(done / len(ids), f"Reading {name or 'a deleted file'}")
            # A child process does the reading: a CPU slot, as any long text's analysis.
            document = ctx.cpu(documents.read_stored, pk)
            if document is not None:
                read.append(
                    {"id": document.pk, "title": document.title, "filename": document.filename,
                     "status": document.status, "chars": len(document.text),
                     "error": document.error}
                )  # fmt: skip
    except JobCancelled:
        documents.refuse_unread(ids, "not read: the job reading it was cancelled.")
        raise
    ready = sum(1 for item in read if item["status"] == Document.Status.READY)
    ctx.progress(1.0, f"Read {ready} of {len(ids)} file{pluralize(len(ids))}.")
    return {"documents": read}


def _title(params: dict) -> str:
    count = len(params.get("document_ids", []))
    return f"{count} uploaded file{pluralize(count)}"


KIND = JobKind(
    slug="document_extraction",
    label="Reading uploads",
    description="The text of uploaded files, read in the worker within the upload limits.",
    form_class=DocumentExtractionForm,
    stages=(Stage("extracting", "Reading the files"),),
    run=run,
    result_template="jobs/results/document_extraction.html",
    title=_title,
    listed=False,
)
