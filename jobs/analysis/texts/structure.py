"""The layout of plain text: which lines are headings, table rows or list items, and which
are one paragraph hard-wrapped over several lines.

Text saved from a terminal, an e-mail or a reStructuredText file breaks its paragraphs at
a fixed width. Read line by line, every break looks like the end of a sentence; read by
these rules, a paragraph is one piece again while tables and lists keep their lines.
"""

from __future__ import annotations

import re

MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
# Code typed at a prompt (">>> ", "... ", "$ "): each line is a statement of its own.
PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.|\$)(?:\s|$)")
SENTENCE_END = re.compile(r"[.!?;:][\"'”’)\]]*$")
# A line drawn with rule characters: reStructuredText underlines, table borders, Markdown
# separators ("| --- | :-: |").
RULE = re.compile(r"^\s*[=\-~^+*#:|_.]{3,}[\s=\-~^+*#:|_.]*$")
PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
# Columns aligned by runs of spaces: two gaps of two or more spaces between words.
COLUMN_GAP = re.compile(r"\S(?: {2,}|\t)(?=\S)")
LIST_ITEM = re.compile(
    r"^\s*(?:[-*+•]|\d{1,3}[.)]|[a-zA-Z][.)]|\([a-z0-9]{1,3}\)|:[^:\n]{1,40}:)\s"
)
# How full a line must be, against the longest of its paragraph, to have been broken by a
# wrap rather than by its author.
WRAPPED_FILL = 0.6
MIN_WRAPPED = 30


CELL_SPLIT = re.compile(r" {2,}|\t")
# Prose typed with two spaces after each full stop has gaps too, but long runs of words
# between them: a table's cells are short.
MAX_CELL_WORDS = 6


def is_table_row(line: str) -> bool:
    if PIPE_ROW.match(line):
        return True
    if len(COLUMN_GAP.findall(line.strip())) < 2:
        return False
    cells = CELL_SPLIT.split(line.strip())
    return max(len(cell.split()) for cell in cells) <= MAX_CELL_WORDS


def is_rule(line: str) -> bool:
    return bool(RULE.match(line))


def is_structural(line: str) -> bool:
    """A line that stands on its own: a heading, a rule, a table row."""
    return (
        bool(MARKDOWN_HEADING.match(line) or PROMPT.match(line))
        or is_rule(line)
        or is_table_row(line)
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def line_groups(lines: list[str]) -> list[list[int]]:
    """The lines of one block (no blank line inside) grouped into the pieces they form: a
    hard-wrapped paragraph or list item is one group, a table row or heading its own."""
    width = max((len(line.rstrip()) for line in lines), default=0)
    groups: list[list[int]] = []
    for index in range(len(lines)):
        if groups and _continues(lines, index, width):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _continues(lines: list[str], index: int, width: int) -> bool:
    previous, line = lines[index - 1], lines[index]
    followed_by_rule = index + 1 < len(lines) and is_rule(lines[index + 1])
    if (
        is_structural(previous)
        or is_structural(line)
        or followed_by_rule
        or LIST_ITEM.match(line)
        or not line.strip()
    ):
        return False
    filled = len(previous.rstrip())
    if filled < MIN_WRAPPED or filled < WRAPPED_FILL * width:
        return False
    if _indent(line) == _indent(previous):
        return True
    # A list item's or a definition's wrapped lines hang indented under its text.
    return _indent(line) > _indent(previous) and (
        bool(LIST_ITEM.match(previous)) or not SENTENCE_END.search(previous.rstrip())
    )


BLOCK = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")
HYPHENATED = re.compile(r"(?<=[a-z])-$")


def unwrap(text: str) -> str:
    """The text with each hard-wrapped paragraph on one line, words hyphenated at a break
    joined again; headings, tables and lists keep their lines."""
    out, last = [], 0
    for block in BLOCK.finditer(text):
        out.append(text[last : block.start()])
        lines = block.group().split("\n")
        joined = []
        for group in line_groups(lines):
            piece = lines[group[0]].rstrip()
            for index in group[1:]:
                following = lines[index].strip()
                if HYPHENATED.search(piece) and following[:1].islower():
                    piece = piece[:-1] + following
                else:
                    piece += " " + following
            joined.append(piece)
        out.append("\n".join(joined))
        last = block.end()
    out.append(text[last:])
    return "".join(out)
