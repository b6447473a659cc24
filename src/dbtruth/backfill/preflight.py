"""What must be true before a chunk runs, checked with EXPLAIN (never run), by `plan` and by
`run` before it writes anything: the key is unique (else a chunk holds every row of its last
key value, however many), an index leads with it (else finding each chunk's end reads the whole
table), and the chunk's statement plans and reads only the chunk's key range (else every chunk
scans the whole table: a backfill that grows quadratic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbtruth.backfill.keys import Key
from dbtruth.backfill.prepare import Prepared
from dbtruth.model.workload import Plan
from dbtruth.planning.plans import PlanTooDeep, parse_plan, tree_lines

SMALL_TABLE_PAGES = 1280  # 10 MB
INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan")


@dataclass
class Preflight:
    problems: list[tuple[str, str]] = field(default_factory=list)  # (spec key, what is wrong)
    index: str | None = None  # the index the chunk boundaries walk
    boundary_plan: list[str] = field(default_factory=list)
    first_chunk: str = ""  # the first chunk's statement
    chunk_plan: Plan | None = None


def explain(conn: psycopg.Connection[Any], text: str | bytes) -> Plan:
    statement = text.encode() if isinstance(text, str) else text
    with conn.transaction(force_rollback=True):
        row = conn.execute(b"EXPLAIN (FORMAT JSON, VERBOSE) " + statement).fetchone()
    document = row[0] if row else None
    return parse_plan(json.loads(document) if isinstance(document, str) else document, "plain")


def preflight(conn: psycopg.Connection[Any], prepared: Prepared, high: Key) -> Preflight:
    found = Preflight()
    table = prepared.table
    if not table.unique:
        found.problems.append(("key", (
            f"the key ({', '.join(table.key_names)}) is not unique on {table.qualified}: a chunk "
            "would hold every row of its last key value, however many (walk a unique key, "
            "such as the primary key)"
        )))  # fmt: skip
    _boundary(conn, prepared, high, found)
    _first_chunk(conn, prepared, high, found)
    return found


def _boundary(conn: psycopg.Connection[Any], prepared: Prepared, high: Key,
              found: Preflight) -> None:  # fmt: skip
    table = prepared.table
    query = prepared.keyset.boundary(None, high, prepared.loaded.spec.chunk.rows)
    try:
        planned = explain(conn, query.as_string(conn))
    except (psycopg.Error, PlanTooDeep) as exc:
        found.problems.append(("key", f"the chunk boundary cannot be planned: {exc}"))
        return
    found.boundary_plan = tree_lines(planned.root)
    used = [n.index for n in planned.nodes() if n.node_type in INDEX_SCANS and n.index]
    if used:
        found.index = used[0]
    else:
        found.problems.append(("key", (
            f"no index leads with the key ({', '.join(table.key_names)}): finding each chunk's "
            f"end reads all of {table.qualified} (create one first, CONCURRENTLY)"
        )))  # fmt: skip


def _first_chunk(conn: psycopg.Connection[Any], prepared: Prepared, high: Key,
                 found: Preflight) -> None:  # fmt: skip
    spec, table = prepared.loaded.spec, prepared.table
    with conn.transaction(force_rollback=True):
        row = conn.execute(prepared.keyset.boundary(None, high, spec.chunk.rows)).fetchone()
    assert row is not None
    count, *upper = row
    bound = high if int(count) < spec.chunk.rows else tuple(str(v) for v in upper)
    found.first_chunk = prepared.statement.with_range(
        prepared.keyset.predicate(conn, prepared.statement.reference, None, bound)
    )
    try:
        planned = explain(conn, found.first_chunk)
    except psycopg.Error as exc:
        found.problems.append(("statement", (
            f"the chunk's statement does not plan: {exc.diag.message_primary}"
        )))  # fmt: skip
        return
    except PlanTooDeep as exc:
        found.problems.append(("statement", str(exc)))
        return
    found.chunk_plan = planned
    scans = [n for n in planned.scans() if n.relation == table.qualified]
    # A chunk of a quarter of the table or more, or a table of a few MB, is read whole at
    # little cost: the planner is right to scan it. The danger is the large table read whole
    # once per chunk.
    whole = spec.chunk.rows * 4 >= table.rows or table.pages < SMALL_TABLE_PAGES
    if not whole and any(n.node_type == "Seq Scan" for n in scans):
        found.problems.append(("statement", (
            f"the chunk's statement reads all of {table.qualified} (Seq Scan) instead of the "
            "chunk's key range: every chunk would scan the whole table"
        )))  # fmt: skip
