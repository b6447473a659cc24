"""`dbtruth backfill run|status|pause|resume|abort` as calls.

`run` is the one dbtruth command that writes on a live target: the spec's statement, chunk by
chunk, and its own checkpoint in the `dbtruth_backfill` schema (created on the first run, and
said so). One run at a time per backfill: a session advisory lock keyed by its name. Every
other backfill command only reads, except pause/resume/abort, which change the checkpoint's
status and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.backfill import checkpoint
from dbtruth.backfill.checkpoint import SCHEMA, Checkpoint, Event
from dbtruth.backfill.health import WaitWatch
from dbtruth.backfill.preflight import preflight
from dbtruth.backfill.prepare import Prepared, load_spec, prepare
from dbtruth.backfill.results import BackfillRun, BackfillStatus, Progress, Validation
from dbtruth.backfill.runner import Runner
from dbtruth.errors import DbtruthError
from dbtruth.sources.conninfo import connect_live, connect_writer, describe
from dbtruth.words import counted

VALIDATION_LIMIT = 1_000_000  # rows counted at most; more is "at least"
SAMPLE = 5


@dataclass(frozen=True, slots=True)
class BackfillOptions:
    spec: Path
    target: str | None = None
    restart: bool = False  # start over from the first key, forgetting the checkpoint
    resume: bool = False  # continue a paused backfill
    validate: bool = False  # status: run the validation query too
    on_progress: Callable[[Progress], None] | None = None
    on_event: Callable[[Event], None] | None = None


def run_backfill(options: BackfillOptions) -> BackfillRun:
    loaded = load_spec(options.spec)
    with ExitStack() as stack:
        conn = stack.enter_context(
            connect_writer(options.target, f"dbtruth backfill {loaded.name}"[:63])
        )
        monitor = stack.enter_context(connect_live(options.target, statement_timeout="30s"))
        watcher = stack.enter_context(connect_live(options.target, statement_timeout="5s"))
        prepared = prepare(conn, loaded)
        state = checkpoint.read(conn, loaded.name, write=True)
        if options.resume and state is None:
            raise DbtruthError(
                f"backfill {loaded.name} has never run: nothing to resume",
                hint="`dbtruth backfill run` starts it",
            )
        _preflight(conn, prepared)
        result = BackfillRun(
            prepared.name, describe(options.target), prepared.table.qualified,
            rate_limit=loaded.spec.rate,
        )  # fmt: skip
        result.created_schema = checkpoint.create(conn)
        if result.created_schema:
            result.notes.append(
                f"created schema {SCHEMA} on the target for the backfill's checkpoints (the "
                "only place dbtruth writes besides the spec's statement)"
            )
        _take_lock(conn, prepared, options.on_event)
        state = _begin(conn, prepared, options, result)
        began = time.monotonic()
        if state.status == "done":
            finished = f"{state.finished_at:%Y-%m-%d %H:%M:%S %Z}" if state.finished_at else "?"
            result.notes.append(
                f"already done ({state.chunks:,} chunks, finished {finished}): nothing to run; "
                "`run --restart` starts it over"
            )
        else:
            result.chunks_before = state.chunks
        if state.status == "running":
            Runner(conn, monitor, WaitWatch(watcher), prepared, result,
                   options.on_progress, options.on_event).run(state)  # fmt: skip
        else:
            result.status, result.reason = state.status, state.reason
        result.seconds = time.monotonic() - began
        result.waits = checkpoint.totals(conn, prepared.name)
        final = checkpoint.read(conn, prepared.name)
        if result.status == "done" and final is not None and final.high_key is not None:
            result.beyond = _count(conn, prepared.keyset.count_beyond(final.high_key))
        if result.status == "done" and loaded.spec.validate_query:
            result.validation = validate(monitor, loaded.spec.validate_query)
        return result


def _preflight(conn: psycopg.Connection[Any], prepared: Prepared) -> None:
    """What `plan` calls a problem stops `run` before it writes anything (exit 2)."""
    row = conn.execute(prepared.keyset.edge(last=True)).fetchone()
    if row is None:
        return  # an empty table: nothing a chunk could do wrong
    found = preflight(conn, prepared, tuple(str(v) for v in row))
    if found.problems:
        key, problem = found.problems[0]
        more = len(found.problems) - 1
        raise prepared.loaded.error(
            f"run refused: {problem}" + (f" (and {counted(more, 'more problem')})" if more else ""),
            key,
            hint="`dbtruth backfill plan` shows the plans",
        )


def _take_lock(
    conn: psycopg.Connection[Any], prepared: Prepared, on_event: Callable[[Event], None] | None
) -> None:
    """One run per backfill. A run killed with -9 leaves its server session behind until that
    session notices (its chunk ends, bounded by statement_timeout): wait that long for it."""
    key = checkpoint.advisory_key(prepared.name)
    deadline = time.monotonic() + prepared.loaded.spec.chunk.statement_timeout + 10
    said = False
    while True:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (checkpoint.ADVISORY_CLASS, key)
        ).fetchone()
        if row and row[0]:
            return
        if not said and on_event is not None:
            pid = checkpoint.holder(conn, prepared.name)
            on_event(Event(datetime.now(UTC), "waiting", None, (
                f"session pid {pid} holds backfill {prepared.name}: waiting up to "
                f"{deadline - time.monotonic():.0f} s for it to end (a killed run's session "
                "ends with its chunk)"
            )))  # fmt: skip
            said = True
        if time.monotonic() > deadline:
            pid = checkpoint.holder(conn, prepared.name)
            raise DbtruthError(
                f"backfill {prepared.name} is being run by another session (pid {pid})",
                hint="`dbtruth backfill status` shows it; `pause` stops it after its chunk",
            )
        time.sleep(0.5)


def _begin(
    conn: psycopg.Connection[Any], prepared: Prepared, options: BackfillOptions,
    result: BackfillRun,
) -> Checkpoint:  # fmt: skip
    loaded, table, name = prepared.loaded, prepared.table, prepared.name
    spec = loaded.spec
    state = checkpoint.read(conn, name)
    statement = prepared.statement.normalized
    digest = checkpoint.digest(table.qualified, table.key_names, statement)
    if state is not None and not options.restart:
        if state.digest != digest:
            changed, key = _what_changed(state, prepared)
            raise loaded.error(
                f"backfill {name} started with another {changed} ({counted(state.chunks, 'chunk')} "
                "done); resuming would mix two backfills",
                key,
                hint="restore the spec it started with, or `run --restart` to start over",
            )
        if state.status == "aborted":
            raise DbtruthError(
                f"backfill {name} was aborted ({state.reason})",
                hint="`dbtruth backfill run --restart` starts it over from the first key",
            )
        if state.status == "paused" and not options.resume:
            raise DbtruthError(
                f"backfill {name} is paused ({state.reason})",
                hint="`dbtruth backfill resume` continues it",
            )
        if state.status in ("paused", "failed", "running"):
            before = state.status
            checkpoint.set_status(conn, name, "running", None)
            event = checkpoint.log(
                conn, name, "resumed",
                f"resumed after chunk {state.chunks} ({before}"
                f"{': ' + state.reason if state.reason else ''})",
            )  # fmt: skip
            result.events.append(event)
            fresh = checkpoint.read(conn, name)
            assert fresh is not None
            return fresh
        return state  # done
    high = _edge(conn, prepared)
    checkpoint.start(conn, name, table.qualified, table.key_names, statement, high,
                     table.rows, spec.chunk.rows)  # fmt: skip
    if state is not None:
        result.events.append(checkpoint.log(conn, name, "restarted", (
            f"started over: the checkpoint at chunk {state.chunks:,} ({state.status}, "
            f"{state.rows_visited:,} rows visited) was discarded"
        )))  # fmt: skip
    detail = (
        f"key range up to ({', '.join(high)}), {max(table.rows, 0):.0f} rows estimated"
        if high is not None
        else "the table is empty: nothing to do"
    )
    result.events.append(checkpoint.log(conn, name, "started", detail))
    fresh = checkpoint.read(conn, name)
    assert fresh is not None
    return fresh


def _what_changed(state: Checkpoint, prepared: Prepared) -> tuple[str, str]:
    """Which of table, key and statement differ from the run being resumed, and the spec
    key to point at."""
    table = prepared.table
    if state.table != table.qualified:
        return f"table ({state.table})", "table"
    if state.key_columns != table.key_names:
        return f"key ({', '.join(state.key_columns)})", "key"
    was = f": {state.statement}" if state.statement else ""
    return f"statement{was}", "statement"


def _edge(conn: psycopg.Connection[Any], prepared: Prepared) -> tuple[str, ...] | None:
    """The key range's end, fixed when the backfill starts, so that it ends however fast rows
    are inserted meanwhile (those rows are the application's to write in the new shape)."""
    row = conn.execute(prepared.keyset.edge(last=True)).fetchone()
    return tuple(str(v) for v in row) if row is not None else None


def _count(conn: psycopg.Connection[Any], statement: sql.Composed) -> int | None:
    try:
        with conn.transaction():
            conn.execute("SET LOCAL statement_timeout = '30s'")
            row = conn.execute(statement).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def validate(conn: psycopg.Connection[Any], query: str) -> Validation:
    """The validation query in a read-only session: the rows it returns still need work."""
    found = Validation(query.strip())
    text = sql.SQL(query.strip().rstrip(";"))  # gated: one plain SELECT
    try:
        with conn.transaction():
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM (SELECT 1 FROM ({}) AS q LIMIT {}) AS c").format(
                    text, sql.Literal(VALIDATION_LIMIT)
                )
            ).fetchone()
            rows = conn.execute(
                sql.SQL("SELECT * FROM ({}) AS q LIMIT {}").format(text, sql.Literal(SAMPLE))
            ).fetchall()
    except psycopg.Error as exc:
        found.error = exc.diag.message_primary or str(exc).split("\n", 1)[0]
        return found
    found.rows = int(count[0]) if count else 0
    found.sample = [", ".join(str(v) for v in row) for row in rows]
    return found


def backfill_status(options: BackfillOptions) -> BackfillStatus:
    loaded = load_spec(options.spec)
    with connect_live(options.target) as conn:
        state = checkpoint.read(conn, loaded.name)
        status = BackfillStatus(loaded.name, describe(options.target), state)
        if state is not None:
            status.running_pid = checkpoint.holder(conn, loaded.name)
            status.totals = checkpoint.totals(conn, loaded.name)
            status.events = checkpoint.events(conn, loaded.name)
            status.back_offs = checkpoint.event_counts(conn, loaded.name)
            status.recent_rate = _recent_rate(conn, loaded.name)
            status.last_commit_seconds = _last_commit_age(conn, loaded.name)
            status.notes += _foreign(conn, loaded, state)
        if options.validate and loaded.spec.validate_query:
            status.validation = validate(conn, loaded.spec.validate_query)
    return status


def _recent_rate(conn: psycopg.Connection[Any], name: str) -> float | None:
    """Rows per second over the last 20 chunks: the rows committed after the first of them,
    over the time since it committed."""
    row = conn.execute(
        "SELECT sum(rows_visited) - (array_agg(rows_visited ORDER BY chunk))[1], "
        "extract(epoch FROM max(committed_at) - min(committed_at)), count(*) "
        "FROM (SELECT * FROM dbtruth_backfill.chunk WHERE name = %s "
        "ORDER BY chunk DESC LIMIT 20) AS c",
        (name,),
    ).fetchone()
    if not row or not row[1] or int(row[2]) < 2:
        return None
    return float(row[0]) / float(row[1])


def _last_commit_age(conn: psycopg.Connection[Any], name: str) -> float | None:
    row = conn.execute(
        "SELECT extract(epoch FROM now() - max(committed_at))::float8 "
        "FROM dbtruth_backfill.chunk WHERE name = %s",
        (name,),
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _foreign(conn: psycopg.Connection[Any], loaded: Any, state: Checkpoint) -> list[str]:
    """A note when the checkpoint of this name was started by another spec (two files with
    one stem, and no `name:`)."""
    try:
        prepared = prepare(conn, loaded)
    except DbtruthError:
        return [f"the checkpoint {loaded.name} is of table {state.table}, which this spec's "
                "table does not resolve to"]  # fmt: skip
    table = prepared.table
    if state.digest == checkpoint.digest(table.qualified, table.key_names,
                                         prepared.statement.normalized):  # fmt: skip
        return []
    return [
        f"the checkpoint {loaded.name} was started by another spec (table {state.table}, "
        f"statement: {state.statement}); give each spec its own `name:`"
    ]


_CHANGES = {
    # command: (new status, the statuses it may come from)
    "pause": ("paused", ("running",)),
    "abort": ("aborted", ("running", "paused", "failed")),
}


def change_status(options: BackfillOptions, command: str) -> BackfillStatus:
    """`pause` or `abort`: the checkpoint's status, which a running `run` reads at its next
    chunk (or within a second while it waits) and stops on."""
    loaded = load_spec(options.spec)
    new, allowed = _CHANGES[command]
    with connect_writer(options.target, f"dbtruth backfill {command}") as conn:
        conn.execute("SET lock_timeout = '10s'")
        state = checkpoint.read(conn, loaded.name, write=True)
        if state is None:
            raise DbtruthError(f"no backfill named {loaded.name} on the target")
        if state.status not in allowed:
            raise DbtruthError(f"backfill {loaded.name} is {state.status}: it cannot be {new}")
        reason = f"asked by `dbtruth backfill {command}`"
        checkpoint.set_status(conn, loaded.name, new, reason, only_from=allowed)
        checkpoint.log(conn, loaded.name, new, reason)
    return backfill_status(options)
