"""The ER diagram as inline SVG for the HTML review, laid out so a few hundred tables stay
readable.

Per schema: tables are split into connected clusters of foreign keys; each cluster is drawn in
layers (a referenced table above the tables that reference it) with rows wrapped to the page
width; tables with no relationship are drawn last as a compact grid. A table referenced by many
others (a hub such as `concept` or `users`) gets no lines: each referencing box names it in a
"→ hub" footer instead, which is what turns a hairball into a picture.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from dbtruth.review.model import Entity, Relationship, SchemaGroup

BOX_WIDTH = 230
ROW = 16
HEADER = 24
GAP_X = 30
GAP_Y = 56
PER_ROW = 4
HUB_MIN_REFERENCES = 8
MAX_NAME = 30
LINE_CHARS = 29  # monospace characters that fit in a box line (12px type, 7.2px per char)


@dataclass
class _Box:
    entity: Entity
    footer: list[str]
    x: float = 0
    y: float = 0

    @property
    def height(self) -> float:
        rows = len(self.entity.columns) + (1 if self.entity.hidden_columns else 0)
        return HEADER + ROW * rows + ROW * len(self.footer) + 8


def _short(text: str, limit: int = MAX_NAME) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clusters(group: SchemaGroup, edges: list[Relationship]) -> list[list[str]]:
    neighbours: dict[str, set[str]] = defaultdict(set)
    for rel in edges:
        neighbours[rel.child].add(rel.parent)
        neighbours[rel.parent].add(rel.child)
    seen: set[str] = set()
    clusters = []
    for entity in group.entities:
        start = entity.qualified
        if start in seen or start not in neighbours:
            continue
        stack, members = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            members.append(node)
            for other in sorted(neighbours[node]):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        clusters.append(members)
    clusters.sort(key=len, reverse=True)
    return clusters


def _layers(members: list[str], edges: list[Relationship]) -> list[list[str]]:
    """Longest-path layering: a child sits below all of its parents (cycles are cut off
    after len(members) rounds)."""
    inside = set(members)
    layer = dict.fromkeys(members, 0)
    for _ in range(len(members)):
        changed = False
        for rel in edges:
            if rel.child in inside and rel.parent in inside and rel.child != rel.parent:
                wanted = layer[rel.parent] + 1
                if layer[rel.child] < wanted <= len(members):
                    layer[rel.child] = wanted
                    changed = True
        if not changed:
            break
    rows: dict[int, list[str]] = defaultdict(list)
    for name in members:
        rows[layer[name]].append(name)
    return [sorted(rows[k]) for k in sorted(rows)]


def _place(rows: list[list[str]], boxes: dict[str, _Box], top: float) -> float:
    y = top
    for row in rows:
        for start in range(0, len(row), PER_ROW):
            chunk = row[start : start + PER_ROW]
            height = max(boxes[name].height for name in chunk)
            for i, name in enumerate(chunk):
                boxes[name].x = 10 + i * (BOX_WIDTH + GAP_X)
                boxes[name].y = y
            y += height + GAP_Y
    return y


def _box_svg(box: _Box) -> str:
    entity = box.entity
    role = f" · {entity.role}" if entity.role else ""
    parts = [
        f'<g class="entity" data-table="{escape(entity.qualified)}">',
        f"<title>{escape(entity.qualified)}{escape(role)}</title>",
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{box.height}" rx="4" '
        f'class="box{" role-" + escape(entity.role) if entity.role else ""}"/>',
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{HEADER}" rx="4" '
        'class="head"/>',
        f'<text x="{box.x + 8}" y="{box.y + 16}" class="name">{escape(_short(entity.name))}'
        f'<tspan class="role">{escape(role)}</tspan></text>',
    ]
    y = box.y + HEADER + ROW - 3
    for column in entity.columns:
        key = f'<tspan class="key">{escape(column.key)} </tspan>' if column.key else ""
        null = "" if column.not_null else "?"
        type_text = _short(column.type, 12)
        # Name, key, "?" and type share one line of LINE_CHARS; the name gives way.
        room = LINE_CHARS - len(type_text) - 1 - len(null) - (len(column.key) + 1 if key else 0)
        parts.append(
            f'<text x="{box.x + 8}" y="{y}" class="col">{key}'
            f"{escape(_short(column.name, max(room, 6)))}{null}"
            f'<tspan class="type" x="{box.x + BOX_WIDTH - 8}" text-anchor="end">'
            f"{escape(type_text)}</tspan></text>"
        )
        y += ROW
    if entity.hidden_columns:
        parts.append(
            f'<text x="{box.x + 8}" y="{y}" class="more">… {entity.hidden_columns} more '
            "column(s)</text>"
        )
        y += ROW
    for line in box.footer:
        text = escape(_short(line, LINE_CHARS))
        parts.append(f'<text x="{box.x + 8}" y="{y}" class="hubref">{text}</text>')
        y += ROW
    parts.append("</g>")
    return "".join(parts)


def _edge_svg(rel: Relationship, boxes: dict[str, _Box]) -> str:
    parent, child = boxes[rel.parent], boxes[rel.child]
    label = escape(f"{rel.name} ({', '.join(rel.columns)})")
    dash = ' stroke-dasharray="5 3"' if rel.optional else ""
    if rel.parent == rel.child:
        x, y = parent.x + BOX_WIDTH, parent.y + HEADER / 2
        path = f"M{x},{y} C{x + 30},{y - 10} {x + 30},{y + 30} {x},{y + 20}"
    else:
        x1, y1 = parent.x + BOX_WIDTH / 2, parent.y + parent.height
        x2, y2 = child.x + BOX_WIDTH / 2, child.y
        if child.y <= parent.y:  # same row (a cycle was cut): connect the sides
            y1, y2 = parent.y + HEADER / 2, child.y + HEADER / 2
            x1 = parent.x + (BOX_WIDTH if child.x > parent.x else 0)
            x2 = child.x + (0 if child.x > parent.x else BOX_WIDTH)
        bend = max(abs(y2 - y1) / 2, 20)
        path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
    return (
        f'<path class="edge" d="{path}"{dash} marker-start="url(#one)" '
        f'marker-end="url(#many)"><title>{label}</title></path>'
    )


def _svg(boxes: list[_Box], edges: list[Relationship], height: float, label: str) -> str:
    index = {b.entity.qualified: b for b in boxes}
    width = 10 + min(PER_ROW, max(len(boxes), 1)) * (BOX_WIDTH + GAP_X)
    body = "".join(_edge_svg(r, index) for r in edges) + "".join(_box_svg(b) for b in boxes)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="erd" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}">{body}</svg>'
    )


def render_group(group: SchemaGroup) -> list[str]:
    """One SVG per cluster of related tables, then one for the unrelated ones."""
    referenced: dict[str, int] = defaultdict(int)
    for rel in group.relationships:
        referenced[rel.parent] += 1
    hubs = {t for t, n in referenced.items() if n >= HUB_MIN_REFERENCES}
    drawn = [r for r in group.relationships if r.parent not in hubs]
    labelled: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for rel in group.relationships:
        if rel.parent in hubs:
            labelled[rel.child][rel.parent.split(".", 1)[1]].append(", ".join(rel.columns))
    for rel in group.outgoing:
        labelled[rel.child][rel.parent].append(", ".join(rel.columns))
    # One footer line per referenced table, however many columns point at it.
    footers: dict[str, list[str]] = defaultdict(list)
    for child, targets in labelled.items():
        for parent, columns in targets.items():
            what = columns[0] if len(columns) == 1 else f"{len(columns)} references"
            footers[child].append(f"→ {parent} ({what})")
    boxes = {e.qualified: _Box(e, footers[e.qualified]) for e in group.entities}
    svgs = []
    clusters = _clusters(group, drawn)
    cluster_of = {name: i for i, members in enumerate(clusters) for name in members}
    # Both ends of a drawn edge are in one cluster by construction: group edges by it once.
    edges_of: dict[int, list[Relationship]] = defaultdict(list)
    for rel in drawn:
        edges_of[cluster_of[rel.child]].append(rel)
    for i, members in enumerate(clusters):
        bottom = _place(_layers(members, edges_of[i]), boxes, 10)
        svgs.append(
            _svg([boxes[m] for m in members], edges_of[i], bottom - GAP_Y + 20,
                 f"{group.schema}: {len(members)} related tables")
        )  # fmt: skip
    clustered = set(cluster_of)
    alone = [e.qualified for e in group.entities if e.qualified not in clustered]
    if alone:
        bottom = _place([alone], boxes, 10)
        svgs.append(
            _svg([boxes[m] for m in alone], [], bottom - GAP_Y + 20,
                 f"{group.schema}: {len(alone)} tables without drawn relationships")
        )  # fmt: skip
    return svgs


def drawn_edges(group: SchemaGroup) -> int:
    hubs = set(hubs_of(group))
    return sum(1 for r in group.relationships if r.parent not in hubs)


def hubs_of(group: SchemaGroup) -> list[str]:
    referenced: dict[str, int] = defaultdict(int)
    for rel in group.relationships:
        referenced[rel.parent] += 1
    return sorted(t for t, n in referenced.items() if n >= HUB_MIN_REFERENCES)
