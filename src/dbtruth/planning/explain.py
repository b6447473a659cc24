"""Plan one query with EXPLAIN — never ANALYZE: the query is planned, not run.

A query with parameters (`$1`) is planned as PostgreSQL plans a prepared statement it no longer
re-plans per value: the generic plan. PostgreSQL 16 and later say so directly (`EXPLAIN
(GENERIC_PLAN)`); on older servers the query is prepared and explained with
`plan_cache_mode = force_generic_plan`, which gives the same plan (the NULL arguments are only
bound, never used to plan). One method on every version, so a contract means the same thing on
each. Every query is planned in its own transaction, rolled back, under a statement timeout.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import psycopg
from psycopg import errors, sql

from dbtruth.model.workload import PlannedQuery, Query
from dbtruth.planning.plans import PlanTooDeep, parse_plan

GENERIC = "generic plan"
PLAIN = "plan for the query's own values"
_PREPARED = "dbtruth_workload_query"
_names = itertools.count(1)


def parameters(text: str) -> int:
    """The highest $n the query uses (0: none), from PostgreSQL's parse tree."""
    from pglast.parser import parse_sql_json

    highest = 0
    stack: list[Any] = [json.loads(parse_sql_json(text))]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("ParamRef")
            if isinstance(ref, dict):
                highest = max(highest, int(ref.get("number", 0)))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return highest


def plan_query(
    conn: psycopg.Connection[Any], query: Query, server_version_num: int, timeout: str
) -> PlannedQuery:
    """The query's plan on `conn`, or why PostgreSQL could not plan it."""
    count = parameters(query.sql)
    method = GENERIC if count else PLAIN
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout)))
            if count and server_version_num < 160000:
                document = _prepared_plan(conn, query.sql, count)
            else:
                generic = ", GENERIC_PLAN" if count else ""
                explain = f"EXPLAIN (FORMAT JSON, VERBOSE{generic}) {query.sql}"
                row = conn.execute(explain).fetchone()
                document = row[0] if row else None
    except errors.QueryCanceled:
        return PlannedQuery(query, None, f"planning ran out of time ({timeout})")
    except psycopg.Error as exc:
        return PlannedQuery(query, None, _first_line(exc))
    try:
        return PlannedQuery(query, parse_plan(_json(document), method))
    except PlanTooDeep as exc:
        return PlannedQuery(query, None, str(exc))


def _prepared_plan(conn: psycopg.Connection[Any], text: str, count: int) -> Any:
    # A prepared statement outlives the transaction it was made in, and one left behind by a
    # failed EXPLAIN would take the name of the next: each gets its own, and is removed once
    # explained (a failure leaves it to the session's end, which comes with dbtruth's).
    name = f"{_PREPARED}_{next(_names)}"
    conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    conn.execute(f"PREPARE {name} AS {text}")
    nulls = ", ".join(["NULL"] * count)
    row = conn.execute(f"EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE {name}({nulls})").fetchone()
    conn.execute(f"DEALLOCATE {name}")
    return row[0] if row else None


def _json(document: Any) -> Any:
    """psycopg returns EXPLAIN's json column parsed; a text column (a server that sends it as
    text) is parsed here."""
    return json.loads(document) if isinstance(document, str) else document


def _first_line(exc: psycopg.Error) -> str:
    diag = exc.diag
    text = diag.message_primary or str(exc).split("\n", 1)[0]
    return f"{text} (SQLSTATE {diag.sqlstate})" if diag.sqlstate else text
