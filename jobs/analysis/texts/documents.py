"""Turning uploaded files and pasted text into a user's documents, within limits."""

from __future__ import annotations

import re
from pathlib import Path, PurePath

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from jobs.analysis.texts.extracting import (  # noqa: F401  (where callers find them)
    ACCEPTED_SUFFIXES,
    DocumentError,
    Extracted,
    Limits,
    extract,
    extract_isolated,
    normalise,
    read_text,
    sniff,
    title_in,
)
from jobs.analysis.texts.structure import unwrap
from jobs.models import Document


def check_room(owner, new_chars: int, new_count: int) -> None:
    """Refuse documents that would take a user over their count or size allowance."""
    documents = Document.objects.for_user(owner)
    count = documents.count()
    if count + new_count > settings.DOCUMENT_MAX_COUNT:
        raise DocumentError(
            f"You can keep at most {settings.DOCUMENT_MAX_COUNT} documents; you have {count}. "
            "Delete some first."
        )
    used = documents.aggregate(total=Sum("chars"))["total"] or 0
    if used + new_chars > settings.DOCUMENT_MAX_TOTAL_CHARS:
        raise DocumentError(
            f"Your documents may hold at most {settings.DOCUMENT_MAX_TOTAL_CHARS:,} characters "
            f"in all; you use {used:,} and this adds {new_chars:,}."
        )


def title_from(name: str) -> str:
    stem = PurePath(name).stem
    return re.sub(r"[_-]+", " ", stem).strip()[:200] or "Untitled"


def store_files(owner, files) -> list[Document]:
    """Keep each file, as it came, for a worker to read (`read_stored`): only what costs
    nothing to check is checked here, so the request answers at once. All or none."""
    if len(files) > settings.DOCUMENT_MAX_FILES_PER_UPLOAD:
        raise DocumentError(
            f"Upload at most {settings.DOCUMENT_MAX_FILES_PER_UPLOAD} files at a time; "
            f"you chose {len(files)}."
        )
    documents, errors = [], []
    for upload in files:
        name = PurePath(upload.name).name[:255]
        suffix = PurePath(name).suffix.lower()
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            errors.append(
                f"{name}: {upload.size / 1_048_576:.1f} MB is over the limit of "
                f"{settings.DOCUMENT_MAX_BYTES / 1_048_576:.0f} MB per file."
            )
        elif suffix not in ACCEPTED_SUFFIXES:
            allowed = ", ".join(sorted(ACCEPTED_SUFFIXES))
            errors.append(
                f"{name}: {suffix or 'files without an extension'} cannot be read; use {allowed}."
            )
        elif upload.size == 0:
            errors.append(f"{name}: the file is empty.")
        else:
            data = upload.read()
            try:
                sniff(name, data)
            except DocumentError as exc:
                errors.append(str(exc))
                continue
            documents.append(
                Document(
                    owner=owner, title=title_from(name), source=Document.Source.UPLOAD,
                    filename=name, size_bytes=upload.size, status=Document.Status.EXTRACTING,
                    upload=data,
                )
            )  # fmt: skip
    if errors:
        raise DocumentError(*errors)
    check_room(owner, 0, len(documents))
    with transaction.atomic():
        for document in documents:
            document.save()
    return documents


def limits_for(owner, document: Document) -> Limits:
    """The limits a stored file is read under: its share of the owner's allowance too."""
    used = (
        Document.objects.for_user(owner)
        .exclude(pk=document.pk)
        .aggregate(total=Sum("chars"))["total"]
        or 0
    )
    return Limits(
        chars=max(min(settings.DOCUMENT_MAX_CHARS, settings.DOCUMENT_MAX_TOTAL_CHARS - used), 0),
        pages=settings.DOCUMENT_MAX_PAGES,
        depth=settings.DOCUMENT_MAX_NESTING,
        memory_mb=settings.DOCUMENT_EXTRACT_MEMORY_MB,
        seconds=settings.DOCUMENT_EXTRACT_SECONDS,
    )


def read_stored(document_id: int) -> Document | None:
    """Read a stored file's text (in a child process, within the limits), then keep the
    text, or the refusal naming the file and the limit, and let the file go. None when
    there is nothing to read (deleted, or read already)."""
    document = Document.objects.filter(pk=document_id, status=Document.Status.EXTRACTING).first()
    if document is None:
        return None
    limits = limits_for(document.owner, document)
    try:
        if limits.chars == 0:
            raise DocumentError(
                f"{document.filename}: your documents already hold the limit of "
                f"{settings.DOCUMENT_MAX_TOTAL_CHARS:,} characters in all."
            )
        extracted = extract_isolated(document.filename, bytes(document.upload or b""), limits)
    except DocumentError as exc:
        document.status, document.error, document.text = Document.Status.REFUSED, str(exc), ""
    else:
        document.status, document.text = Document.Status.READY, extracted.text
        document.pages = extracted.pages
        document.title = extracted.title or document.title
    document.upload = None
    # Only if it is still there and unread: deleted meanwhile, it stays deleted.
    updated = Document.objects.filter(pk=document.pk, status=Document.Status.EXTRACTING).update(
        status=document.status, error=document.error, text=document.text,
        chars=len(document.text), pages=document.pages, title=document.title, upload=None,
    )  # fmt: skip
    return document if updated else None


def refuse_unread(document_ids, reason: str) -> int:
    """Give the files still waiting among these a refusal, when their reading stopped."""
    waiting = Document.objects.filter(pk__in=document_ids, status=Document.Status.EXTRACTING)
    updated = 0
    for document in waiting.only("pk", "filename"):
        updated += Document.objects.filter(
            pk=document.pk, status=Document.Status.EXTRACTING
        ).update(
            status=Document.Status.REFUSED, error=f"{document.filename}: {reason}", upload=None
        )
    return updated


def add_text(owner, title: str, text: str, source: str = Document.Source.PASTE) -> Document:
    text = normalise(unwrap(text))
    if not text:
        raise DocumentError("The text is empty.")
    check_room(owner, len(text), 1)
    return Document.objects.create(
        owner=owner, title=title.strip()[:200] or "Pasted text", source=source,
        size_bytes=len(text.encode()), text=text,
    )  # fmt: skip


DEMO_DOCUMENTS = Path(__file__).resolve().parent / "demo_documents"


def add_demo_documents(owner) -> int:
    """Give a user the demo documents they do not have yet; returns how many were added."""
    existing = set(
        Document.objects.for_user(owner)
        .filter(source=Document.Source.DEMO)
        .values_list("filename", flat=True)
    )
    added = 0
    for path in sorted(DEMO_DOCUMENTS.glob("*.md")):
        if path.name in existing:
            continue
        text = normalise(path.read_text(encoding="utf-8"))
        title = text.splitlines()[0].lstrip("# ").strip()
        Document.objects.create(
            owner=owner, title=title[:200], source=Document.Source.DEMO, filename=path.name,
            size_bytes=path.stat().st_size, text=text,
        )  # fmt: skip
        added += 1
    return added
