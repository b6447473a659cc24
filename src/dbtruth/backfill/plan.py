"""`dbtruth backfill plan`: what a run would do, read-only — the chunking, the index each chunk
uses (EXPLAIN of the boundary query and of the first chunk's statement, never run), the rows
and WAL per chunk, the ETA, the lock each chunk takes (the lock table `migrate lint` uses), the
health signals as they stand, and how many rows the validation query still returns.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import ast

from dbtruth.backfill import checkpoint
from dbtruth.backfill.health import Probe, read_signals
from dbtruth.backfill.preflight import Preflight, preflight
from dbtruth.backfill.prepare import Prepared, load_spec, prepare
from dbtruth.backfill.results import BackfillPlan, Step
from dbtruth.backfill.run import BackfillOptions, validate
from dbtruth.model.migration import MigrationState
from dbtruth.planning.plans import tree_lines
from dbtruth.rules.migration_locks import predict
from dbtruth.sources.conninfo import connect_live, describe

INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan")


def plan_backfill(options: BackfillOptions) -> BackfillPlan:
    loaded = load_spec(options.spec)
    with connect_live(options.target) as conn:
        prepared = prepare(conn, loaded)
        table, spec = prepared.table, loaded.spec
        plan = BackfillPlan(prepared.name, describe(options.target), table.qualified,
                            prepared.statement.kind)  # fmt: skip
        first = conn.execute(prepared.keyset.edge(last=False)).fetchone()
        last = conn.execute(prepared.keyset.edge(last=True)).fetchone()
        _table_steps(plan, prepared, first, last)
        if last is not None:
            high = tuple(str(v) for v in last)
            found = preflight(conn, prepared, high)
            plan.problems += [problem for _, problem in found.problems]
            _first_chunk(plan, prepared, found)
        else:
            plan.notes.append(f"{table.qualified} is empty: a run has nothing to do")
        plan.steps.append(Step("lock each chunk takes", _locks(conn, prepared), "guessed"))
        probe_p95 = None
        if spec.health.probe is not None:
            probe = Probe(conn, spec.health.probe.query)
            try:
                for _ in range(Probe.MIN_SAMPLES):
                    probe.run()
                probe_p95 = probe.p95()
            except psycopg.Error as exc:
                plan.problems.append(f"the latency probe fails: {exc.diag.message_primary}")
        plan.signals = read_signals(conn, table.oid, spec.health, probe_p95)
        if spec.validate_query:
            plan.validation = validate(conn, spec.validate_query)
            if plan.validation.error:
                plan.problems.append(f"the validation query fails: {plan.validation.error}")
        else:
            plan.notes.append(
                "no validation query: a run cannot say the work is done, only that every chunk "
                "ran (give `validate:`, a SELECT of the rows still to do)"
            )
        plan.checkpoint = checkpoint.read(conn, prepared.name)
        if plan.checkpoint is None and not checkpoint.exists(conn):
            plan.notes.append(
                f"`run` creates schema {checkpoint.SCHEMA} on the target for its checkpoints: "
                "the only place dbtruth writes besides the spec's statement"
            )
    return plan


def _table_steps(plan: BackfillPlan, prepared: Prepared, first: Any, last: Any) -> None:
    table, spec = prepared.table, prepared.loaded.spec
    key = ", ".join(f"{c.name} {c.type}" for c in table.key)
    plan.steps.append(Step("key", f"({key})" + ("" if table.unique else " — not unique"),
                           "observed"))  # fmt: skip
    rows = f"{table.rows:,.0f}" if table.rows >= 0 else "unknown (never analysed)"
    plan.steps.append(Step("rows (planner's estimate)", rows, "observed"))
    if first is not None:
        span = f"({', '.join(map(str, first))}) .. ({', '.join(map(str, last))})"
        plan.steps.append(Step("key range now", span + "; fixed when `run` starts", "observed"))
    size = spec.chunk.rows
    sizing = f"{size:,} rows"
    if spec.chunk.target_duration:
        sizing += (
            f" to start, then sized to take {spec.chunk.target_duration * 1000:.0f} ms "
            f"({spec.chunk.min_rows:,}..{spec.chunk.max_rows:,} rows)"
        )
    given = ("chunk", "rows") in prepared.loaded.lines
    plan.steps.append(Step("chunk", sizing, "declared" if given else "default"))
    if table.rows > 0:
        chunks = -(-int(table.rows) // size)
        plan.steps.append(Step("chunks", f"about {chunks:,}", "guessed"))
        eta, how = _eta(prepared, chunks)
        plan.steps.append(Step("time", eta, how))
    rate = f"{spec.rate:,.0f} rows/s at most" if spec.rate else "none: as fast as chunks run"
    plan.steps.append(Step("rate limit", rate, "declared"))
    plan.steps.append(Step(
        "timeouts per chunk",
        f"lock_timeout {spec.chunk.lock_timeout * 1000:.0f} ms, statement_timeout "
        f"{spec.chunk.statement_timeout:g} s, {spec.chunk.retries} retries",
        "declared",
    ))  # fmt: skip


def _eta(prepared: Prepared, chunks: int) -> tuple[str, str]:
    spec, rows = prepared.loaded.spec, prepared.table.rows
    if spec.rate:
        seconds = rows / spec.rate
        return f"at least {_duration(seconds)} at the rate limit", "guessed"
    if spec.chunk.target_duration:
        seconds = chunks * spec.chunk.target_duration
        return f"about {_duration(seconds)} at the target chunk duration", "guessed"
    return "unknown until chunks run (`run` shows rows/s and the ETA)", "unknown"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _first_chunk(plan: BackfillPlan, prepared: Prepared, found: Preflight) -> None:
    spec, table = prepared.loaded.spec, prepared.table
    plan.first_chunk = found.first_chunk
    if found.index:
        plan.steps.append(Step("index the chunks walk", found.index, "observed"))
    plan.boundary_plan = found.boundary_plan
    if found.chunk_plan is None:
        return
    plan.chunk_plan = tree_lines(found.chunk_plan.root)
    root = found.chunk_plan.root
    modify = root.node_type == "ModifyTable" and root.children
    changed = root.children[0].rows if modify else root.rows
    if prepared.statement.kind in ("UPDATE", "DELETE") and prepared.statement.writes_table:
        # It changes rows of the chunk only; the planner's estimate of a range over a
        # composite key reads its first column alone, and can exceed the chunk.
        changed = min(changed, spec.chunk.rows)
    plan.steps.append(Step("rows changed per chunk (planner's estimate)", f"up to {changed:,.0f}",
                           "guessed"))  # fmt: skip
    if table.rows > 0 and table.bytes > 0:
        per_row = table.bytes / table.rows
        # A new row version plus, unless the update is HOT, an entry in each index; full-page
        # images after each checkpoint can multiply it.
        wal = changed * (per_row + 24 * max(table.indexes, 1))
        plan.steps.append(Step("WAL per chunk", f"about {_bytes(wal)} (more after a checkpoint: "
                               "full-page images)", "guessed"))  # fmt: skip


def _bytes(value: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"


def _locks(conn: psycopg.Connection[Any], prepared: Prepared) -> str:
    statement = prepared.statement
    version = int(conn.info.server_version)
    locks = predict(statement.node, MigrationState(pg_version=version))
    parts = [f"{lock.mode} on {lock.relation}" for lock in locks]
    if statement.kind in ("UPDATE", "DELETE"):
        parts.append("a row lock on each row it changes until the chunk commits (writers of "
                     "those rows wait for it)")  # fmt: skip
    else:
        parts.append(f"ACCESS SHARE on {prepared.table.qualified} (read)")
    if isinstance(statement.node, ast.InsertStmt) and statement.node.onConflictClause is not None:
        parts.append("ON CONFLICT takes the row locks of the rows it updates")
    return "; ".join(parts)
