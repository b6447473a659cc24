"""The backfill's table and the key its chunks walk: keyset ranges over any key, composite
included, compared as PostgreSQL compares rows — `(a, b) > ('1', 'x')` — which a btree index
on (a, b) answers as a range.

Key values travel as text (the checkpoint stores them as text[]) and are cast back to the
column's own type wherever they are compared, so ordering is always the column's: numbers as
numbers, text by its collation, timestamps as instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.manifest.backfill import LoadedSpec

Key = tuple[str, ...]  # one value per key column, as text


def query(name: str) -> str:
    return resources.files("dbtruth.backfill").joinpath("sql").joinpath(f"{name}.sql").read_text()


@dataclass(frozen=True, slots=True)
class KeyColumn:
    name: str
    type: str  # as format_type spells it: "bigint", "character varying(20)"
    not_null: bool


@dataclass(frozen=True, slots=True)
class BackfillTable:
    oid: int
    schema: str
    name: str
    rows: float  # pg_class.reltuples: -1 when never analysed (PostgreSQL 14+)
    bytes: int
    pages: int
    indexes: int
    key: tuple[KeyColumn, ...]
    unique: bool  # a unique index covers only key columns

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key)


def resolve_table(conn: psycopg.Connection[Any], loaded: LoadedSpec) -> BackfillTable:
    spec = loaded.spec
    try:
        with conn.transaction():
            row = conn.execute(query("table"), {"table": spec.table}).fetchone()
    except psycopg.Error as exc:
        raise loaded.error(
            f"table {spec.table!r} cannot be resolved: {exc.diag.message_primary}", "table"
        ) from exc
    if row is None:
        raise loaded.error(f"no table {spec.table} on the target", "table")
    oid, schema, name, relkind, rows, size, pages, indexes = row
    if relkind not in ("r", "p"):
        raise loaded.error(f"{schema}.{name} is not a table (relkind {relkind})", "table")
    names = list(spec.key)
    columns = conn.execute(query("key_columns"), {"oid": oid, "names": names}).fetchall()
    if not columns:
        raise loaded.error(
            f"{schema}.{name} has no primary key: name the key the chunks walk", "table"
        )
    missing = [c[0] for c in columns if c[1] is None]
    if missing:
        raise loaded.error(f"{schema}.{name} has no column {missing[0]}", "key")
    nullable = [c[0] for c in columns if not c[2]]
    if nullable:
        raise loaded.error(
            f"key column {nullable[0]} may be NULL: a keyset never reaches rows whose key is NULL",
            "key",
            hint="walk a NOT NULL key (the primary key), or SET NOT NULL first",
        )
    key = tuple(KeyColumn(str(c[0]), str(c[1]), bool(c[2])) for c in columns)
    unique_row = conn.execute(
        query("key_unique"), {"oid": oid, "names": [c.name for c in key]}
    ).fetchone()
    return BackfillTable(
        int(oid), str(schema), str(name), float(rows), int(size), int(pages), int(indexes), key,
        bool(unique_row and unique_row[0]),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Keyset:
    """SQL over the table's key: its columns, a range of it, its first and last value."""

    table: BackfillTable

    def _columns(self, qualifier: str | None = None) -> list[sql.Composable]:
        if qualifier is None:
            return [sql.Identifier(c.name) for c in self.table.key]
        return [sql.Identifier(qualifier, c.name) for c in self.table.key]

    def _tuple(self, qualifier: str | None = None) -> sql.Composable:
        columns = self._columns(qualifier)
        joined = sql.SQL(", ").join(columns)
        return joined if len(columns) == 1 else sql.SQL("({})").format(joined)

    def _values(self, key: Key) -> sql.Composable:
        casts = [
            sql.SQL("CAST({} AS {})").format(sql.Literal(value), sql.SQL(column.type))
            for value, column in zip(key, self.table.key, strict=True)
        ]
        joined = sql.SQL(", ").join(casts)
        return joined if len(casts) == 1 else sql.SQL("({})").format(joined)

    def _as_text(self, qualifier: str | None = None) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{}::text").format(column) for column in self._columns(qualifier)
        )

    def _order(self, direction: str, qualifier: str | None = None) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{} {}").format(column, sql.SQL(direction))
            for column in self._columns(qualifier)
        )

    def range(
        self, low: Key | None, high: Key | None, qualifier: str | None = None
    ) -> sql.Composed:
        """(low, high]: after `low` (from the start when None), up to `high` included."""
        parts: list[sql.Composable] = []
        if low is not None:
            parts.append(sql.SQL("{} > {}").format(self._tuple(qualifier), self._values(low)))
        if high is not None:
            parts.append(sql.SQL("{} <= {}").format(self._tuple(qualifier), self._values(high)))
        return sql.SQL(" AND ").join(parts) if parts else sql.Composed([sql.SQL("true")])

    def edge(self, last: bool) -> sql.Composed:
        """The first (or last) key of the table, as text."""
        # Qualified: a bare name in ORDER BY would be the output column, the key as text.
        return sql.SQL("SELECT {} FROM {} AS t ORDER BY {} LIMIT 1").format(
            self._as_text("t"), self.table.identifier, self._order("DESC" if last else "ASC", "t")
        )

    def boundary(self, low: Key | None, high: Key | None, rows: int) -> sql.Composed:
        """How many keys the next chunk of up to `rows` holds, and its last key: the chunk is
        every row in (low, that key]. One index range scan of the chunk's keys."""
        inner = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
            sql.SQL(", ").join(self._columns()),
            self.table.identifier,
            self.range(low, high),
            self._order("ASC"),
            sql.Literal(rows),
        )
        return sql.SQL("SELECT count(*) OVER (), {} FROM ({}) AS chunk ORDER BY {} LIMIT 1").format(
            self._as_text("chunk"), inner, self._order("DESC", "chunk")
        )

    def count_beyond(self, high: Key) -> sql.Composed:
        """Rows whose key lies past the range the backfill walked: written since it began."""
        return sql.SQL("SELECT count(*) FROM {} WHERE {} > {}").format(
            self.table.identifier, self._tuple(), self._values(high)
        )

    def predicate(self, conn: psycopg.Connection[Any], reference: str, low: Key | None,
                  high: Key) -> str:  # fmt: skip
        """The chunk's range over the statement's name for the table, as SQL text."""
        return self.range(low, high, reference).as_string(conn)
