"""`dbtruth drill restore`: dump a live database, restore it elsewhere, and prove the restore
equals what was dumped — measured, so that a restore is a capability with a time (RTO), not a
belief (playbook §3.10, §9 "Restore failed").

1. dbtruth's read-only session opens a REPEATABLE READ transaction and exports its snapshot;
   pg_dump (directory format, `--jobs` in parallel) dumps exactly that snapshot, and every
   count and checksum of the source is read in the same snapshot, so writes during the drill
   never make source and restore differ.
2. The dump is restored into a fresh database on a scratch server of the target's major
   version (or the empty database `--to` names), as an unprivileged owner (--no-owner
   --no-privileges); the extensions it needs are created first by dbtruth's administrator.
3. Verified: the schema object by object (schema_diff.py), every table's row count and an
   order-independent checksum of its rows (all rows up to --full-bytes per table, beyond that
   a sample keyed on the primary key with its share stated), constraints validated, and
   amcheck on every btree index where dbtruth administers the server.

The target is only read: the snapshot session and pg_dump's. Never written.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dbtruth.errors import DbtruthError
from dbtruth.model import Catalog, Table
from dbtruth.ops.schema_diff import differences
from dbtruth.reading import TargetOptions, target_label
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.sources.dump import client_env
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.scratch import (
    ScratchServer,
    binaries_major,
    embedded_bindir,
    open_scratch_for_major,
    run_marker,
    system_bindir,
)
from dbtruth.sources.sessions import print_alike
from dbtruth.sources.target import is_live
from dbtruth.words import counted

_EXTENSION = re.compile(r"^\d+; \d+ \d+ EXTENSION - (\S+)")
_EXTENSION_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - EXTENSION ")
_SAMPLE_BUCKETS = 1000


@dataclass(frozen=True, slots=True)
class DrillOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    to: str | None = None  # an empty database to restore into; else a scratch server
    jobs: int = 2
    full_bytes: int = 1 << 30  # tables up to this size are compared row by row in full
    sample_share: float = 0.1  # of a larger table's rows, chosen by its primary key
    timeout_s: int = 6 * 3600
    # Told each phase as it starts (the terminal shows it while a long drill runs).
    phase: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    share: float  # of the rows compared: 1.0 in full
    source_rows: int
    restored_rows: int | None
    source_sum: str
    restored_sum: str | None
    note: str = ""

    @property
    def equal(self) -> bool:
        return self.source_rows == self.restored_rows and self.source_sum == self.restored_sum


@dataclass
class DrillResult:
    target: str
    restored_on: str
    server_version: str
    dump_bytes: int = 0
    dump_seconds: float = 0.0
    restore_seconds: float = 0.0
    verify_seconds: float = 0.0
    schema_differences: list[str] = field(default_factory=list)
    schema_difference_count: int = 0
    tables: list[TableCheck] = field(default_factory=list)
    not_validated: list[str] = field(default_factory=list)  # validated at the source only
    amchecked: int = 0
    amcheck_failures: list[str] = field(default_factory=list)
    restore_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (
            self.schema_difference_count
            or self.not_validated
            or self.amcheck_failures
            or self.restore_errors
            or any(not t.equal for t in self.tables)
        )

    @property
    def rto_seconds(self) -> float:
        """The time from a dump in hand to a database known good: restore and verify."""
        return self.restore_seconds + self.verify_seconds


def drill_restore(options: DrillOptions) -> DrillResult:
    words = options.target.target
    if not is_live(words) or len(words) != 1:
        raise DbtruthError("drill restore dumps a live database: give one database URL")
    source_url = normalize(words[0])
    target = options.target
    folder = Path(tempfile.mkdtemp(prefix="dbtruth-drill-"))
    (folder / "owner").write_text(run_marker())
    try:
        with connect_live(
            source_url, statement_timeout=target.statement_timeout,
            lock_timeout=target.lock_timeout,
        ) as source:  # fmt: skip
            say = options.phase or (lambda _: None)
            snapshot = _snapshot(source)
            catalog = read_catalog(source, describe(source_url), live=True)
            result = DrillResult(target_label(words), "", catalog.server_version)
            say(f"dumping {len(catalog.tables)} tables with {counted(options.jobs, 'job')}…")
            started = time.perf_counter()
            tools = _client_bindir(catalog.server_version_num // 10000)
            dump = _dump(tools, source_url, folder, snapshot, options, target.lock_timeout)
            result.dump_seconds = time.perf_counter() - started
            result.dump_bytes = sum(p.stat().st_size for p in dump.rglob("*") if p.is_file())
            say("checksumming the source in the dump's snapshot…")
            checks = _source_checks(source, catalog, options)
        say("restoring…")
        with _restore_database(options, catalog, folder) as (conninfo, admin, label):
            result.restored_on = label
            started = time.perf_counter()
            result.restore_errors, result.notes = _restore(
                tools, dump, conninfo, admin, folder, options
            )
            result.restore_seconds = time.perf_counter() - started
            say("verifying the restore…")
            started = time.perf_counter()
            _verify(result, catalog, checks, conninfo, admin)
            result.verify_seconds = time.perf_counter() - started
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def verify_restore(options: DrillOptions, restored: str) -> DrillResult:
    """Compare a restore made by any means (pgBackRest, a managed service's point-in-time
    restore, a previous `drill restore --to`) with the live source as it is now: the same
    checks as a drill, without the dump. The source must not have changed since the backup
    the restore came from, or its changes show as differences. The restored database is only
    read; amcheck runs where its extension already exists there."""
    words = options.target.target
    if not is_live(words) or len(words) != 1:
        raise DbtruthError("drill verify compares with a live database: give one database URL")
    source_url = normalize(words[0])
    with connect_live(
        source_url, statement_timeout=options.target.statement_timeout,
        lock_timeout=options.target.lock_timeout,
    ) as source:  # fmt: skip
        _snapshot(source)
        catalog = read_catalog(source, describe(source_url), live=True)
        checks = _source_checks(source, catalog, options)
    restored_url = normalize(restored)
    result = DrillResult(target_label(words), describe(restored_url), catalog.server_version)
    started = time.perf_counter()
    _verify(result, catalog, checks, restored_url, None, amcheck_if_present=True)
    result.verify_seconds = time.perf_counter() - started
    return result


def _snapshot(conn: psycopg.Connection[Any]) -> str:
    """Begin the transaction whose snapshot the dump and the source's checks share."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    print_alike(conn)
    row = conn.execute("SELECT pg_export_snapshot()").fetchone()
    assert row is not None
    return str(row[0])


def _client_bindir(major: int) -> Path:
    """pg_dump and pg_restore of the target's major version where this machine has them: a
    newer pg_restore writes settings an older server does not know. Else the embedded ones."""
    system = system_bindir()
    if system is not None and binaries_major(system) == major:
        return system
    return embedded_bindir()


def _dump(
    tools: Path, url: str, folder: Path, snapshot: str, options: DrillOptions, lock_timeout: str
) -> Path:
    out = folder / "dump"
    params, env = client_env(conninfo_to_dict(url), folder)
    args = [
        str(tools / "pg_dump"), "--format=directory", f"--jobs={options.jobs}",
        f"--snapshot={snapshot}", f"--lock-wait-timeout={lock_timeout}", "--file", str(out),
        "--dbname", make_conninfo("", **params),
    ]  # fmt: skip
    _client(args, env, f"pg_dump of {describe(url)}", options.timeout_s)
    return out


def _client(args: list[str], env: dict[str, str], what: str, timeout_s: int) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False, env=env,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise DbtruthError(f"{what} took longer than {timeout_s} s") from exc
    if done.returncode != 0 and "pg_restore" not in args[0]:
        text = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
        raise DbtruthError(f"{what} failed: {text[:400]}")
    return done.stderr


@dataclass(frozen=True, slots=True)
class _Check:
    table: Table
    share: float
    where: sql.Composable
    rows: int
    digest: str
    note: str


def _source_checks(
    conn: psycopg.Connection[Any], catalog: Catalog, options: DrillOptions
) -> list[_Check]:
    sizes = dict(
        conn.execute(
            "SELECT n.nspname || '.' || c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
        ).fetchall()
    )
    checks = []
    for table in catalog.tables:
        if table.kind != "table":
            continue  # a partitioned table holds no rows: its partitions are checked
        where: sql.Composable = sql.SQL("")
        share, note = 1.0, ""
        if sizes.get(table.qualified, 0) > options.full_bytes:
            key = catalog.primary_key(table)
            if key:
                share = options.sample_share
                where = sql.SQL(" WHERE abs(hashtext(ROW({}){})) % {} < {}").format(
                    sql.SQL(", ").join(sql.Identifier("r", c) for c in key),
                    sql.SQL("::text"),
                    sql.Literal(_SAMPLE_BUCKETS),
                    sql.Literal(int(share * _SAMPLE_BUCKETS)),
                )
                note = f"rows sampled by primary key ({share:.0%})"
            else:
                note = "no primary key to sample by: every row compared"
        rows, digest = _digest(conn, table, where)
        checks.append(_Check(table, share, where, rows, digest, note))
    return checks


def _digest(conn: psycopg.Connection[Any], table: Table, where: sql.Composable) -> tuple[int, str]:
    """Rows and an order-independent checksum: the sum of each row's hash (60 bits of the md5
    of its text), exact in numeric."""
    row = conn.execute(
        sql.SQL(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(ROW(r.*)::text), 1, 15))"
            "::bit(60)::bigint), 0)::text FROM ONLY {} AS r{}"
        ).format(sql.Identifier(table.schema, table.name), where)
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


@contextlib.contextmanager
def _restore_database(
    options: DrillOptions, catalog: Catalog, folder: Path
) -> Iterator[tuple[str, str | None, str]]:
    """(the owner's connection to the database restored into, the administrator's or None,
    how to name it)."""
    if options.to is not None:
        conninfo = normalize(options.to)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')"
                "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                "   AND n.nspname !~ '^pg_toast'"
            ).fetchone()
        if row and row[0]:
            raise DbtruthError(
                f"--to {describe(conninfo)} is not empty ({row[0]} relations): a drill restores "
                "into an empty database only, never over data"
            )
        yield conninfo, None, describe(conninfo)
        return
    server: ScratchServer
    server, note = open_scratch_for_major(
        options.target.scratch, catalog.server_version_num // 10000
    )
    with server:
        database = server.create_database()
        label = f"{server.label}" + (f" ({note})" if note else "")
        yield database.conninfo, database.sandbox.admin_conninfo if server.started else None, label


def _restore(
    tools: Path,
    dump: Path,
    conninfo: str,
    admin: str | None,
    folder: Path,
    options: DrillOptions,
) -> tuple[list[str], list[str]]:
    """Restore as the database's owner; the extensions the dump needs are created first by
    the administrator where there is one. Returns the restore's errors and notes."""
    pg_restore = str(tools / "pg_restore")
    toc = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True,
                         check=True, timeout=600).stdout  # fmt: skip
    notes: list[str] = []
    kept: list[str] = []
    extensions: list[str] = []
    for line in toc.splitlines():
        found = _EXTENSION.match(line)
        if found:
            extensions.append(found.group(1))
        if (found or _EXTENSION_COMMENT.match(line)) and admin is not None:
            kept.append(";" + line)  # created below, by the administrator
        else:
            kept.append(line)
    if admin is not None and extensions:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in extensions:
                try:
                    conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                        sql.Identifier(name)))  # fmt: skip
                except psycopg.Error as exc:
                    notes.append(f"extension {name} not available here: {exc.diag.message_primary}")
    order = folder / "restore.list"
    order.write_text("\n".join(kept) + "\n")
    params, env = client_env(conninfo_to_dict(conninfo), folder)
    stderr = _client(
        [pg_restore, f"--jobs={options.jobs}", "--no-owner", "--no-privileges",
         f"--use-list={order}", "--dbname", make_conninfo("", **params), str(dump)],
        env, "pg_restore", options.timeout_s,
    )  # fmt: skip
    errors = []
    for line in stderr.splitlines():
        if not line.startswith("pg_restore: error:"):
            continue
        text = line.removeprefix("pg_restore: error: ").strip()
        if "unrecognized configuration parameter" in text:
            # A setting of the newer pg_dump's version (transaction_timeout): the restore
            # itself is unaffected.
            notes.append(f"a setting of another version skipped: {text}")
        else:
            errors.append(text)
    return errors[:50], list(dict.fromkeys(notes))


def _verify(
    result: DrillResult,
    source: Catalog,
    checks: list[_Check],
    conninfo: str,
    admin: str | None,
    *,
    amcheck_if_present: bool = False,
) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        restored = read_catalog(conn, "restore", live=True)
        result.schema_differences, result.schema_difference_count = differences(source, restored)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        print_alike(conn)
        for check in checks:
            try:
                rows, digest = _digest(conn, check.table, check.where)
            except psycopg.Error as exc:
                conn.execute("ROLLBACK")
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                print_alike(conn)
                result.tables.append(TableCheck(check.table.qualified, check.share, check.rows,
                                                None, check.digest, None,
                                                exc.diag.message_primary or str(exc)))  # fmt: skip
                continue
            result.tables.append(TableCheck(check.table.qualified, check.share, check.rows,
                                            rows, check.digest, digest, check.note))  # fmt: skip
        conn.execute("ROLLBACK")
    validated = {c.table_qualified + "." + c.name for c in source.constraints if c.validated}
    result.not_validated = sorted(
        f"{c.table_qualified}.{c.name}"
        for c in restored.constraints
        if not c.validated and f"{c.table_qualified}.{c.name}" in validated
    )
    if admin is not None:
        _amcheck(result, admin, create=True)
    elif amcheck_if_present:
        _amcheck(result, conninfo, create=False)
    else:
        result.notes.append("amcheck not run: dbtruth does not administer the --to server")


def _amcheck(result: DrillResult, conninfo: str, *, create: bool) -> None:
    """bt_index_check of every btree index: the structure only (no index expression of the
    schema is evaluated, though dbtruth's administrator runs it). `create`: the extension may
    be created (a database dbtruth restored); else it is used only if it is there."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        try:
            if create:
                conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            elif not conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"
            ).fetchone():
                result.notes.append(
                    "amcheck not run: the extension is not in the restored database"
                )
                return
        except psycopg.Error as exc:
            result.notes.append(f"amcheck not available: {exc.diag.message_primary}")
            return
        indexes = conn.execute(
            "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE a.amname = 'btree' AND i.indisvalid"
            "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            "   AND n.nspname !~ '^pg_toast'"
        ).fetchall()
        for oid, name in indexes:
            try:
                conn.execute("SELECT bt_index_check(%s::oid::regclass)", (oid,))
                result.amchecked += 1
            except psycopg.errors.InsufficientPrivilege as exc:
                result.notes.append(f"amcheck not run: {exc.diag.message_primary}")
                return
            except psycopg.Error as exc:
                result.amcheck_failures.append(f"{name}: {exc.diag.message_primary}")
