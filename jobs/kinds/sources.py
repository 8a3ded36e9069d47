"""The owner's documents, as the document kinds offer and load them."""

from __future__ import annotations

from django.template.defaultfilters import pluralize

from jobs.engine.context import JobContext, JobError
from jobs.models import Document


class DocumentChoiceMixin:
    """Offers only the user's own documents, so another user's can never be chosen."""

    def documents_for(self, user):
        return Document.objects.for_user(user).defer("text").order_by("title", "pk")


def load_documents(ctx: JobContext, ids: list[int]) -> list[Document]:
    """The job owner's documents, in the order chosen; a deleted one fails the job clearly."""
    found = {doc.pk: doc for doc in Document.objects.filter(owner_id=ctx.owner_id, pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
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
