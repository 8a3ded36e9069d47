"""A document shown to read: a part at a time, as formatted Markdown or plain text, with
the passage a citation points at marked.

A citation names characters of the document's text (`750-805`); its link asks for them
with `?highlight=750-805#chars-750-805`. The fragment never reaches the server, so the
query parameter says what to mark, server-side (no script needed), and the fragment,
which is the mark's id, scrolls the browser to it.

A long document (a 6 MB text) would take seconds to render and make a page hundreds of
thousands of pixels tall, so it is cut into parts of about PART_CHARS characters, at a
blank line where there is one; a citation opens the part that holds its passage.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from django.utils.html import escape

from jobs.provider.rendering import markdown_to_html

PART_CHARS = 30_000
# Private-use characters: they mean nothing in Markdown and survive the sanitizer, so they
# carry the passage's two ends through the rendering.
START, END = "\ue000", "\ue001"
# What opens a Markdown block at the start of a line: a passage that starts there is
# marked after it, or the heading, item or quote would no longer be one.
BLOCK_OPENER = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?|\|[ \t]*)*")
HIGHLIGHT = re.compile(r"^(\d{1,10})-(\d{1,10})$")


@dataclass(frozen=True)
class Passage:
    start: int
    end: int

    @property
    def anchor(self) -> str:
        return f"chars-{self.start}-{self.end}"

    @property
    def value(self) -> str:
        """As the `highlight` parameter writes it."""
        return f"{self.start}-{self.end}"


@dataclass(frozen=True)
class Part:
    number: int  # from 1
    count: int
    start: int
    end: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def passage_url(base: str, start, end) -> str:
    """The address that opens a document's page at characters start-end, marked."""
    passage = Passage(int(start), int(end))
    return f"{base}?highlight={passage.value}#{passage.anchor}"


def parse_highlight(value: str, length: int) -> Passage | None:
    """The passage a `highlight` parameter names, if it is one of this text's."""
    match = HIGHLIGHT.match(value.strip())
    if not match:
        return None
    start, end = int(match[1]), int(match[2])
    if not 0 <= start < end <= length:
        return None
    return Passage(start, end)


def part_starts(text: str, size: int = PART_CHARS) -> list[int]:
    """Where each part begins: after a blank line about `size` characters on, else after
    a line break, else anywhere (a text without line breaks)."""
    starts = [0]
    while len(text) - starts[-1] > size + size // 2:
        position = starts[-1] + size
        cut = text.find("\n\n", position, position + size // 2)
        if cut >= 0:
            cut += 2
        else:
            cut = text.find("\n", position, position + size // 2)
            cut = cut + 1 if cut >= 0 else position
        starts.append(cut)
    return starts


def part_of(text: str, number: int | None, passage: Passage | None) -> Part:
    """The part asked for, else the one holding the passage, else the first."""
    starts = part_starts(text)
    if number is None or not 1 <= number <= len(starts):
        number = bisect_right(starts, passage.start) if passage else 1
    index = number - 1
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    return Part(number, len(starts), starts[index], end)


def render_part(text: str, part: Part, passage: Passage | None, *, formatted: bool) -> str:
    """One part of the text as safe HTML, the passage (clipped to the part) in a <mark>
    whose id is the passage's anchor."""
    body = text[part.start : part.end].replace(START, "\ufffd").replace(END, "\ufffd")
    span = _local_span(body, part, passage)
    if not formatted:
        if span is None:
            return escape(body)
        start, end = span
        return (
            escape(body[:start])
            + _open(passage)
            + escape(body[start:end])
            + "</mark>"
            + escape(body[end:])
        )
    if span is None:
        return markdown_to_html(body)
    start, end = span
    if start == 0 or body[start - 1] == "\n":
        start = min(end, start + BLOCK_OPENER.match(body, start).end() - start)
    html = markdown_to_html(body[:start] + START + body[start:end] + END + body[end:])
    return _mark(html, passage)


def _local_span(body: str, part: Part, passage: Passage | None) -> tuple[int, int] | None:
    if passage is None or passage.end <= part.start or passage.start >= part.end:
        return None
    start = max(passage.start, part.start) - part.start
    end = min(passage.end, part.end) - part.start
    # The marks sit on the passage's words: spaces, line breaks and a table's
    # closing bar at its ends belong to the blocks around it.
    while start < end and body[start].isspace():
        start += 1
    while end > start and (body[end - 1].isspace() or body[end - 1] == "|"):
        end -= 1
    return (start, end) if start < end else None


def _open(passage: Passage) -> str:
    return f'<mark id="{passage.anchor}" class="passage" tabindex="-1">'


def _mark(html: str, passage: Passage) -> str:
    start, end = html.find(START), html.find(END)
    if start < 0 or end < start or _inside_tag(html, start) or _inside_tag(html, end):
        # The passage fell inside a link's address or the like: shown unmarked.
        return html.replace(START, "").replace(END, "")
    # A passage may run over several paragraphs or cells: the mark is closed before each
    # tag inside it and opened again after, so that every piece nests where it stands.
    inner = re.sub(r"(<[^>]*>)", r'</mark>\1<mark class="passage">', html[start + 1 : end])
    marked = html[:start] + _open(passage) + inner + "</mark>" + html[end + 1 :]
    return re.sub(r'<mark class="passage">(\s*)</mark>', r"\1", marked)


def _inside_tag(html: str, position: int) -> bool:
    return html.rfind("<", 0, position) > html.rfind(">", 0, position)
