"""Which foreign keys, indexes and NOT NULLs the SQL files dropped, for rules that would
otherwise call their absence an oversight.

A project whose migrations drop a foreign key on a hot table, an index nobody used, or the NOT
NULL of a column has decided something the final schema cannot show. The loader reads the
scratch database's keys and indexes before and after each statement that may drop one (its
text says DROP CONSTRAINT or DROP INDEX: few statements, one catalog query each), and keeps
those that disappeared with the statement's file and line. A statement that says `ALTER COLUMN
… DROP NOT NULL` declares the column nullable whether or not it was NOT NULL before (migration
generators write it to say "null: true"): each such column is kept too. What a later statement
creates again is forgotten at the end.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.enums import AlterTableType
from pglast.parser import ParseError

from dbtruth.model import Catalog, Removal

# Statements that may drop a foreign key or an index; anything else is not watched.
# A dropped column or table takes its keys with it, a decision about the column, not the key.
_DROPS = re.compile(r"\bDROP\s+(?:CONSTRAINT|INDEX)\b", re.IGNORECASE)

_DROP_NOT_NULL = re.compile(r"\bDROP\s+NOT\s+NULL\b", re.IGNORECASE)

Snapshot = dict[int, tuple[str, str, str, str, tuple[str, ...]]]


def may_drop(sql: str) -> bool:
    return _DROPS.search(sql) is not None


def declared_nullable(
    conn: psycopg.Connection[Any], sql: str, file: str, line: int
) -> list[Removal]:
    """The columns a statement that ran declares nullable (`ALTER TABLE t ALTER COLUMN c DROP
    NOT NULL`), each table found as the session's search_path finds it."""
    if _DROP_NOT_NULL.search(sql) is None:
        return []
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return []
    try:
        statements = parse_sql(sql)
    except (ParseError, RecursionError):
        return []
    found: list[Removal] = []
    for raw in statements:
        stmt = raw.stmt
        if not isinstance(stmt, ast.AlterTableStmt) or stmt.relation is None:
            continue
        columns = [
            cmd.name
            for cmd in stmt.cmds or ()
            if isinstance(cmd, ast.AlterTableCmd)
            and cmd.subtype == AlterTableType.AT_DropNotNull
            and cmd.name
        ]
        place = _table(conn, stmt.relation) if columns else None
        if place is not None:
            found.extend(
                Removal("not null", *place, column, (column,), file, line) for column in columns
            )
    return found


def _table(conn: psycopg.Connection[Any], relation: ast.RangeVar) -> tuple[str, str] | None:
    name = ".".join(
        '"' + part.replace('"', '""') + '"'
        for part in (relation.schemaname, relation.relname)
        if part
    )
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
                (name,),
            )
            row = cur.fetchone()
    except psycopg.Error:
        return None
    return (str(row[0]), str(row[1])) if row else None


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot | None:
    """The keys and indexes the session sees now; None when it cannot ask (a failed
    transaction block)."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute(_query())
            rows = cur.fetchall()
    except psycopg.Error:
        return None
    return {row[1]: (row[0], row[2], row[3], row[4], tuple(row[5])) for row in rows}


@cache
def _query() -> bytes:
    return resources.files("dbtruth.sources").joinpath("sql/keys_and_indexes.sql").read_bytes()


def dropped(before: Snapshot, after: Snapshot, file: str, line: int) -> list[Removal]:
    return [
        Removal(kind, schema, table, name, columns, file, line)
        for oid, (kind, schema, table, name, columns) in before.items()
        if oid not in after and columns  # an index led by an expression serves no key
    ]


def still_removed(catalog: Catalog, removals: list[Removal]) -> tuple[Removal, ...]:
    """The removals whose table still exists and that nothing re-created on the same columns
    (a key dropped and added again with another ON DELETE is no removal, nor a column made
    NOT NULL again)."""
    kept: list[Removal] = []
    for removal in removals:
        table = catalog.table(removal.table_qualified)
        if table is None:
            continue
        if removal.kind == "not null":
            column = table.column(removal.name)
            if column is not None and not column.not_null:
                kept.append(removal)
            continue
        if removal.kind == "foreign key":
            present = {c.columns for c in catalog.constraints_of(table) if c.kind == "foreign key"}
        else:
            present = {
                tuple(k.strip('"') for k in index.keys[: len(removal.columns)])
                for index in catalog.indexes_of(table)
            }
        if removal.columns not in present:
            kept.append(removal)
    return tuple(kept)
