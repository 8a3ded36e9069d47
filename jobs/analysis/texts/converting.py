"""reStructuredText and HTML turned into the Markdown-like text the analyses read: headings
as "#" lines, one paragraph a line, list items and table rows on lines of their own.

docutils parses reStructuredText (with file inclusion and raw passthrough off: a document
must not read the server's files); BeautifulSoup and markdownify read HTML, after the page
furniture (navigation, scripts, forms, headers and footers) is removed.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from docutils import nodes
from docutils.core import publish_doctree
from markdownify import MarkdownConverter

RST_SETTINGS = {
    "report_level": 5,
    "halt_level": 5,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "input_encoding": "unicode",
}
# Parts of a web page that frame its content rather than belong to it.
FURNITURE = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "button", "select", "iframe", "svg", "canvas",
)  # fmt: skip
SKIPPED_NODES = (
    nodes.system_message,
    nodes.comment,
    nodes.substitution_definition,
    nodes.target,
    nodes.raw,
    nodes.image,
)


def flat(text: str) -> str:
    return " ".join(text.split())


def rst_to_text(source: str) -> tuple[str, str | None]:
    """The text of a reStructuredText document and its title."""
    tree = publish_doctree(source, settings_overrides=RST_SETTINGS)
    tree["source_lines"] = source.splitlines()
    lines: list[str] = []
    title = tree.get("title") or None
    if title:
        lines += [f"# {flat(title)}", ""]
    _rst_lines(tree, lines, depth=2 if title else 1)
    return _tidy("\n".join(lines)), title


def _rst_lines(node: nodes.Node, lines: list[str], depth: int) -> None:
    for child in node.children:
        if isinstance(child, SKIPPED_NODES):
            continue
        if isinstance(child, nodes.section):
            _rst_lines(child, lines, depth + 1)
        elif isinstance(child, nodes.title):
            if node is not child.parent or not isinstance(node, nodes.document):
                lines += [f"{'#' * min(depth, 6)} {flat(child.astext())}", ""]
        elif isinstance(child, nodes.paragraph | nodes.line_block | nodes.rubric):
            lines += [flat(child.astext()), ""]
        elif isinstance(child, nodes.literal_block | nodes.doctest_block):
            lines += [child.astext().rstrip(), ""]
        elif isinstance(child, nodes.table):
            lines += [*(_lost_header(child) or _rst_table(child)), ""]
        elif isinstance(child, nodes.field):
            name, body = child.children[0], child.children[1]
            _item(f"{flat(name.astext())}:", body, lines, depth)
        elif isinstance(child, nodes.definition_list_item):
            term, rest = child.children[0], child.children[1:]
            for part in rest:
                _item(flat(term.astext()), part, lines, depth)
                term = nodes.term()
        elif isinstance(child, nodes.list_item):
            _item(_enumerator(child), child, lines, depth)
        elif isinstance(child, nodes.Element) and child.children:
            _rst_lines(child, lines, depth)
            if isinstance(child, nodes.bullet_list | nodes.enumerated_list | nodes.field_list):
                lines.append("")
        elif isinstance(child, nodes.Text):
            text = flat(child.astext())
            if text:
                lines += [text, ""]


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _enumerator(item: nodes.list_item) -> str:
    """The mark an enumerated list item was typed with ("E.", "3)"): an initial such as
    "E. Alpaydin" reads as a one-item list, and must not lose its letter."""
    parent = item.parent
    if not isinstance(parent, nodes.enumerated_list):
        return ""
    number = parent.get("start", 1) + parent.index(item)
    kind = parent.get("enumtype", "arabic")
    if kind in ("upperalpha", "loweralpha") and number <= len(ALPHABET):
        mark = ALPHABET[number - 1]
        mark = mark.lower() if kind == "loweralpha" else mark
    else:
        mark = str(number)
    return f"{parent.get('prefix', '')}{mark}{parent.get('suffix', '.')}"


def _item(label: str, body: nodes.Node, lines: list[str], depth: int) -> None:
    """A list item on one line when it is one paragraph; otherwise its label, then its
    parts (nested lists, tables) each on their own lines."""
    parts = [part for part in body.children if not isinstance(part, SKIPPED_NODES)]
    # A field whose body is one list of one item: the item is the field's value.
    if (
        len(parts) == 1
        and isinstance(parts[0], nodes.bullet_list | nodes.enumerated_list)
        and len(parts[0].children) == 1
    ):
        only = parts[0].children[0]
        label = f"{label} {_enumerator(only)}".strip()
        parts = [part for part in only.children if not isinstance(part, SKIPPED_NODES)]
    if all(isinstance(part, nodes.paragraph) for part in parts):
        text = flat(" ".join(part.astext() for part in parts))
        lines.append(f"- {label} {text}".rstrip().replace("-  ", "- "))
        return
    first = parts[0] if isinstance(parts[0], nodes.paragraph) else None
    head = f"{label} {flat(first.astext())}" if first else label
    holder = nodes.container()
    holder.children = [part for part in parts if part is not first]
    nested: list[str] = []
    _rst_lines(holder, nested, depth)
    # Nested items stay under their label, indented, with no blank line between: one list.
    if head.strip():
        lines.append(f"- {head.strip()}")
    lines.extend(f"  {line}" for line in nested if line.strip())
    lines.append("")


def _lost_header(table: nodes.table) -> list[str]:
    """The source lines of a simple table whose header docutils could not read (a header
    with a blank first column is taken for a continuation line and dropped): the column
    names say what its figures are, so the table is given again as it was typed."""
    head = next(iter(table.findall(nodes.thead)), None)
    if head is None or head.astext().strip() or not table.line:
        return []
    source = table.document["source_lines"] if table.document else []
    start = table.line - 1
    block = []
    for line in source[start:]:
        if not line.strip():
            break
        block.append(line)
    indent = min((len(line) - len(line.lstrip()) for line in block), default=0)
    return [line[indent:].rstrip() for line in block]


def _rst_table(table: nodes.table) -> list[str]:
    rows = []
    for row in table.findall(nodes.row):
        cells = [flat(entry.astext()).replace("|", "/") for entry in row.children]
        if not any(cells):
            continue
        rows.append("| " + " | ".join(cells) + " |")
    if rows:
        width = rows[0].count(" | ") + 1
        rows.insert(1, "|" + " --- |" * width)
    return rows


def html_to_text(source: str) -> tuple[str, str | None]:
    """The text of an HTML page without its furniture, and its title."""
    soup = BeautifulSoup(source, "html.parser")
    title_tag = soup.find("title")
    title = flat(title_tag.get_text()) if title_tag else None
    for tag in soup.find_all(FURNITURE):
        tag.decompose()
    if title_tag:
        title_tag.decompose()
    # Line breaks inside an HTML paragraph are spaces; only preformatted text keeps them.
    for string in soup.find_all(string=True):
        if not string.find_parent(["pre", "code"]) and "\n" in string:
            string.replace_with(re.sub(r"\s+", " ", string))
    body = soup.find("main") or soup.find("article") or soup.body or soup
    text = MarkdownConverter(heading_style="ATX", bullets="-", strip=["a", "img"]).convert_soup(
        body
    )
    text = _tidy(text)
    if not title:
        heading = re.search(r"^#{1,2} (.+)$", text, re.MULTILINE)
        title = heading.group(1) if heading else None
    return text, title or None


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()
