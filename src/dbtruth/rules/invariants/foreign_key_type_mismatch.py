"""I008 foreign-key-type-mismatch."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import constraint_ref, own_tables
from dbtruth.spec import Settings, rule


@rule("I008", "foreign-key-type-mismatch", Severity.WARNING)
def foreign_key_type_mismatch(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds foreign keys whose referencing column has a different type from the referenced column
    (for example `integer` pointing at `bigint`).

    ## Why is this bad?
    The smaller side caps the key space: once the parent's bigint ids pass 2^31 the child cannot
    store them, and the failure arrives in production years later. Mixed types also force casts
    in joins, which can keep the planner from using indexes (§6.4 "Type sesuai semantic?").

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY);
    CREATE TABLE case_note (id bigint PRIMARY KEY, case_id integer REFERENCES case_file (id));
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_note (id bigint PRIMARY KEY, case_id bigint REFERENCES case_file (id));
    ```

    ## Fix safety
    The fix widens the narrower side, never narrows the wider: an integer reference to a bigint
    key becomes bigint; a bigint reference to an integer key widens the key, the sequence that
    feeds it, and the other columns that reference it (so they do not become the narrow side).
    varchar lengths widen the same way. Every value is kept, but changing a column's type
    rewrites the table and its indexes under ACCESS EXCLUSIVE: plan it as an
    expand/backfill/contract migration on a large table. Types with no order between them
    (uuid and text, date and timestamp) get the referenced type, labelled as able to change or
    refuse values.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys; playbook §6.4.
    """
    for table in own_tables(catalog):
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.inherited or not fk.ref_qualified:
                continue
            target = catalog.table(fk.ref_qualified)
            if target is None:
                continue
            for mine, theirs in zip(fk.columns, fk.ref_columns, strict=False):
                a, b = table.column(mine), target.column(theirs)
                if a is None or b is None or a.type == b.type:
                    continue
                yield Violation(
                    constraint_ref(fk),
                    f"foreign key {fk.name}: {table.qualified}.{mine} is {a.type} but "
                    f"{target.qualified}.{theirs} is {b.type}",
                    _fix(catalog, table, a, target, b),
                    evidence=(("referencing type", a.type), ("referenced type", b.type)),
                    discriminator=mine,
                )


_INTEGER_BYTES = {"int2": 2, "int4": 4, "int8": 8}
_LENGTH = re.compile(r"^character varying\((\d+)\)$")


def _width(column: Column) -> tuple[str, float] | None:
    """The column's type family and how much it holds, for the types one can widen without
    changing any value: integers by bytes, varchar by length (text and bare varchar unbounded),
    numeric without a precision. None for everything else."""
    if column.domain is not None:
        return None
    if column.type_name in _INTEGER_BYTES:
        return "integer", _INTEGER_BYTES[column.type_name]
    if column.type_name in ("varchar", "text"):
        length = _LENGTH.match(column.type)
        return "text", float(length.group(1)) if length else math.inf
    if column.type == "numeric":
        return "integer", math.inf  # holds every integer and every numeric exactly
    return None


def _fix(catalog: Catalog, table: Table, mine: Column, target: Table, theirs: Column) -> Fix:
    a, b = _width(mine), _width(theirs)
    if a is None or b is None or a[0] != b[0] or a[1] == b[1]:
        # No order between the types (uuid and text, timestamp and date): converting either
        # side can refuse or change values.
        return Fix(
            "give the referencing column the referenced column's type",
            sql=f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
            f"{ident(mine.name)} TYPE {theirs.type};",
            lock_safe=False,
            behaviour_change=True,
            data_loss=True,
            note="rewrites the table under ACCESS EXCLUSIVE; the conversion may fail or "
            "change values",
        )
    if a[1] < b[1]:
        steps = [_alter(table, mine, theirs.type)]
    else:
        steps = _widen_referenced(catalog, target, theirs, mine.type, a)
    return Fix(
        "widen the narrower side to the wider type",
        sql="\n".join(steps),
        lock_safe=False,
        note="rewrites the table under ACCESS EXCLUSIVE; every value is kept",
    )


def _alter(table: Table, column: Column, type_: str) -> str:
    return (
        f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
        f"{ident(column.name)} TYPE {type_};"
    )


def _widen_referenced(
    catalog: Catalog, target: Table, key: Column, type_: str, width: tuple[str, float]
) -> list[str]:
    """Widen a referenced key, the sequence that feeds it (an identity's follows by itself),
    and every other column that references it and would be the narrow side next."""
    steps = [_alter(target, key, type_)]
    sequence = catalog.sequence_owned_by(target, key.name)
    if (
        sequence is not None
        and not key.identity
        and type_ in _SEQUENCE_BYTES
        and _SEQUENCE_BYTES.get(sequence.data_type, 8) < _SEQUENCE_BYTES[type_]
    ):
        steps.append(f"ALTER SEQUENCE {qualified(sequence.schema, sequence.name)} AS {type_};")
    for fk in catalog.foreign_keys_to(target):
        other = catalog.table(fk.table_qualified)
        if other is None or fk.inherited:
            continue
        for mine, theirs in zip(fk.columns, fk.ref_columns, strict=False):
            column = other.column(mine)
            if theirs != key.name or column is None:
                continue
            found = _width(column)
            if found is not None and found[0] == width[0] and found[1] < width[1]:
                step = _alter(other, column, type_)
                if step not in steps:
                    steps.append(step)
    return steps


_SEQUENCE_BYTES = {"smallint": 2, "integer": 4, "bigint": 8}
