"""The queries a live server has been running, from pg_stat_statements: the top ones by total
execution time, with their calls, total and mean time and rows, and the window they were
counted in.

pg_stat_statements keeps each statement normalised (constants become $1, $2 …), which is what
the generic plan plans. Statements EXPLAIN cannot plan (SET, COPY, utility commands), catalog
queries (monitoring tools, dbtruth's own) and texts hidden from this role are left out, and
each kind is counted in a note: nothing is dropped silently.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import parse_sql
from pglast.parser import ParseError, fingerprint
from pglast.visitors import Visitor
from psycopg import sql

from dbtruth.model.workload import Query
from dbtruth.planning.intake import PLANNABLE
from dbtruth.sources.sessions import extension_schema
from dbtruth.words import counted

# Rows read from the view per query kept: room for the statements that are left out.
_OVERFETCH = 5
_NAME_CHARS = 56


class _Relations(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[tuple[str | None, str]] = []

    def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
        self.names.append((node.schemaname, node.relname or ""))


def observed(
    conn: psycopg.Connection[Any], server_version_num: int, top: int
) -> tuple[list[Query], list[str]]:
    """The `top` statements by total execution time in this database, and notes on what was
    read and left out."""
    schema = extension_schema(conn, "pg_stat_statements")
    if schema is None:
        return [], [
            "pg_stat_statements is not installed in this database, so no observed query was "
            "planned (CREATE EXTENSION pg_stat_statements, with the library in "
            "shared_preload_libraries)"
        ]
    toplevel = sql.SQL(" AND s.toplevel") if server_version_num >= 140000 else sql.SQL("")
    statement = sql.SQL(
        "SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows"
        " FROM {}.pg_stat_statements s"
        " WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()){}"
        " ORDER BY s.total_exec_time DESC LIMIT {}"
    ).format(sql.Identifier(schema), toplevel, sql.Literal(max(top, 1) * _OVERFETCH))
    try:
        with conn.transaction():
            rows = conn.execute(statement).fetchall()
            since = _window(conn, schema, server_version_num)
    except psycopg.Error as exc:
        message = (exc.diag.message_primary or str(exc)).strip()
        return [], [f"pg_stat_statements could not be read ({message}): no observed query"]
    queries: list[Query] = []
    left_out = {"hidden": 0, "not a query": 0, "catalog": 0}
    for text, calls, total_ms, mean_ms, count in rows:
        if len(queries) >= top:
            break
        kind = _left_out(text)
        if kind is not None:
            left_out[kind] += 1
            continue
        shape = fingerprint(text)
        collapsed = " ".join(text.split())
        short = collapsed if len(collapsed) <= _NAME_CHARS else collapsed[:_NAME_CHARS] + "…"
        queries.append(
            Query(
                name=f"#{shape[:8]} {short}",
                sql=text.strip().rstrip(";"),
                origin="observed",
                fingerprint=shape,
                calls=int(calls),
                total_ms=float(total_ms),
                mean_ms=float(mean_ms),
                rows=int(count),
            )
        )
    notes = [
        f"pg_stat_statements: the {counted(len(queries), 'statement')} of this database with "
        f"the most execution time{since} were planned"
    ]
    reasons = {
        "hidden": "hidden from this role (pg_read_all_stats shows them)",
        "not a query": "not a query EXPLAIN plans (SET, COPY, transaction control, DDL)",
        "catalog": "read only the system catalogs (monitoring tools, dbtruth itself)",
    }
    notes += [
        f"{counted(n, 'statement')} among the top ones left out: {reasons[kind]}"
        for kind, n in left_out.items()
        if n
    ]
    return queries, notes


def _window(conn: psycopg.Connection[Any], schema: str, server_version_num: int) -> str:
    """', counted since <time>' where the server says (pg_stat_statements_info, 14+)."""
    if server_version_num < 140000:
        return ""
    row = conn.execute(
        sql.SQL("SELECT stats_reset FROM {}.pg_stat_statements_info").format(sql.Identifier(schema))
    ).fetchone()
    return f", counted since {row[0]:%Y-%m-%d %H:%M %Z}".rstrip() if row and row[0] else ""


def _left_out(text: str | None) -> str | None:
    """Why a statement of the view is not planned, or None when it is."""
    if not text or text.startswith("<insufficient privilege>"):
        return "hidden"
    try:
        parsed = parse_sql(text)
    except (ParseError, RecursionError):
        return "not a query"
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, PLANNABLE):
        return "not a query"
    relations = _Relations()
    relations(parsed[0].stmt)
    if all(
        schema in ("pg_catalog", "information_schema")
        or (schema is None and name.startswith("pg_"))
        for schema, name in relations.names
    ):
        return "catalog"  # and queries of no table at all (SELECT 1, SELECT now())
    return None
