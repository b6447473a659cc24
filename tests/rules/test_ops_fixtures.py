"""Every operations rule from its YAML fixture, against a real server put in the state the
rule is about (18 and the machine's 15).

A case's `setup` runs as the server's administrator in a fresh database; `sessions` are then
opened and held while dbtruth reads the server, each running its statements in one
transaction (`background: true` runs the last one in a thread, where it blocks); `sleep`
lets the states age. `server` starts a dedicated server with these settings (`settings`), initdb
arguments (`initdb`, with `no-checksums` meaning checksums off on every version), a streaming
standby of it read as a `--replica` (`standby: true`, or `paused` with its replay paused), and
statements run after it is up (`then`, e.g. forcing a WAL switch). dbtruth.yaml's thresholds
come from `manifest`; `precise` measures dead rows as `ops --precise` does. The rule must fire
on exactly the objects of `expect` (a session is written `session`, the database `database`, a
replica `replica`); with `apply_fix`, each fix's SQL is run as the administrator and the rule
must go quiet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pglast import parser as pg_parser

from dbtruth.engine import find_spec
from dbtruth.manifest import Manifest
from dbtruth.sources.conninfo import connect_live
from dbtruth.sources.ops import measure_bloat, read_ops, read_replicas
from dbtruth.sources.scratch import (
    binaries_major,
    embedded_bindir,
    open_scratch_from,
    open_standby,
    system_bindir,
)
from tests.rules.cases import fixture_cases


def _run(conninfo: str, text: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for piece in pg_parser.split(text, with_parser=False):
            conn.execute(piece)  # type: ignore[call-overload]


@contextlib.contextmanager
def _server_for(server: Any, case: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(the administrator's connection string to a fresh database, the server)."""
    wanted = case.get("server")
    if not wanted:
        name = server.create_database()
        try:
            yield server.conninfo(name), server
        finally:
            server.drop_database(name)
        return
    bindir = embedded_bindir() if server.version_num >= 180000 else system_bindir()
    assert bindir is not None
    initdb = list(wanted.get("initdb", []))
    if "no-checksums" in initdb:
        initdb.remove("no-checksums")
        if (binaries_major(bindir) or 0) >= 18:
            initdb.append("--no-data-checksums")  # off by default before 18
    with open_scratch_from(bindir, tuple(wanted.get("settings", [])), tuple(initdb)) as own:
        database = own.create_database()
        conninfo = psycopg.conninfo.make_conninfo(own.admin_conninfo, dbname=database.name)
        if not wanted.get("standby"):
            yield conninfo, own
            return
        with open_standby(own, bindir) as standby:
            if wanted["standby"] == "paused":
                _run(standby.admin_conninfo, "SELECT pg_wal_replay_pause()")
            yield conninfo, standby


def _sessions(conninfo: str, case: dict[str, Any], stack: contextlib.ExitStack) -> None:
    for session in case.get("sessions", []):
        statements = session if isinstance(session, list) else session["statements"]
        background = isinstance(session, dict) and session.get("background", False)
        conn = psycopg.connect(conninfo, autocommit=True)
        # Ended in this order (the stack runs backwards): the server ends the session, the
        # thread blocked in it returns, then the connection is closed — never while the thread
        # still uses it.
        stack.callback(_close, conn)
        thread: threading.Thread | None = None
        if background:
            thread = threading.Thread(target=_quietly, args=(conn, statements), daemon=True)
            stack.callback(thread.join, 10)
        stack.callback(_cancel, conninfo, conn.info.backend_pid)
        if thread is not None:
            thread.start()
            time.sleep(0.3)  # until it waits on its lock
        else:
            for statement in statements:
                conn.execute(statement)


def _quietly(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    with contextlib.suppress(psycopg.Error):
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def _close(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.close()


def _cancel(conninfo: str, pid: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _violations(
    spec: Any, conninfo: str, manifest: Manifest, replica: Any = None, precise: bool = False
) -> list[Any]:
    notes: list[str] = []
    with connect_live(conninfo) as conn:
        facts = read_ops(conn, notes)
        if precise:
            share = manifest.settings().ops.dead_row_share
            facts = measure_bloat(conn, facts, share, 10 << 30, notes)
    if replica is not None:
        replicas = read_replicas((replica.admin_conninfo,), facts, "10s", "1s")
        facts = dataclasses.replace(facts, replicas=replicas)
    return list(spec.check(facts, manifest.settings()))


def _objects(violations: list[Any]) -> list[str]:
    """Objects as the fixtures write them: a session or the database by their kind alone (the
    pid and the fixture database's name change every run)."""
    return sorted(
        v.object.kind if v.object.kind in ("session", "database", "replica") else v.object.path
        for v in violations
    )


@pytest.mark.parametrize(("code", "case"), fixture_cases("ops", "O*.yaml"))
def test_ops_fixture(server: Any, code: str, case: dict[str, Any]) -> None:
    spec = find_spec(code)
    assert spec is not None
    manifest = Manifest.model_validate(case.get("manifest") or {})
    with _server_for(server, case) as (conninfo, other), contextlib.ExitStack() as stack:
        replica = other if (case.get("server") or {}).get("standby") else None
        if case.get("setup"):
            _run(conninfo, case["setup"])
        for statement in (case.get("server") or {}).get("then", []):
            _run(conninfo, statement)
        _sessions(conninfo, case, stack)
        time.sleep(case.get("sleep", 0))
        precise = bool(case.get("precise"))
        violations = _violations(spec, conninfo, manifest, replica, precise)
        if case.get("poll") and _objects(violations) != sorted(case.get("expect") or []):
            deadline = time.monotonic() + case["poll"]  # a counter that moves on its own
            while time.monotonic() < deadline:
                time.sleep(0.5)
                violations = _violations(spec, conninfo, manifest, replica, precise)
                if _objects(violations) == sorted(case.get("expect") or []):
                    break
        assert _objects(violations) == sorted(case.get("expect") or []), [
            v.message for v in violations
        ]
        for word in case.get("message_contains", []):
            assert all(word in v.message for v in violations), (word, violations)
        if case.get("apply_fix"):
            fixes = [v.fix.sql for v in violations if v.fix and v.fix.sql]
            assert fixes, "apply_fix: the case has no fix to apply"
            for fix in dict.fromkeys(fixes):
                _run(conninfo, fix)
            time.sleep(case.get("sleep_after_fix", 0))
            after = _violations(spec, conninfo, manifest)
            assert after == [], [v.message for v in after]
