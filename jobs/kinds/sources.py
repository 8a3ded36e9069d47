"""The owner's documents, as the document kinds offer and load them."""

from __future__ import annotations

from django.template.defaultfilters import pluralize

from jobs.engine.context import JobContext, JobError
from jobs.models import Document


class DocumentChoiceMixin:
    """Offers only the user's own documents, so another user's can never be chosen."""

    def documents_for(self, user):
        # Only documents whose text is read: one still extracting or refused has none.
        documents = Document.objects.for_user(user).ready().defer("text", "upload")
        return documents.order_by("title", "pk")

    def explain_unready_choices(self, name: str) -> None:
        self.fields[name].error_messages["invalid_choice"] = (
            "That document cannot be chosen: its text is still being extracted, it was "
            "refused, or it is not one of yours."
        )
        self.fields[name].error_messages["invalid_pk_value"] = "“%(pk)s” is not a document id."


def load_documents(ctx: JobContext, ids: list[int]) -> list[Document]:
    """The job owner's documents, in the order chosen; a deleted one fails the job clearly."""
    found = {doc.pk: doc for doc in Document.objects.filter(owner_id=ctx.owner_id, pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    waiting = [doc.filename for doc in found.values() if doc.status == Document.Status.EXTRACTING]
    if waiting:
        # Tried again later, with the retries' backoff: by then the file is read.
        raise JobError(
            f"{', '.join(waiting)}: the text is still being extracted; the job waits for it.",
            retryable=True,
        )
    refused = [doc.error for doc in found.values() if doc.status == Document.Status.REFUSED]
    if refused:
        raise JobError(f"A chosen document has no text: {' '.join(refused)}")
    if missing:
        raise JobError(
            f"{len(missing)} of the chosen documents no longer exist (deleted after the job "
            "was started). Start the job again with the documents you have."
        )
    ctx.progress(
        1.0,
        f"Loaded {len(ids)} document{pluralize(len(ids))}, "
        f"{sum(d.chars for d in found.values()):,} characters.",
    )
    return [found[pk] for pk in ids]
