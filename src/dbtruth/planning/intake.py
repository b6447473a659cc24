"""The queries of a workload, from where the user keeps them: dbtruth.yaml's `workload`
entries (inline SQL or a file), a SQL file of queries (`--queries`), or pg_stat_statements on a
live target (observed.py). Every query is parsed with PostgreSQL's parser before anything is
planned, and fingerprinted, so one shape is one query however it is spaced or valued.

The SQL comes from a pull request: a query must be one SELECT, INSERT, UPDATE, DELETE or MERGE
(what EXPLAIN plans), or its file and line are an error. It is only ever planned, never run.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pglast import ast, parse_sql
from pglast.parser import ParseError, fingerprint

from dbtruth.errors import DbtruthError
from dbtruth.manifest import Manifest
from dbtruth.manifest.design import IndexContract
from dbtruth.model.workload import Contract, Query
from dbtruth.sources.sqltext import read_text, statements

PLANNABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
# `-- name: open cases of a tenant` above a query names it (the yesql / sqlc convention).
_NAME = re.compile(r"[ \t]*--[ \t]*name:[ \t]*(\S.*)", re.IGNORECASE)  # trimmed after


def declared(manifest: Manifest) -> list[Query]:
    """dbtruth.yaml's workload, each query read (from its file where it names one) and gated."""
    queries = []
    base = manifest.file.parent if manifest.file is not None else Path()
    for i, entry in enumerate(manifest.workload):
        key: tuple[str | int, ...] = ("workload", i, "sql" if entry.sql is not None else "file")
        where = manifest.place(*key)
        if entry.sql is not None:
            text = entry.sql
        else:
            assert entry.file is not None  # the model requires one of the two
            text = read_text(base / entry.file.strip())
        sql = _one_plannable(text, where, f"workload '{entry.name}'")
        queries.append(
            Query(
                name=entry.name,
                sql=sql,
                origin="declared",
                file=str(manifest.file) if manifest.file is not None else None,
                line=manifest.line("workload", i),
                role=entry.role,
                calls_per_minute=entry.calls_per_minute,
                latency_ms=entry.latency_ms,
                contract=_contract(entry.contract),
                fingerprint=fingerprint(sql),
            )
        )
    return queries


def from_file(path: Path) -> list[Query]:
    """The queries of a SQL file, one per statement, each named by a `-- name:` comment above
    it or else by its file and line."""
    queries = []
    lines = read_text(path).splitlines()
    for statement in statements(path):
        where = f"{statement.file}:{statement.line}"
        sql = _one_plannable(statement.sql, where, "query")
        named = _name_above(lines, statement.line) if statement.file == str(path) else None
        queries.append(
            Query(
                name=named or f"{Path(statement.file).name}:{statement.line}",
                sql=sql,
                origin="file",
                file=statement.file,
                line=statement.line,
                fingerprint=fingerprint(sql),
            )
        )
    return queries


def _name_above(lines: list[str], line: int) -> str | None:
    """The `-- name:` in the comment lines right above line `line` (1-based), if any."""
    at = line - 2
    while at >= 0 and (not lines[at].strip() or lines[at].lstrip().startswith("--")):
        named = _NAME.match(lines[at])
        if named:
            return named.group(1).rstrip()
        at -= 1
    return None


def distinct(queries: list[Query], notes: list[str]) -> list[Query]:
    """Each query once. An observed statement (pg_stat_statements, values normalised to $n)
    is one shape: it adds its counters to the first written query of that shape, or is left
    out when an observed one of that shape is listed. Written queries (dbtruth.yaml, a file)
    are kept apart unless their text is the same: two values of one shape may be planned
    differently on skewed data, which is why one writes both."""
    kept: dict[str, Query] = {}  # by text for written queries, by shape for observed ones
    shapes: dict[str, str] = {}  # shape -> key in `kept` of the first query of that shape
    names: dict[str, None] = {}
    for query in queries:
        observed = query.origin == "observed"
        key = query.fingerprint if observed else "text:" + " ".join(query.sql.split())
        first_key = shapes.get(query.fingerprint) if observed else key
        first = kept.get(first_key) if first_key is not None else None
        if first is None:
            if query.name in names:  # two queries under one name: the second gets its place
                query = replace(query, name=f"{query.name} ({query.file}:{query.line})")
            kept[key] = query
            shapes.setdefault(query.fingerprint, key)
            names[query.name] = None
            continue
        if observed and first.origin != "observed":
            assert first_key is not None
            kept[first_key] = replace(
                first,
                calls=query.calls,
                total_ms=query.total_ms,
                mean_ms=query.mean_ms,
                rows=query.rows,
            )
            continue
        if not observed:
            notes.append(f"query '{query.name}' is the text of '{first.name}' again: planned once")
    return list(kept.values())


def _one_plannable(text: str, where: str | None, what: str) -> str:
    """The text as one statement EXPLAIN can plan, trimmed of its trailing semicolon; else an
    error at `where`."""
    sql = text.strip().rstrip(";").strip()
    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        raise DbtruthError(f"{what} does not parse: {exc.args[0]}", where=where) from exc
    except RecursionError as exc:  # pglast's tree builder recurses once per nesting level
        raise DbtruthError(f"{what} is nested too deeply to read", where=where) from exc
    if len(parsed) != 1:
        raise DbtruthError(
            f"{what} holds {len(parsed)} statements; give one query per entry", where=where
        )
    node = parsed[0].stmt
    if not isinstance(node, PLANNABLE):
        kind = type(node).__name__.removesuffix("Stmt")
        raise DbtruthError(
            f"{what} is a {kind} statement: a workload query is one SELECT, INSERT, UPDATE, "
            "DELETE or MERGE (EXPLAIN plans nothing else)",
            where=where,
        )
    return sql


def _contract(contract: IndexContract | None) -> Contract | None:
    if contract is None:
        return None
    return Contract(
        uses_index=contract.uses_index,
        no_seq_scan_on=tuple(contract.no_seq_scan_on),
        max_cost=contract.max_cost,
        plan_nodes=tuple(contract.plan_nodes),
        join_order=tuple(contract.join_order),
    )
