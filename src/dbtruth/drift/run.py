"""`dbtruth drift` as one call: every copy dbtruth.yaml's truth map gives a `drift_source`
compared with it key by key (compare.py), and every declared `drift_check` query run, on a live
target in dbtruth's read-only session (or on the copy SQL files are loaded into).

The SQL comes from dbtruth.yaml: each query must be one plain SELECT calling nothing beyond
reading rows (the gate `prove --data` uses), or its line is an error before anything runs.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.clone import schema_session
from dbtruth.drift.compare import Drift, Sides, compare
from dbtruth.errors import DbtruthError
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog, Table
from dbtruth.reading import TargetOptions, read_manifest, target_label
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.readonly import refusal
from dbtruth.sources.target import is_live

_SQL_START = ("select", "with", "(")


@dataclass(frozen=True, slots=True)
class DriftOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None
    allow_outside_paths: bool = False
    recheck: bool = True


@dataclass
class Projection:
    table: str
    role: str
    key: tuple[str, ...] = ()
    compared: tuple[str, ...] = ()  # the columns compared
    drift: Drift | None = None
    check_rows: int | None = None  # rows the declared drift_check query returned
    rebuild: str | None = None
    freshness: str | None = None
    stale_seconds: float | None = None  # since the copy's newest refresh
    stale: bool = False  # older than its freshness contract allows
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(
            (self.drift and self.drift.drifted) or self.check_rows or self.error or self.stale
        )


@dataclass
class DriftResult:
    target: str
    source: str
    projections: list[Projection]
    notes: list[str]

    @property
    def drifted(self) -> bool:
        return any(p.drifted for p in self.projections)


def drift_target(options: DriftOptions) -> DriftResult:
    words = options.target.target
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    wanted = _gated(manifest)
    notes: list[str] = []
    if not wanted:
        notes.append(
            "no copy to compare: no table of dbtruth.yaml's truth map has a drift_source or a "
            "drift_check query"
        )
    with ExitStack() as stack:
        conn, source, _ = stack.enter_context(
            schema_session(options.target, "drift compares rows in a database")
        )
        catalog = read_catalog(conn, source, live=is_live(words))
        projections = [_projection(conn, catalog, name, manifest, options) for name in wanted]
    return DriftResult(target_label(words), source, projections, notes)


def _gated(manifest: Manifest) -> list[str]:
    """The copies to check; a query of dbtruth.yaml that is not one plain SELECT stops the run
    at its line."""
    names = []
    for name, role in manifest.truth.items():
        queries = [("drift_source", role.drift_source)]
        if role.drift_check and role.drift_check.strip().lower().startswith(_SQL_START):
            queries.append(("drift_check", role.drift_check))
        present = [(field_name, text) for field_name, text in queries if text]
        for field_name, text in present:
            why = refusal(text)
            if why:
                raise DbtruthError(
                    f"truth.{name}.{field_name}: {why}",
                    where=manifest.place("truth", name, field_name),
                )
        if present:
            names.append(name)
    return names


def _projection(
    conn: psycopg.Connection[Any], catalog: Catalog, name: str, manifest: Manifest,
    options: DriftOptions,
) -> Projection:  # fmt: skip
    role = manifest.truth[name]
    found = Projection(name, role.role, rebuild=role.rebuild, freshness=role.freshness)
    table = catalog.table(name)
    if table is None:
        found.error = f"{name} is not a table of the target"
        return found
    if role.drift_check and role.drift_check.strip().lower().startswith(_SQL_START):
        found.check_rows = _count(conn, role.drift_check, found)
    elif role.drift_check:
        found.notes.append(f"declared drift check, not run by dbtruth: {role.drift_check}")
    if role.drift_source:
        _against_source(conn, catalog, table, role.drift_source, list(role.drift_key),
                        found, options)  # fmt: skip
    if role.freshness and role.refreshed_column:
        _staleness(conn, table, role.refreshed_column, role.freshness, found)
    elif role.freshness:
        found.notes.append(
            f"freshness contract {role.freshness}: staleness not measured (give refreshed_column, "
            "the copy's column holding when its rows were refreshed)"
        )
    return found


def _staleness(
    conn: psycopg.Connection[Any], table: Table, column: str, freshness: str, found: Projection
) -> None:
    """How long ago the copy's newest row was refreshed, against its contract (PostgreSQL
    reads the contract as an interval: '5 min', '1 hour')."""
    if all(c.name != column for c in table.columns):
        found.error = f"refreshed_column {column} is not a column of {table.qualified}"
        return
    statement = sql.SQL(
        "SELECT extract(epoch FROM now() - max({}))::float8, "
        "extract(epoch FROM {}::interval)::float8 FROM {}"
    ).format(sql.Identifier(column), sql.Literal(freshness),
             sql.Identifier(table.schema, table.name))  # fmt: skip
    try:
        with conn.transaction():
            row = conn.execute(statement).fetchone()
    except psycopg.Error as exc:
        found.error = f"staleness not measured: {exc.diag.message_primary}"
        return
    assert row is not None
    age, allowed = row
    if age is None:
        found.notes.append(f"{table.qualified} is empty: no refresh to measure")
        return
    found.stale_seconds = float(age)
    found.stale = float(age) > float(allowed)


def _against_source(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    table: Table,
    source_sql: str,
    key: list[str],
    found: Projection,
    options: DriftOptions,
) -> None:
    source = sql.SQL(source_sql.strip().rstrip(";"))  # gated: a SELECT
    try:
        with conn.transaction():
            cursor = conn.execute(sql.SQL("SELECT * FROM ({}) AS s LIMIT 0").format(source))
            returned = tuple(d.name for d in cursor.description or ())
    except psycopg.Error as exc:
        found.error = f"drift_source does not run: {exc.diag.message_primary}"
        return
    columns = {c.name for c in table.columns}
    unknown = [c for c in returned if c not in columns]
    if unknown:
        found.error = f"drift_source returns columns {table.qualified} does not have: {unknown}"
        return
    key = key or list(catalog.primary_key(table))
    if not key or any(k not in returned for k in key):
        found.error = (
            "no key to compare by: give drift_key, columns the source returns (or give the "
            "copy a primary key)"
        )
        return
    left_out = sorted(columns - set(returned))
    if left_out:
        found.notes.append(f"columns not compared (the source does not compute them): {left_out}")
    found.key, found.compared = tuple(key), returned
    sides = Sides(
        copy=sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in returned),
            sql.Identifier(table.schema, table.name),
        ),
        source=source,
        key=tuple(key),
        columns=returned,
    )
    try:
        found.drift = compare(conn, sides, options.recheck)
    except psycopg.Error as exc:
        found.error = f"comparison failed: {exc.diag.message_primary}"


def _count(conn: psycopg.Connection[Any], query: str, found: Projection) -> int | None:
    text = sql.SQL(query.strip().rstrip(";"))  # gated: one plain SELECT
    try:
        with conn.transaction():
            row = conn.execute(sql.SQL("SELECT count(*) FROM ({}) AS s").format(text)).fetchone()
    except psycopg.Error as exc:
        found.error = f"drift_check does not run: {exc.diag.message_primary}"
        return None
    return int(row[0]) if row else 0
