"""What every backfill command reads first: the spec, the table and key it names on the target,
and the chunk statement bound to that table; the spec's queries gated before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.backfill.keys import BackfillTable, Keyset, resolve_table
from dbtruth.backfill.statement import ChunkStatement, StatementError, parse_statement
from dbtruth.manifest.backfill import LoadedSpec, load_backfill_spec
from dbtruth.sources.readonly import refusal


@dataclass
class Prepared:
    loaded: LoadedSpec
    table: BackfillTable
    keyset: Keyset
    statement: ChunkStatement

    @property
    def name(self) -> str:
        return self.loaded.name


def load_spec(path: Path) -> LoadedSpec:
    """The spec, with its read-only queries gated: the validation query and the latency probe
    are each one plain SELECT (run in read-only transactions as well)."""
    loaded = load_backfill_spec(path)
    spec = loaded.spec
    gated = [("validate", spec.validate_query)]
    if spec.health.probe is not None:
        gated.append(("health.probe.query", spec.health.probe.query))
    for field, text in gated:
        why = refusal(text) if text else None
        if why:
            why = why.replace("a detective query is", "it must be")
            raise loaded.error(f"{field}: {why}", *field.split("."))
    return loaded


def prepare(conn: psycopg.Connection[Any], loaded: LoadedSpec) -> Prepared:
    table = resolve_table(conn, loaded)

    def is_table(rangevar: Any) -> bool:
        names = [n for n in (rangevar.catalogname, rangevar.schemaname, rangevar.relname) if n]
        text = sql.Identifier(*names).as_string(conn)
        row = conn.execute("SELECT to_regclass(%s)::oid::int8", (text,)).fetchone()
        return bool(row and row[0] == table.oid)

    try:
        with conn.transaction():
            statement = parse_statement(loaded.spec.statement, is_table)
    except StatementError as exc:
        raise loaded.error(f"statement: {exc}", "statement") from exc
    return Prepared(loaded, table, Keyset(table), statement)
