"""Mermaid `erDiagram` text for one schema group, as code hosts render it in Markdown.

Mermaid identifiers are plain words, so names and types are reduced to [A-Za-z0-9_]; the real
names stay visible in the review's tables. Relationship labels keep only letters, digits and
plain punctuation as well: a quote, a newline or a backtick in a column name could otherwise end
the label, the diagram or the Markdown fence around it. Mermaid refuses diagrams above 50,000
characters (its maxTextSize), so a group that would exceed the budget is drawn without
attributes, and a group still too large is left to the HTML review.
"""

from __future__ import annotations

import re

from dbtruth.review.model import Entity, Relationship, SchemaGroup

TEXT_BUDGET = 45_000
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_ ,.-]")


def identifier(name: str) -> str:
    word = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return word if re.match(r"[A-Za-z_]", word) else f"t_{word}"


def type_word(type_text: str) -> str:
    """A Mermaid attribute type from the ER model's (already shortened) SQL type:
    'varchar(20)' -> 'varchar', 'timestamptz[]' -> 'timestamptz_array'."""
    base = re.sub(r"\(.*?\)", "", type_text).strip()
    array = base.endswith("[]")
    base = base.removesuffix("[]").strip().split(".")[-1]
    return identifier(base.replace('"', "")) + ("_array" if array else "")


def _entity(entity: Entity, attributes: bool) -> list[str]:
    name = identifier(entity.name)
    if not attributes or not entity.columns:
        return [f"    {name}"]
    lines = [f"    {name} {{"]
    for column in entity.columns:
        keys = f" {column.key.replace(',', ', ')}" if column.key else ""
        lines.append(f"        {type_word(column.type)} {identifier(column.name)}{keys}")
    lines.append("    }")
    return lines


def _relationship(rel: Relationship) -> str:
    parent = identifier(rel.parent.split(".", 1)[1])
    child = identifier(rel.child.split(".", 1)[1])
    left = "|o" if rel.optional else "||"
    right = "o|" if rel.one_to_one else "o{"
    label = _LABEL_UNSAFE.sub("_", ", ".join(rel.columns))
    return f'    {parent} {left}--{right} {child} : "{label}"'


def er_diagram(group: SchemaGroup) -> str | None:
    """The diagram text, or None when even the bare entities exceed Mermaid's limit."""
    for attributes in (True, False):
        lines = ["erDiagram"]
        for entity in group.entities:
            lines += _entity(entity, attributes)
        lines += [_relationship(r) for r in group.relationships]
        text = "\n".join(lines)
        if len(text) <= TEXT_BUDGET:
            return text
    return None
