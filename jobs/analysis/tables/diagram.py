"""Where each table and relationship of a semantic model goes in its diagram: boxes in
columns, every many-to-one relationship pointing right, from the tables of events (an
invoice's lines) to the tables they refer to (tracks, then albums, then artists).

A plain function of the model, drawn as SVG by the result template: no script, no
style attribute, so the page's Content-Security-Policy holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOX_WIDTH = 190
LINE_HEIGHT = 18
HEADER = 26
GAP_X = 90
GAP_Y = 24
MARGIN = 12
# Key columns listed in a box at most; more are summed up in one line.
KEYS_SHOWN = 6


@dataclass
class Box:
    name: str
    x: int
    y: int
    height: int
    keys: list[tuple[str, int]] = field(default_factory=list)  # (text, y of its line)
    width: int = BOX_WIDTH


@dataclass
class Link:
    name: str
    label: str
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def bend(self) -> int:
        return (self.x1 + self.x2) // 2


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    links: list[Link]


def layout(model: dict) -> Diagram | None:
    """The diagram of a model's tables and relationships; None for a model of one table
    with no relationship (nothing to draw)."""
    tables = [table["name"] for table in model.get("tables", [])]
    relationships = model.get("relationships", [])
    if len(tables) < 2:
        return None
    column = _columns(tables, relationships)
    keys = _keys(model)
    boxes: dict[str, Box] = {}
    heights: dict[int, int] = {}
    for name in tables:
        rank = column[name]
        shown = keys[name][:KEYS_SHOWN]
        if len(keys[name]) > KEYS_SHOWN:
            shown.append(f"… {len(keys[name]) - KEYS_SHOWN} more")
        y = heights.get(rank, MARGIN)
        height = HEADER + LINE_HEIGHT * max(len(shown), 1) + 6
        box = Box(name, MARGIN + rank * (BOX_WIDTH + GAP_X), y, height)
        box.keys = [(text, y + HEADER + LINE_HEIGHT * (i + 1) - 4) for i, text in enumerate(shown)]
        boxes[name] = box
        heights[rank] = y + height + GAP_Y
    links = []
    for relationship in relationships:
        left, right = boxes.get(relationship["left_table"]), boxes.get(relationship["right_table"])
        if left is None or right is None:
            continue
        pair = relationship["relationship_columns"][0]
        forward = right.x >= left.x
        links.append(
            Link(
                name=relationship["name"],
                label=f"{pair['left_column']} → {pair['right_column']}",
                x1=left.x + (left.width if forward else 0),
                y1=left.y + HEADER // 2,
                x2=right.x + (0 if forward else right.width),
                y2=right.y + HEADER // 2,
            )
        )
    width = max(box.x + box.width for box in boxes.values()) + MARGIN
    height = max(box.y + box.height for box in boxes.values()) + MARGIN
    return Diagram(width, height, list(boxes.values()), links)


def _columns(tables: list[str], relationships: list[dict]) -> dict[str, int]:
    """Each table's column: one past the furthest table that refers to it (the longest
    chain of relationships ending there), so every arrow points right; a cycle stops
    after as many rounds as there are tables."""
    rank = dict.fromkeys(tables, 0)
    for _ in tables:
        changed = False
        for relationship in relationships:
            left, right = relationship["left_table"], relationship["right_table"]
            if left in rank and right in rank and left != right and rank[right] <= rank[left]:
                rank[right] = rank[left] + 1
                changed = True
        if not changed:
            break
    return rank


def _keys(model: dict) -> dict[str, list[str]]:
    """The columns a box lists: its primary key, then the columns it joins on."""
    keys = {}
    for table in model["tables"]:
        listed = [f"PK {c}" for c in table.get("primary_key", {}).get("columns", [])]
        keys[table["name"]] = listed
    for relationship in model.get("relationships", []):
        for pair in relationship["relationship_columns"]:
            entry = f"FK {pair['left_column']}"
            listed = keys.get(relationship["left_table"])
            if listed is not None and entry not in listed:
                listed.append(entry)
    return keys
