"""I006 unique-ignores-soft-delete."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import (
    fresh_name,
    index_ref,
    is_generated_identifier,
    names_a_generated_value,
    own_tables,
    tokens,
)
from dbtruth.spec import Settings, rule

_SOFT_DELETE = (
    "deleted_at",
    "is_deleted",
    "deleted",
    "deletedAt",
    "isDeleted",
    "removed_at",
)  # not archived_at: an archived row is kept as a record, and often must stay unique


_COUNTED_WORDS = frozenset({"version", "revision", "seq", "sequence"})


def _counted_number(column: Column) -> bool:
    """A number the system counts up (`version`, `revision`, `seq`): never chosen again."""
    parts = tokens(column.name)
    return column.type_category == "N" and bool(parts) and parts[-1] in _COUNTED_WORDS


def soft_delete_column(table: Table) -> Column | None:
    return next((c for name in _SOFT_DELETE if (c := table.column(name)) is not None), None)


def live_predicate(column: Column) -> str:
    """What a live row holds in the marker: false, NULL (a deletion time not yet set), or, for a
    flag that is never NULL (`deleted smallint NOT NULL DEFAULT 0`), its default: `IS NULL`
    there would match no row and drop the uniqueness altogether."""
    name = ident(column.name)
    if column.type_name == "bool":
        return f"NOT {name}"
    if column.not_null and column.default is not None:
        return f"{name} = {column.default}"
    if column.not_null and column.type_category == "N":
        return f"{name} = 0"
    return f"{name} IS NULL"


@rule("I006", "unique-ignores-soft-delete", Severity.WARNING)
def unique_ignores_soft_delete(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    On tables that soft-delete rows (`deleted_at`, `is_deleted`, ...), finds unique constraints
    and unique indexes that are not partial on the live rows and do not include the soft-delete
    column.

    ## Why is this bad?
    The business invariant is "unique among live rows". A plain unique key also counts deleted
    rows, so re-creating something that was deleted fails — and the usual workaround is to
    mangle the old row or drop the constraint, after which the real invariant is enforced by
    nothing (§3.2, Principle 1).

    ## Example
    ```sql
    CREATE TABLE team (id bigint PRIMARY KEY, slug text NOT NULL UNIQUE, deleted_at timestamptz);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX team_slug_live_key ON team (slug) WHERE deleted_at IS NULL;
    ```

    Keys over generated identifiers (ids, tokens, hashes) are not reported: a deleted row's
    token is never re-created, so counting it blocks nobody. Nor are keys over a version or
    revision number (a numeric `version`, `revision`, `seq`): the next one gets the next
    number, and a deleted version's number must not come back (Synapse's room-key backup
    versions, which clients cache).

    ## Fix safety
    The partial index is built CONCURRENTLY (writes continue; not inside a transaction block);
    the old constraint or index is dropped after it. Dropping changes behaviour on purpose:
    deleted rows no longer block new ones.

    ## References
    PostgreSQL manual 11.8 Partial Indexes ("a partial unique index"); playbook Principle 1.
    """
    for table in own_tables(catalog):
        marker = soft_delete_column(table)
        if marker is None:
            continue
        for index in catalog.indexes_of(table):
            if not index.unique or index.primary or not index.valid:
                continue
            if marker.name in index.keys or f'"{marker.name}"' in index.keys:
                continue
            if index.predicate and marker.name in index.predicate:
                continue
            if any(
                (c := table.column(k.strip('"'))) is not None
                and (is_generated_identifier(c) or names_a_generated_value(c) or _counted_number(c))
                for k in index.keys
            ):
                continue  # ids, tokens, version numbers never come back: nobody is blocked
            table_sql = qualified(table.schema, table.name)
            name = fresh_name(
                catalog,
                table.schema,
                table.name,
                *[k.strip('"') for k in index.keys][:3],
                suffix="live_key",
            )
            keys = ", ".join(index.keys)
            predicate = live_predicate(marker)
            if index.predicate:
                predicate = f"({index.predicate}) AND {predicate}"
            drop = (
                f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(index.constraint)};"
                if index.constraint
                else f"DROP INDEX CONCURRENTLY {qualified(table.schema, index.name)};"
            )
            sql = (
                f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {table_sql} ({keys}) "
                f"WHERE {predicate};\n{drop}"
            )
            yield Violation(
                index_ref(index),
                f"unique {'constraint' if index.constraint else 'index'} {index.name} on "
                f"{table.qualified} ({keys}) also counts soft-deleted rows "
                f"({marker.name}); re-creating a deleted row fails",
                Fix(
                    "make the uniqueness partial on live rows",
                    sql=sql,
                    lock_safe=True,
                    behaviour_change=True,
                    note="CONCURRENTLY: outside a transaction block; dropping the old key lets "
                    "deleted rows repeat",
                ),
                evidence=(("soft-delete column", marker.name), ("definition", index.definition)),
            )
