"""How a table's rows are identified: its primary key, or the unique key that could become one.

I001 (table-without-primary-key) promotes a unique key, and I007 (nullable-column-in-unique-
key) judges the same keys' NULL gaps; both read them from here, so a key that I001's fix makes
NOT NULL and promotes is not reported a second time by I007 with a different fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.model import Catalog, Index, Table


def whole_unique_keys(catalog: Catalog, table: Table) -> Iterator[Index]:
    """Unique indexes a primary key could be made of: valid, over plain columns, on every row
    (no predicate), with no INCLUDE columns."""
    for index in catalog.indexes_of(table):
        if (
            index.unique
            and index.valid
            and index.predicate is None
            and all(index.key_is_column)
            and not index.include
        ):
            yield index


def not_null_key(table: Table, index: Index) -> bool:
    """Whether every column of the index's key is NOT NULL."""
    return all((col := table.column(k.strip('"'))) is not None and col.not_null for k in index.keys)


def has_primary_key(catalog: Catalog, table: Table) -> bool:
    return any(c.kind == "primary key" for c in catalog.constraints_of(table))


def nullable_key_to_promote(catalog: Catalog, table: Table) -> Index | None:
    """The unique key I001's fix makes NOT NULL and promotes, on a table without a primary key
    and without a unique key on NOT NULL columns (which would be promoted as it is)."""
    if has_primary_key(catalog, table):
        return None
    keys = list(whole_unique_keys(catalog, table))
    if any(not_null_key(table, index) for index in keys):
        return None
    return keys[0] if keys else None
