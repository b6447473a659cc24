"""Replay: run the migrations on a clone of the target and watch what PostgreSQL does.

The clone is a scratch database holding the target's schema (no rows): SQL files are loaded
into it; a live target is dumped schema-only (sources/dump.py) and loaded the same way, on a
scratch server of the target's major version when the machine has one. Each migration then
runs as its runner would run it, one statement at a time, as the clone's unprivileged owner;
after each statement dbtruth reads, from the database itself, the locks its own backend holds
on every table (pg_locks, before the transaction ends) and every table's relfilenode (a new
one: the table was rewritten). A statement that fails stops the replay with PostgreSQL's error
and position. The target is only read (by pg_dump); the clone is dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dbtruth.findings import Finding
from dbtruth.model.migration import MigrationFile, MigrationStatement
from dbtruth.rules.migration_locks import MODES, blocks_writes
from dbtruth.sources import sqlfiles
from dbtruth.sources.dump import schema_dump
from dbtruth.sources.scratch import ScratchDatabase, ScratchServer
from dbtruth.sources.watchdog import cancel_after, seconds

_LOCKS = """
SELECT c.oid, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_FILENODES = """
SELECT c.oid, n.nspname || '.' || c.relname, c.relfilenode
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%'
"""


@dataclass(frozen=True)
class Observation:
    file: str
    line: int
    column: int
    locks: dict[str, str]  # table -> strongest lock mode taken by this statement
    held_before: dict[str, str]  # locks the transaction already held when it started
    rewritten: tuple[str, ...]  # tables given a new relfilenode
    observable: bool = True  # False: ran outside a transaction, its locks were gone at once
    tables: frozenset[str] = frozenset()  # the tables of the clone after the statement
    existed: frozenset[str] = frozenset()  # the tables before it (new ones lock nobody)


@dataclass(frozen=True)
class Failure:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: replay failed: {self.message}"


def _mode(name: str) -> str:
    """'ShareRowExclusiveLock' -> 'SHARE ROW EXCLUSIVE'."""
    word = name.removesuffix("Lock")
    return "".join(" " + ch if ch.isupper() and i else ch for i, ch in enumerate(word)).upper()


def _strongest(rows: list[tuple[Any, str]]) -> dict[Any, str]:
    held: dict[Any, str] = {}
    for table, mode in rows:
        mode = _mode(mode)
        if table not in held or MODES.index(mode) > MODES.index(held[table]):
            held[table] = mode
    return held


def clone(
    target: str,
    server: ScratchServer,
    replacements: tuple[tuple[str, str], ...],
    lock_timeout: str = "1s",
) -> tuple[ScratchDatabase, list[str]]:
    """A new database on the scratch server holding the target's schema, and notes on how it
    was made."""
    database = server.create_database()
    # --against is one target: a path (folders with spaces, as in langfuse, included) or a URL
    local = Path(target)
    if local.exists():
        files = sqlfiles.discover([local])
        _, notes = sqlfiles.load(
            database.conninfo, files, scratch_label=server.label, replacements=replacements,
            sandbox=database.sandbox,
        )  # fmt: skip
        return database, notes
    with schema_dump(target, lock_timeout) as schema:
        _, notes = sqlfiles.load(
            database.conninfo, [schema], scratch_label=server.label, sandbox=database.sandbox
        )
    return database, notes


def _position(statement: MigrationStatement, exc: psycopg.Error) -> tuple[int, int]:
    offset = getattr(exc.diag, "statement_position", None)
    if not offset:
        return statement.line, statement.column
    before = statement.sql[: int(offset) - 1]
    if "\n" not in before:
        return statement.line, statement.column + len(before)
    return statement.line + before.count("\n"), len(before) - before.rfind("\n")


def replay(
    files: list[MigrationFile], database: ScratchDatabase, statement_timeout: str = "60s"
) -> tuple[list[Observation], Failure | None]:
    """Run `files` on the clone as the unprivileged owner, statement by statement; what each
    did, and the first failure (which stops the replay). A statement still running after
    `statement_timeout` is cancelled, and is the failure."""
    budget = seconds(statement_timeout)
    observations: list[Observation] = []
    sandbox = database.sandbox
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        for migration in files:
            in_transaction = migration.wrapped
            if in_transaction:
                conn.execute("BEGIN")
            for statement in migration.statements:
                verdict = sandbox.judge(statement.sql, conn)
                watch = None
                try:
                    if verdict.action == "refuse":
                        message = f"refused: {verdict.reason}"
                        return observations, Failure(
                            statement.file, statement.line, statement.column, message
                        )
                    if verdict.action == "privileged":
                        # Role and extension statements dbtruth's administrator runs for the
                        # migration, in a session of its own: their locks are not observed.
                        sandbox.run_privileged(verdict)
                        continue
                    with cancel_after(conn, budget) as watch:
                        observation, in_transaction = _run(conn, statement, in_transaction)
                except psycopg.Error as exc:
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")
                    line, column = _position(statement, exc)
                    message = str(exc).strip().splitlines()[0]
                    if isinstance(exc, psycopg.errors.QueryCanceled) and watch and watch.fired:
                        message = f"cancelled: still running after {statement_timeout}"
                    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                        message = (
                            f"refused: {message}: dbtruth replays migrations as an unprivileged "
                            "database owner, without superuser, server files or server programs"
                        )
                    return observations, Failure(statement.file, line, column, message)
                observations.append(observation)
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("COMMIT")
    return observations, None


def _run(
    conn: psycopg.Connection[Any], statement: MigrationStatement, in_transaction: bool
) -> tuple[Observation, bool]:
    kind = type(statement.node).__name__
    if kind == "TransactionStmt":
        conn.execute(statement.sql)
        open_now = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        return Observation(statement.file, statement.line, statement.column, {}, {}, ()), open_now
    # Tables are followed by OID: a RENAME changes the name, and the prediction speaks of the
    # name the table had before the statement.
    before = {oid: (name, node) for oid, name, node in conn.execute(_FILENODES).fetchall()}
    own_transaction = not in_transaction
    if own_transaction:
        conn.execute("BEGIN")  # to see the statement's locks before they are released
    before_locks = _strongest(conn.execute(_LOCKS).fetchall())
    observable = True
    try:
        conn.execute(statement.sql)
    except (psycopg.errors.ActiveSqlTransaction, psycopg.errors.InvalidTransactionTermination):
        if not own_transaction:
            raise
        # CONCURRENTLY and VACUUM run only outside a transaction block, and a procedure or DO
        # block that commits needs one of its own: run it as the runner does, unobserved
        conn.execute("ROLLBACK")
        conn.execute(statement.sql)
        observable, own_transaction = False, False
    after_locks = _strongest(conn.execute(_LOCKS).fetchall()) if observable else {}
    if own_transaction:
        conn.execute("COMMIT")
    after = {oid: (name, node) for oid, name, node in conn.execute(_FILENODES).fetchall()}

    def name_of(oid: int) -> str:
        return (before.get(oid) or after.get(oid) or (str(oid), 0))[0]

    taken = {
        name_of(oid): mode
        for oid, mode in after_locks.items()
        if oid not in before_locks or MODES.index(mode) > MODES.index(before_locks[oid])
    }
    rewritten = tuple(
        sorted(name_of(oid) for oid, (_, node) in after.items()
               if oid in before and before[oid][1] != node)
    )  # fmt: skip
    before_nodes = {name for name, _ in before.values()}
    after_nodes = {name for name, _ in after.values()}
    before_locks = {name_of(oid): mode for oid, mode in before_locks.items()}
    observation = Observation(
        statement.file,
        statement.line,
        statement.column,
        taken,
        before_locks,
        rewritten,
        observable,
        frozenset(after_nodes),
        frozenset(before_nodes),
    )
    return observation, in_transaction


@dataclass(frozen=True)
class Difference:
    file: str
    line: int
    table: str
    predicted: str | None
    observed: str | None
    what: str  # "lock" or "rewrite"

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.what} on {self.table}: predicted "
            f"{self.predicted or 'none'}, observed {self.observed or 'none'}"
        )


def compare(
    observations: list[Observation],
    predictions: dict[tuple[str, int], tuple[dict[str, str], frozenset[str]]],
) -> list[Difference]:
    """Where the static table and the database disagree; the database is right."""
    differences = []
    for seen in observations:
        predicted_locks, predicted_rewrites = predictions.get(
            (seen.file, seen.line), ({}, frozenset())
        )
        if seen.observable:
            # tables the statement itself created, and the weak share locks of reading
            # (they conflict only with ACCESS EXCLUSIVE), are not what the table predicts
            observed = {
                t: m for t, m in seen.locks.items()
                if t in seen.existed and m not in ("ACCESS SHARE", "ROW SHARE")
            }  # fmt: skip
            seen = dataclasses.replace(seen, locks=observed)
            # a table the statement dropped can no longer be looked up: nothing to compare
            tables = (set(predicted_locks) & seen.existed & seen.tables) | set(observed)
            for table in sorted(tables):
                predicted, held = predicted_locks.get(table), seen.held_before.get(table)
                if (
                    predicted
                    and table not in seen.locks
                    and held
                    and (MODES.index(held) >= MODES.index(predicted))
                ):
                    continue  # the transaction already held as much: nothing to observe
                if predicted != seen.locks.get(table):
                    differences.append(Difference(seen.file, seen.line, table,
                                                  predicted_locks.get(table),
                                                  seen.locks.get(table), "lock"))  # fmt: skip
        for table in sorted((set(predicted_rewrites) & seen.tables) ^ set(seen.rewritten)):
            difference = Difference(
                seen.file, seen.line, table,
                "rewrite" if table in predicted_rewrites else None,
                "rewrite" if table in seen.rewritten else None, "rewrite",
            )  # fmt: skip
            differences.append(difference)
    return differences


# Rules whose verdict rests on a predicted rewrite, and on a predicted write-blocking lock.
_REWRITE_RULES = frozenset({"M005", "M006", "M007"})
_LOCK_RULES = frozenset({"M001", "M003", "M004", "M005", "M006", "M007"})


def apply_observations(
    findings: list[Finding], differences: list[Difference]
) -> tuple[list[Finding], list[str]]:
    """Where replay saw PostgreSQL do less than the static table predicted, the observation
    replaces the verdict: a finding that rests on a rewrite the database did not do, or on a
    write-blocking lock it did not take, is withdrawn, and a note says so. (Where the database
    did more, the differences list says it; the static findings stand.)"""
    no_rewrite = {
        (d.file, d.line, d.table)
        for d in differences
        if d.what == "rewrite" and d.predicted == "rewrite" and d.observed is None
    }
    no_block = {
        (d.file, d.line, d.table)
        for d in differences
        if d.what == "lock"
        and d.predicted is not None
        and blocks_writes(d.predicted)
        and (d.observed is None or not blocks_writes(d.observed))
    }
    kept: list[Finding] = []
    notes: list[str] = []
    for finding in findings:
        where = finding.location
        key = (where.file, where.line, finding.object.relation) if where else None
        reason = None
        if key in no_rewrite and finding.code in _REWRITE_RULES:
            reason = f"no rewrite of {finding.object.relation}"
        elif key in no_block and finding.code in _LOCK_RULES:
            reason = f"no write-blocking lock on {finding.object.relation}"
        if reason is None or where is None:
            kept.append(finding)
            continue
        notes.append(
            f"{where.file}:{where.line}: {finding.code} withdrawn: replay observed {reason}"
        )
    return kept, notes
