"""Reading a file's text, within limits, in a child process of its own.

The extraction functions need neither Django nor the database, so a worker can run them
in a fresh Python process (`python -m jobs.analysis.texts.extracting`) capped in memory
(RLIMIT_AS) and in time, and killed when over: a crafted file (a PDF whose pages share
one huge content stream, deeply nested arrays, a reStructuredText file that swells in
the parser) stops early and gives back its memory, instead of holding a thread and
gigabytes of the process that serves other jobs. Within the child the limits on pages
and characters are checked as the text comes, page by page.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path, PurePath

from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

from jobs.analysis.texts.converting import html_to_text, rst_to_text
from jobs.analysis.texts.structure import unwrap

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


@dataclass(frozen=True)
class Limits:
    """What one file may take to read: each reached one is named in its refusal."""

    chars: int = 5_000_000
    pages: int = 2_000
    # Lines indented this far are taken for a nesting bomb, not a document.
    depth: int = 100
    memory_mb: int = 1_024
    seconds: float = 120.0


def _over_chars(name: str, limits: Limits, where: str = "") -> DocumentError:
    return DocumentError(
        f"{name}: the text is longer than the limit of {limits.chars:,} characters"
        f"{where}; split the file or upload a shorter one."
    )


def _check_depth(name: str, text: str, limits: Limits, html: bool) -> None:
    """Refuse reStructuredText or HTML nested deeper than any real document is."""
    deepest = 0 if html else max((len(m) for m in re.findall(r"(?m)^[ \t]+", text)), default=0)
    tags = 0
    if html:
        depth = 0
        for match in re.finditer(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>", text):
            if match[1]:
                depth = max(depth - 1, 0)
            elif not match[3] and match[2].lower() not in VOID_TAGS:
                depth += 1
                tags = max(tags, depth)
    if deepest > limits.depth * 4 or tags > limits.depth:
        raise DocumentError(
            f"{name}: the file is nested deeper than the limit of {limits.depth} levels."
        )


VOID_TAGS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "td", "tr", "th", "dt", "dd", "option",
}  # fmt: skip


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


def sniff(name: str, data: bytes) -> None:
    """The checks that cost next to nothing (a prefix, a byte search), made when a file is
    uploaded, so a file that is plainly not what its name says is refused at once."""
    suffix = PurePath(name).suffix.lower()
    if suffix in PDF_SUFFIXES and not data.startswith(b"%PDF"):
        raise DocumentError(f"{name}: this is not a PDF file.")
    if suffix in TEXT_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES:
        utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if data.startswith(BINARY_SIGNATURES) or (b"\x00" in data and not utf16):
            raise DocumentError(f"{name}: this looks like a binary file, not text.")


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


def extract(name: str, data: bytes, limits: Limits | None = None) -> Extracted:
    """The file's text, in this process: see `extract_isolated` for untrusted files."""
    limits = limits or Limits()
    suffix = PurePath(name).suffix.lower()
    if not data:
        raise DocumentError(f"{name}: the file is empty.")
    if suffix in TEXT_SUFFIXES:
        raw = read_text(name, data)
        if len(raw) > limits.chars * 2:
            raise _over_chars(name, limits)
        text = normalise(unwrap(raw))
        extracted = Extracted(text, title=title_in(text))
    elif suffix in RST_SUFFIXES | HTML_SUFFIXES:
        convert = rst_to_text if suffix in RST_SUFFIXES else html_to_text
        source = read_text(name, data)
        if len(source) > limits.chars * 2:
            raise _over_chars(name, limits)
        _check_depth(name, source, limits, html=suffix in HTML_SUFFIXES)
        try:
            text, title = convert(source)
        except RecursionError as exc:
            raise DocumentError(
                f"{name}: the file is nested too deeply to read (limit {limits.depth} levels)."
            ) from exc
        except Exception as exc:  # a converter may fail on any malformed input
            raise DocumentError(f"{name}: the file could not be read ({exc}).") from exc
        text = normalise(text)
        extracted = Extracted(text, title=(title or title_in(text) or "")[:200] or None)
    elif suffix in PDF_SUFFIXES:
        extracted = _extract_pdf(name, data, limits)
    else:
        allowed = ", ".join(sorted(ACCEPTED_SUFFIXES))
        raise DocumentError(
            f"{name}: {suffix or 'files without an extension'} cannot be read; use {allowed}."
        )
    if not extracted.text:
        raise DocumentError(f"{name}: the file has no text.")
    if len(extracted.text) > limits.chars:
        raise _over_chars(name, limits)
    return extracted


def _extract_pdf(name: str, data: bytes, limits: Limits) -> Extracted:
    if not data.startswith(b"%PDF"):
        raise DocumentError(f"{name}: this is not a PDF file.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is password-protected.")
        count = len(reader.pages)
        if count > limits.pages:
            raise DocumentError(
                f"{name}: the PDF has {count:,} pages, over the limit of {limits.pages:,}."
            )
        pages, chars = [], 0
        # Page by page, counting: a bomb is refused at the page that crosses the limit,
        # not after every page has been read.
        for number, page in enumerate(reader.pages, start=1):
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > limits.chars:
                raise _over_chars(name, limits, f" (reached at page {number:,} of {count:,})")
        title = _pdf_title(reader)
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError(
            f"{name}: the PDF is nested too deeply to read (arrays or dictionaries inside "
            "one another past what the reader allows)."
        ) from exc
    except LimitReachedError as exc:
        raise DocumentError(f"{name}: the PDF goes past a reading limit ({exc}).") from exc
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"{name}: the PDF could not be read ({exc}).") from exc
    text = normalise(unwrap("\n\n".join(pages)))
    if not text:
        raise DocumentError(
            f"{name}: the PDF has no extractable text (it may be a scan); "
            "paste its text or upload a text version."
        )
    return Extracted(text, pages=len(pages), title=title or title_in(text))


# Where `python -m jobs.analysis.texts.extracting` finds the `jobs` package.
ROOT = Path(__file__).resolve().parents[3]


def extract_isolated(name: str, data: bytes, limits: Limits) -> Extracted:
    """The file's text, read by a child process held to `limits`: over its memory or
    time it is killed, and the file refused with the limit it reached."""
    command = [sys.executable, "-m", "jobs.analysis.texts.extracting", name,
               json.dumps(asdict(limits))]  # fmt: skip
    try:
        child = subprocess.run(
            command, input=data, capture_output=True, timeout=limits.seconds, cwd=ROOT,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise DocumentError(
            f"{name}: reading the file took longer than the limit of {limits.seconds:g} s."
        ) from None
    if child.returncode != 0 or not child.stdout:
        # Killed, or a MemoryError the child could not report: both are its memory.
        raise DocumentError(
            f"{name}: reading the file needed more than the limit of {limits.memory_mb} MB "
            "of memory."
        )
    answer = json.loads(child.stdout)
    if "errors" in answer:
        raise DocumentError(*answer["errors"])
    return Extracted(**answer)


def _child(name: str, limits: Limits) -> dict:
    import resource

    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    data = sys.stdin.buffer.read()
    try:
        return asdict(extract(name, data, limits))
    except DocumentError as error:
        return {"errors": error.messages}
    except MemoryError:
        return {
            "errors": [
                f"{name}: reading the file needed more than the limit of "
                f"{limits.memory_mb} MB of memory."
            ]
        }


if __name__ == "__main__":
    answer = _child(sys.argv[1], Limits(**json.loads(sys.argv[2])))
    sys.stdout.write(json.dumps(answer))
