"""SQL files and folders loaded statement by statement into a scratch database, reporting
failures at the file, line and column PostgreSQL points at.

Statements (read and split in sqltext) are sent one at a time, so that a failure names its
statement and, with --keep-going, the rest of the file still loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dbtruth.errors import DbtruthError
from dbtruth.model import Removal
from dbtruth.sources import removals as removal_log
from dbtruth.sources.sandbox import NATIVE, Sandbox, needs_superuser_by_nature
from dbtruth.sources.sqltext import (  # read here by the loaders of targets and clones
    MAX_SQL_BYTES,
    RUNNER_IGNORES,
    SQL_SUFFIXES,
    Statement,
    discover,
    natural_key,
    read_text,
    statements,
)
from dbtruth.sources.watchdog import cancel_after, seconds

__all__ = [
    "MAX_SQL_BYTES",
    "RUNNER_IGNORES",
    "SQL_SUFFIXES",
    "LoadProblem",
    "Statement",
    "created_relation",
    "discover",
    "explain_failure",
    "load",
    "natural_key",
    "read_text",
    "statements",
]


@dataclass(frozen=True, slots=True)
class LoadProblem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


# Failures caused by what the scratch server lacks, not by the SQL: say which and how to get it.
_MISSING_EXTENSION = re.compile(
    r'extension "([^"]+)" is not available'
    r'|could not open extension control file "[^"]*/([^/"]+)\.control"'
)
_NO_ICU = re.compile(r"ICU is not supported|collation provider .*icu|icu", re.IGNORECASE)


def explain_failure(exc: psycopg.Error, scratch_label: str) -> str:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    missing = _MISSING_EXTENSION.search(message) or _MISSING_EXTENSION.search(str(exc))
    if missing:
        name = missing.group(1) or missing.group(2)
        return (
            f'the scratch server ({scratch_label}) has no extension "{name}", so this statement '
            f"and the objects that need {name} cannot be created; load with a server that has it: "
            "--scratch system (Debian: apt-get install postgresql postgresql-contrib) or "
            "--scratch URL"
        )
    if diag.sqlstate == "0A000" and _NO_ICU.search(message):
        return (
            f"the scratch server ({scratch_label}) was built without ICU, so ICU collations "
            "cannot be created; use --scratch system or --scratch URL with an ICU build"
        )
    text = message
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    if diag.message_hint:
        text += f"; hint: {diag.message_hint}"
    return text


_CREATES = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?"
    r"(?:TABLE|VIEW|MATERIALIZED\s+VIEW|SEQUENCE|FOREIGN\s+TABLE|FUNCTION|PROCEDURE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?"
    r"((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)


def created_relation(sql: str, default_schema: str = "public") -> str | None:
    """schema.name of the relation a CREATE statement makes (`default_schema`, the schema
    PostgreSQL creates unqualified objects in, when unqualified)."""
    body = re.sub(r"^(\s*--[^\n]*\n)+", "", sql)
    match = _CREATES.match(body)
    if match is None:
        return None
    parts = [p.strip() for p in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", match.group(1))]
    names = [p[1:-1] if p.startswith('"') else p.lower() for p in parts]
    return ".".join(names) if len(names) == 2 else f"{default_schema}.{names[0]}"


def load(
    conninfo: str,
    files: list[Path],
    *,
    scratch_label: str,
    keep_going: bool = False,
    replacements: tuple[tuple[str, str], ...] = (),
    progress: Callable[[str, int], None] | None = None,
    locations: dict[str, tuple[str, int]] | None = None,
    removals: list[Removal] | None = None,
    sandbox: Sandbox | None = None,
    statement_timeout: str = "60s",
) -> tuple[list[LoadProblem], list[str]]:
    """Load every statement of `files` into the database at `conninfo`.

    With a `sandbox` (every scratch database dbtruth makes), each statement is first judged by
    it: role and extension statements the unprivileged owner cannot run are run by dbtruth's
    administrator or refused. Returns the problems (statements that only a superuser can ever
    run, and with keep_going every failure; otherwise the first failure raises) and notes about
    how the files were read. `locations` receives where each relation was created, `removals`
    the foreign keys and indexes a statement dropped (dbtruth.sources.removals). A statement
    still running after `statement_timeout` is cancelled and reported where it is."""
    budget = seconds(statement_timeout)
    problems: list[LoadProblem] = []
    notes: list[str] = []
    # Where unqualified CREATEs land: the first existing schema of the search_path, asked of
    # PostgreSQL again whenever a statement may have changed it.
    creation_schema = "public"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for path in files:
            for statement in statements(path, replacements, notes):
                if _DATABASE_LEVEL.match(statement.sql):
                    notes.append(
                        f"{statement.file}:{statement.line}: database-level statement skipped; "
                        "dbtruth loads every file into one scratch database"
                    )
                    continue
                if (
                    _LOCK_TABLE.match(statement.sql)
                    and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                ):
                    # A migration runner runs the file in a transaction (graphile-worker's
                    # LOCK TABLE … before its ALTERs); loaded statement by statement, PostgreSQL
                    # refuses LOCK outside one. A lock changes no schema.
                    notes.append(
                        f"{statement.file}:{statement.line}: LOCK TABLE outside a transaction "
                        "skipped; it changes no schema (a migration runner wraps the file in a "
                        "transaction)"
                    )
                    continue
                try:
                    verdict = sandbox.judge(statement.sql, conn) if sandbox else NATIVE
                    notes.extend(f"{statement.file}:{statement.line}: {n}" for n in verdict.notes)
                    if verdict.action == "refuse":
                        raise _Refused(f"refused: {verdict.reason}")
                    if verdict.action == "privileged" and sandbox is not None:
                        sandbox.run_privileged(verdict)
                    else:
                        watched = removals is not None and removal_log.may_drop(statement.sql)
                        before = removal_log.snapshot(conn) if watched else None
                        with cancel_after(conn, budget) as watch:
                            try:
                                _execute(conn, statement)
                            except psycopg.errors.QueryCanceled as exc:
                                if not watch.fired:
                                    raise
                                raise _Refused(
                                    f"cancelled: still running after {statement_timeout} "
                                    "(--statement-timeout)"
                                ) from exc
                        if removals is not None:
                            removals.extend(
                                removal_log.declared_nullable(
                                    conn, statement.sql, statement.file, statement.line
                                )
                            )
                        if before is not None and removals is not None:
                            after = removal_log.snapshot(conn)
                            if after is not None:
                                removals.extend(
                                    removal_log.dropped(
                                        before, after, statement.file, statement.line
                                    )
                                )
                except (psycopg.Error, _Refused) as exc:
                    if _unknown_setting(statement, exc):
                        # pg_dump writes the settings of its own version (18's
                        # transaction_timeout): meaningless to an older server, and harmless.
                        notes.append(
                            f"{statement.file}:{statement.line}: setting unknown to the scratch "
                            f"server skipped ({statement.sql.strip()[:60]})"
                        )
                        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                            conn.execute("ROLLBACK")
                        continue
                    problem, fatal = _judge_failure(statement, exc, scratch_label, sandbox)
                    if fatal and not keep_going:
                        refused = problem.message.startswith("refused:")
                        raise DbtruthError(
                            problem.message,
                            where=f"{problem.file}:{problem.line}:{problem.column}",
                            hint=None
                            if refused
                            else "--keep-going loads the remaining statements and reports "
                            "what could not be created",
                        ) from exc
                    problems.append(problem)
                    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                        conn.execute("ROLLBACK")
                else:
                    if locations is not None:
                        if _MAY_MOVE_CREATION_SCHEMA.search(statement.sql):
                            creation_schema = _current_schema(conn) or creation_schema
                        made = created_relation(statement.sql, creation_schema)
                        if made:
                            locations.setdefault(made, (statement.file, statement.line))
                if progress is not None:
                    progress(statement.file, 1)
    return problems, notes


_SET = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*(?:SET\s+(?:SESSION\s+|LOCAL\s+)?\w+\s*(?:=|TO)"
    r"|SELECT\s+pg_catalog\.set_config\()",
    re.IGNORECASE,
)


def _unknown_setting(statement: Statement, exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.UndefinedObject) and bool(_SET.match(statement.sql))


_OWNER_TO = re.compile(r"^\s*(?:--[^\n]*\n\s*)*ALTER\b.*\bOWNER\s+TO\b", re.I | re.S)


_MAY_MOVE_CREATION_SCHEMA = re.compile(
    r"search_path|\bCREATE\s+SCHEMA\b|\bDROP\s+SCHEMA\b|\bRESET\b|\bDISCARD\b", re.I
)


def _current_schema(conn: psycopg.Connection[Any]) -> str | None:
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return None
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else None


class _Refused(Exception):
    """A statement the sandbox will not run."""


def _judge_failure(
    statement: Statement,
    exc: psycopg.Error | _Refused,
    scratch_label: str,
    sandbox: Sandbox | None,
) -> tuple[LoadProblem, bool]:
    """The problem to report for a failed statement, and whether it stops the load.

    A statement PostgreSQL refused for lack of privilege is either one only a superuser can
    ever run (an event trigger, an untrusted language: reported as not loaded, and the load goes
    on) or an attempt to reach past the database (COPY … PROGRAM, pg_read_file, ALTER SYSTEM:
    refused, naming it)."""
    if isinstance(exc, _Refused):
        return LoadProblem(statement.file, statement.line, statement.column, str(exc)), True
    problem = _problem(statement, exc, scratch_label)
    if sandbox is None or not isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return problem, True
    if _OWNER_TO.search(statement.sql):
        message = (
            f"ownership not changed: {exc.diag.message_primary or problem.message} (a superuser "
            "skips that check; dbtruth loads SQL without one)"
        )
        return LoadProblem(problem.file, problem.line, problem.column, message), False
    kind = needs_superuser_by_nature(statement.sql)
    if kind:
        message = (
            f"not loaded: creating {kind} needs a superuser, and dbtruth runs loaded SQL "
            f"without one ({problem.message})"
        )
        return LoadProblem(problem.file, problem.line, problem.column, message), False
    primary = exc.diag.message_primary or problem.message
    message = (
        f"refused: {primary}: dbtruth runs loaded SQL as an unprivileged database owner, "
        "without superuser, server files or server programs"
    )
    if "create role" in problem.message and not sandbox.createrole_is_safe:
        message += (
            "; roles created inside DO blocks or functions need CREATEROLE, which dbtruth gives "
            "the SQL only on PostgreSQL 16 or later (--scratch embedded)"
        )
    return LoadProblem(problem.file, problem.line, problem.column, message), True


# Statements about whole databases make no sense inside the one scratch database a target is
# loaded into, and on a user-named scratch server they would touch other databases.
_DATABASE_LEVEL = re.compile(
    r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(?:CREATE|DROP|ALTER)\s+DATABASE\b",
    re.IGNORECASE | re.DOTALL,
)


_LOCK_TABLE = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*LOCK\b", re.IGNORECASE | re.DOTALL)


def _execute(conn: psycopg.Connection[Any], statement: Statement) -> None:
    with conn.cursor() as cur:
        if statement.copy_data is not None:
            with cur.copy(statement.sql) as copy:
                copy.write(statement.copy_data)
        else:
            cur.execute(statement.sql)


def _problem(statement: Statement, exc: psycopg.Error, scratch_label: str) -> LoadProblem:
    line, column = statement.line, statement.column
    position = exc.diag.statement_position
    if position:
        before = statement.sql[: int(position) - 1]
        newlines = before.count("\n")
        line += newlines
        column = (len(before) - before.rfind("\n")) if newlines else column + len(before)
    return LoadProblem(statement.file, line, column, explain_failure(exc, scratch_label))
