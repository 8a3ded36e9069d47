"""Turning uploaded files and pasted text into a user's documents, within limits."""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from jobs.analysis.texts.converting import html_to_text, rst_to_text
from jobs.analysis.texts.structure import unwrap
from jobs.models import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
RST_SUFFIXES = {".rst", ".rest"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
ACCEPTED_SUFFIXES = TEXT_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
# Signatures of common binary formats, which no text file starts with.
BINARY_SIGNATURES = (
    b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf",
    b"Rar!", b"\x7fELF", b"MZ", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x00\x00\x01\x00", b"OggS",
    b"ID3", b"RIFF", b"\x28\xb5\x2f\xfd", b"SQLite format 3",
)  # fmt: skip
# Control characters other than tab, line and page breaks: text has next to none of them,
# binary data read as text has about one in eight characters.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.002


class DocumentError(ValueError):
    """Documents that cannot be used, with one message per problem for their owner."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


@dataclass
class Extracted:
    text: str
    pages: int | None = None
    # The document's own title (a PDF's metadata, a first heading), when it has one.
    title: str | None = None


# A first line that is a heading: Markdown's "# Title", or a line underlined "=====".
_MARKDOWN_HEADING = re.compile(r"#{1,2}\s+(?P<title>.+?)\s*#*")
_UNDERLINE = re.compile(r"(=|-){3,}")


def title_in(text: str) -> str | None:
    """The title a text starts with: a Markdown or underlined heading, or a short first
    line standing alone that does not read as a sentence. None when it starts with prose."""
    lines = [line.strip() for line in text.lstrip().splitlines()[:4]] + ["", "", ""]
    first, second = lines[0], lines[1]
    if not any(lines[1:]):
        return None  # a single line is the text itself, not a title above it
    if heading := _MARKDOWN_HEADING.fullmatch(first):
        return heading["title"][:200]
    if first and _UNDERLINE.fullmatch(second):
        return first[:200]
    standalone = not second
    if standalone and 0 < len(first) <= 100 and not first.endswith((".", ",", ";", ":")):
        return first
    return None


def _pdf_title(reader: PdfReader) -> str | None:
    """The title in a PDF's metadata, unless it is a word processor's placeholder."""
    title = ((reader.metadata or {}).get("/Title") or "").strip()
    if not title or title.lower() in {"untitled", "title"} or " - " in title[:20]:
        return None
    return str(title)[:200]


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Older Windows exports are common; cp1252 leaves a few bytes undefined, which we refuse.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: the text is not in a readable encoding (use UTF-8).") from exc


def read_text(name: str, data: bytes) -> str:
    """The text of a file meant to hold text, refused when it is really binary data: a
    file is judged on all its bytes, since a binary one need not start with a NUL."""
    binary = DocumentError(f"{name}: this looks like a binary file, not text.")
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if data.startswith(BINARY_SIGNATURES) or (b"\x00" in data and not utf16):
        raise binary
    if not utf16 and len(CONTROL_BYTES.findall(data)) > MAX_CONTROL_SHARE * len(data):
        raise binary
    text = decode(data, name)
    if len(CONTROL.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise binary
    return text


def extract(name: str, data: bytes) -> Extracted:
    suffix = PurePath(name).suffix.lower()
    if not data:
        raise DocumentError(f"{name}: the file is empty.")
    if suffix in TEXT_SUFFIXES:
        text = normalise(unwrap(read_text(name, data)))
        extracted = Extracted(text, title=title_in(text))
    elif suffix in RST_SUFFIXES | HTML_SUFFIXES:
        convert = rst_to_text if suffix in RST_SUFFIXES else html_to_text
        try:
            text, title = convert(read_text(name, data))
        except Exception as exc:  # a converter may fail on any malformed input
            raise DocumentError(f"{name}: the file could not be read ({exc}).") from exc
        text = normalise(text)
        extracted = Extracted(text, title=(title or title_in(text) or "")[:200] or None)
    elif suffix in PDF_SUFFIXES:
        extracted = _extract_pdf(name, data)
    else:
        allowed = ", ".join(sorted(ACCEPTED_SUFFIXES))
        raise DocumentError(
            f"{name}: {suffix or 'files without an extension'} cannot be read; use {allowed}."
        )
    if not extracted.text:
        raise DocumentError(f"{name}: the file has no text.")
    return extracted


def _extract_pdf(name: str, data: bytes) -> Extracted:
    if not data.startswith(b"%PDF"):
        raise DocumentError(f"{name}: this is not a PDF file.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is password-protected.")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = _pdf_title(reader)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{name}: the PDF could not be read ({exc}).") from exc
    text = normalise(unwrap("\n\n".join(pages)))
    if not text:
        raise DocumentError(
            f"{name}: the PDF has no extractable text (it may be a scan); "
            "paste its text or upload a text version."
        )
    return Extracted(text, pages=len(pages), title=title or title_in(text))


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


def add_files(owner, files) -> list[Document]:
    """Extract every file, then save them all, or none when any one cannot be used."""
    if len(files) > settings.DOCUMENT_MAX_FILES_PER_UPLOAD:
        raise DocumentError(
            f"Upload at most {settings.DOCUMENT_MAX_FILES_PER_UPLOAD} files at a time; "
            f"you chose {len(files)}."
        )
    documents, errors = [], []
    for upload in files:
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            errors.append(
                f"{upload.name}: {upload.size / 1_048_576:.1f} MB is over the limit of "
                f"{settings.DOCUMENT_MAX_BYTES / 1_048_576:.0f} MB per file."
            )
            continue
        try:
            extracted = extract(upload.name, upload.read())
        except DocumentError as exc:
            errors.append(str(exc))
            continue
        documents.append(
            Document(
                owner=owner,
                title=extracted.title or title_from(upload.name),
                source=Document.Source.UPLOAD,
                filename=PurePath(upload.name).name[:255],
                size_bytes=upload.size,
                pages=extracted.pages,
                text=extracted.text,
            )
        )
    if errors:
        raise DocumentError(*errors)
    check_room(owner, sum(len(doc.text) for doc in documents), len(documents))
    with transaction.atomic():
        for document in documents:
            document.save()
    return documents


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
