"""`dbtruth incident`: the evidence of a running incident captured read-only into a folder,
with the head of a blocking chain named and the command to end it written, not run."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.helpers import dbtruth


def test_incident_preserves_a_lock_storm_and_hides_passwords(server: Any, tmp_path: Path) -> None:
    name = server.create_database()
    conninfo = server.conninfo(name)
    holder = psycopg.connect(conninfo, autocommit=True)
    waiter = psycopg.connect(conninfo, autocommit=True)
    talker = psycopg.connect(conninfo, autocommit=True)  # idle; its last statement has a secret
    thread = threading.Thread(target=_wait, args=(waiter,), daemon=True)
    try:
        holder.execute("CREATE TABLE account (id int PRIMARY KEY, balance int)")
        holder.execute("INSERT INTO account VALUES (1, 0)")
        talker.execute("DROP ROLE IF EXISTS incident_app")
        talker.execute("CREATE ROLE incident_app PASSWORD 'hunter2secret'")
        holder.execute("BEGIN")
        holder.execute("UPDATE account SET balance = 1 WHERE id = 1")
        thread.start()
        _until_blocked(conninfo, waiter.info.backend_pid)
        outcome = dbtruth("incident", conninfo, "-o", str(tmp_path), "--sample-seconds", "0.5")
        assert outcome.code == 0, outcome.err
        (folder,) = tmp_path.iterdir()
        files = {p.name for p in folder.iterdir()}
        assert {"activity.json", "locks.json", "waits.json", "summary.md"} <= files
        activity = json.loads((folder / "activity.json").read_text())["rows"]
        pids = {row["pid"] for row in activity}
        assert holder.info.backend_pid in pids and waiter.info.backend_pid in pids
        summary = (folder / "summary.md").read_text()
        assert f"Head of a blocking chain: session {holder.info.backend_pid}" in summary
        assert f"pg_terminate_backend({holder.info.backend_pid})" in summary
        assert summary.index("## 1. Protect data") < summary.index("## 2. Stop the blast")
        locks = json.loads((folder / "locks.json").read_text())["rows"]
        assert any(not lock["granted"] for lock in locks)
        # The idle session's last statement carried a password: shown, with it hidden.
        talked = next(r for r in activity if r["pid"] == talker.info.backend_pid)
        assert talked["query"] == "CREATE ROLE incident_app PASSWORD '***'"
        for path in folder.iterdir():
            assert "hunter2secret" not in path.read_text(), path.name
        # Nothing was ended: the holder still holds its lock.
        assert holder.execute("SELECT 1").fetchone() == (1,)
    finally:
        with contextlib.suppress(psycopg.Error):
            holder.execute("ROLLBACK")
        thread.join(10)
        for conn in (holder, waiter, talker):
            conn.close()
        server.drop_database(name)


def _wait(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.execute("UPDATE account SET balance = 2 WHERE id = 1")


def _until_blocked(conninfo: str, pid: int) -> None:
    """Until the session `pid` waits on a lock (a loaded machine starts the thread late)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not conn.execute(
            "SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the waiter never blocked"
            time.sleep(0.05)
