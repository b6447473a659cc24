"""The ER diagram of section 6, grouped by schema.

One picture per schema keeps a diagram readable at a few hundred tables: inside a schema the
boxes show key columns first, and when a schema is large only the keys, since relationships are
what the diagram is for; references into other schemas are listed per group instead of drawn
across the page.
"""

from __future__ import annotations

import re
from collections import defaultdict

from dbtruth.model import Catalog, Table
from dbtruth.review.facts import Facts
from dbtruth.review.model import Column, Diagram, Entity, Relationship, SchemaGroup

# Long SQL type names, shortened to the names PostgreSQL also accepts, so boxes stay narrow.
SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
    "character varying": "varchar",
    "double precision": "float8",
    "bit varying": "varbit",
    "character": "char",
}
_TYPE_PARTS = re.compile(r"^(.*?)(\(.*\))?(\[\])?$")


def short_type(type_text: str) -> str:
    """'character varying(20)' -> 'varchar(20)', 'timestamp(3) without time zone' ->
    'timestamp(3)'."""
    text = type_text
    for precision_form in ("timestamp", "time"):
        match = re.match(rf"^{precision_form}(\(\d+\)) (with|without) time zone(\[\])?$", text)
        if match:
            suffix = "tz" if match.group(2) == "with" else ""
            return f"{precision_form}{suffix}{match.group(1)}{match.group(3) or ''}"
    match = _TYPE_PARTS.match(text)
    assert match is not None
    base, params, array = match.group(1), match.group(2) or "", match.group(3) or ""
    return SHORT_TYPES.get(base, base) + params + array


# Above this many tables in a schema, boxes show key columns only.
KEYS_ONLY_ABOVE = 20
MAX_COLUMNS = 12


def _keys(catalog: Catalog, table: Table) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for constraint in catalog.constraints_of(table):
        mark = {"primary key": "PK", "foreign key": "FK", "unique": "UK"}.get(constraint.kind)
        if mark:
            for column in constraint.columns:
                keys[column].add(mark)
    return keys


def _entity(facts: Facts, table: Table, keys_only: bool) -> Entity:
    keys = _keys(facts.catalog, table)
    order = {"PK": 0, "FK": 1, "UK": 2}

    def key_text(name: str) -> str:
        marks = sorted(keys.get(name, ()), key=order.__getitem__)
        if "PK" in marks:
            marks = [m for m in marks if m != "UK"]
        return ",".join(marks)

    keyed = [c for c in table.columns if key_text(c.name)]
    plain = [c for c in table.columns if not key_text(c.name)]
    keyed.sort(key=lambda c: order[key_text(c.name).split(",")[0]])
    shown = keyed if keys_only else (keyed + plain)[: max(MAX_COLUMNS, len(keyed))]
    declared = facts.role_of(table.qualified)
    return Entity(
        schema=table.schema,
        name=table.name,
        columns=tuple(
            Column(c.name, short_type(c.type), key_text(c.name), c.not_null) for c in shown
        ),
        hidden_columns=len(table.columns) - len(shown),
        role=declared[1].role if declared else None,
        kind=table.kind,
    )


def build_diagram(facts: Facts) -> Diagram:
    catalog = facts.catalog
    by_schema: dict[str, list[Table]] = defaultdict(list)
    for table in facts.tables:
        by_schema[table.schema].append(table)
    drawn = {t.qualified for t in facts.tables}
    inner: dict[str, list[Relationship]] = defaultdict(list)
    outgoing: dict[str, list[Relationship]] = defaultdict(list)
    for constraint in catalog.constraints:
        parent = constraint.ref_qualified
        if constraint.kind != "foreign key" or constraint.inherited or parent is None:
            continue
        child = constraint.table_qualified
        if child not in drawn:
            continue
        child_table = catalog.table(child)
        assert child_table is not None
        table = child_table
        optional = any(
            (col := table.column(name)) is not None and not col.not_null
            for name in constraint.columns
        )
        one_to_one = any(
            c.kind in ("primary key", "unique") and set(c.columns) == set(constraint.columns)
            for c in catalog.constraints_of(table)
        )
        relationship = Relationship(
            child, parent, constraint.columns, optional, one_to_one, constraint.name
        )
        if constraint.ref_schema == constraint.schema and parent in drawn:
            inner[constraint.schema].append(relationship)
        else:
            outgoing[constraint.schema].append(relationship)
    groups = []
    for schema in sorted(by_schema):
        tables = sorted(by_schema[schema], key=lambda t: t.name)
        keys_only = len(tables) > KEYS_ONLY_ABOVE
        groups.append(
            SchemaGroup(
                schema=schema,
                entities=tuple(_entity(facts, t, keys_only) for t in tables),
                relationships=tuple(inner[schema]),
                outgoing=tuple(outgoing[schema]),
            )
        )
    return Diagram(tuple(groups))
