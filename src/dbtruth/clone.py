"""The throwaway copy of a target that a capability may write to or plan on (prove's probes,
workload's plans), in a scratch server dbtruth starts (or one the user names with --scratch).

SQL files are loaded into it as `check` loads them: statement by statement, as an unprivileged
owner, in the sandbox. A live target is copied schema-only with pg_dump, which only reads it,
onto a scratch server of the target's major version when this machine has one; dbtruth opens no
session on the target that could write. The copy is dropped when the block that asked for it
ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.errors import DbtruthError
from dbtruth.reading import TargetOptions, parse_replacements
from dbtruth.sources import snapshot, sqlfiles
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.sources.dump import schema_dump
from dbtruth.sources.scratch import (
    ScratchDatabase,
    ScratchServer,
    open_scratch,
    open_scratch_for_major,
)
from dbtruth.sources.target import is_live


@dataclass
class Clone:
    conninfo: str  # the copy, as its unprivileged owner
    database: str
    description: str  # how it was made, for the report
    notes: list[str] = field(default_factory=list)
    # dbtruth's own server: its administrator, and the owner role loaded SQL runs as
    admin_conninfo: str | None = None
    owner: str = ""
    # Fresh copies of the copy, for probes that must commit (races); set by `cloned`.
    fork: Callable[[], AbstractContextManager[str]] | None = None

    def hold_to_policies(self) -> None:
        """Make the owner subject to row-level security, as an application's role is.

        On a server dbtruth started, the owner has BYPASSRLS (so that roles the SQL creates
        may have it); the server is this run's alone, so the attribute is simply taken away
        for the tenant probes. A user-named server's owner never has it."""
        if self.admin_conninfo is None:
            return
        with psycopg.connect(self.admin_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER ROLE {} NOBYPASSRLS").format(sql.Identifier(self.owner)))


@contextmanager
def cloned(
    target: TargetOptions, needs: str = "prove writes to a copy of the schema"
) -> Iterator[Clone]:
    """A scratch database holding the target's schema, for as long as the block runs. `needs`
    says what the command wants it for, in the error a snapshot gets."""
    words = target.target
    if is_live(words):
        if len(words) > 1:
            raise DbtruthError("a live target is one connection string; got several arguments")
        with _live_copy(normalize(words[0]) if words else "", target) as copy:
            yield copy
        return
    paths = [Path(w) for w in words]
    if len(paths) == 1 and snapshot.is_snapshot(paths[0]):
        raise DbtruthError(
            f"{needs}, and a snapshot holds no schema to copy",
            where=str(paths[0]),
            hint="give the SQL files or the database URL the snapshot was taken from",
        )
    skipped: list[str] = []
    files = sqlfiles.discover(paths, skipped)
    for path in files:  # unreadable input fails before a server starts
        sqlfiles.read_text(path)
    with open_scratch(target.scratch) as server:
        database = server.create_database()
        problems, notes = sqlfiles.load(
            database.conninfo,
            files,
            scratch_label=server.label,
            keep_going=target.keep_going,
            replacements=parse_replacements(target.replace),
            sandbox=database.sandbox,
        )
        label = ", ".join(str(p) for p in paths)
        # --keep-going: what failed to load is missing from the copy, and so from the proofs.
        missing = [f"not loaded, so not proven: {problem}" for problem in problems]
        yield Clone(
            database.conninfo,
            database.name,
            f"{label} loaded into {server.label}",
            [*skipped, *notes, *missing],
            *_own_server(server, database),
            fork=lambda: server.fork(database),
        )


@contextmanager
def schema_session(
    target: TargetOptions, needs: str
) -> Iterator[tuple[psycopg.Connection[Any], str, Clone | None]]:
    """A session on a database holding the target's schema, for reading: a live target's own
    read-only session, or one on the copy its SQL files are loaded into. Yields the session,
    what it is on, and the copy (None on a live target)."""
    words = target.target
    if is_live(words):
        if len(words) > 1:
            raise DbtruthError("a live target is one connection string; got several arguments")
        conninfo = normalize(words[0]) if words else ""
        with connect_live(
            conninfo, statement_timeout=target.statement_timeout,
            lock_timeout=target.lock_timeout,
        ) as conn:  # fmt: skip
            yield conn, f"{describe(conninfo)}, read-only session", None
        return
    with cloned(target, needs) as copy:
        try:
            conn = psycopg.connect(copy.conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise DbtruthError(f"the scratch copy stopped answering: {exc}") from exc
        with conn:
            yield conn, copy.description, copy


@contextmanager
def _live_copy(conninfo: str, target: TargetOptions) -> Iterator[Clone]:
    major = _server_major(conninfo, target)
    server: ScratchServer
    server, version_note = open_scratch_for_major(target.scratch, major)
    with server:
        database = server.create_database()
        with schema_dump(conninfo, target.lock_timeout) as schema:
            _, notes = sqlfiles.load(
                database.conninfo, [schema], scratch_label=server.label, sandbox=database.sandbox
            )
        # Settings of another version that pg_dump wrote are skipped: noise beside the probes.
        notes = [n for n in notes if "setting unknown" not in n]
        description = (
            f"schema-only copy of {describe(conninfo)} (pg_dump) loaded into {server.label}"
        )
        yield Clone(
            database.conninfo,
            database.name,
            description,
            [*([version_note] if version_note else []), *notes],
            *_own_server(server, database),
            fork=lambda: server.fork(database),
        )


def _own_server(server: ScratchServer, database: ScratchDatabase) -> tuple[str | None, str]:
    """The administrator's connection to the copy and its owner, on a server dbtruth started."""
    if not server.started:
        return None, database.sandbox.owner
    return database.sandbox.admin_conninfo, database.sandbox.owner


def _server_major(conninfo: str, target: TargetOptions) -> int:
    """The target's major version, asked in a read-only session."""
    with connect_live(
        conninfo, statement_timeout=target.statement_timeout, lock_timeout=target.lock_timeout
    ) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    return int(row[0]) // 10000 if row else 0
