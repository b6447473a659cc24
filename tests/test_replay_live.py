"""Replaying migrations against a live target: the dump is made within dbtruth's limits, leaves
nothing behind, keeps the password off pg_dump's command line, explains a missing privilege, and
the replay runs on a scratch server of the target's major version."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtruth.errors import DbtruthError
from dbtruth.sources.dump import dump_command, schema_dump
from tests.helpers import dbtruth


def _migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    return folder


@pytest.fixture
def live(server: Any) -> Iterator[tuple[Any, str]]:
    """A live database with one table, on each server version this machine has."""
    name = server.create_database()
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, qty int)")
    yield server, name
    server.drop_database(name)


@pytest.fixture
def own_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of this test's own for what dbtruth writes there: another dbtruth
    running on the machine (a second test run) makes and removes its own under /tmp. Short,
    since the scratch server's socket lives below it too."""
    folder = Path(tempfile.mkdtemp(prefix="dt"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("dbtruth-replay-*")}


def test_replay_runs_on_the_targets_major_version_and_leaves_nothing(
    live: tuple[Any, str], tmp_path: Path, own_tmp: Path
) -> None:
    server, name = live
    before = _leftovers()
    outcome = dbtruth("migrate", "lint", str(_migrations(tmp_path)), "--against",
                      server.conninfo(name), "--replay", "--format", "json",
                      "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    replay = json.loads(outcome.out)["replay"]
    major = server.version_num // 10000
    assert f"PostgreSQL {major}." in replay["server"]
    assert replay["failure"] is None
    assert [s["locks"] for s in replay["statements"]] == [{"public.orders": "ACCESS EXCLUSIVE"}]
    assert _leftovers() == before


def test_pg_dump_waits_no_longer_than_the_lock_timeout(
    live: tuple[Any, str], own_tmp: Path
) -> None:
    server, name = live
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with psycopg.connect(server.conninfo(name)) as conn:
            conn.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    before = _leftovers()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(DbtruthError) as caught, schema_dump(server.conninfo(name), "300ms"):
            pass
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    message = str(caught.value)
    assert "orders" in message and "--lock-timeout" in message and "300ms" in message, message
    assert waited < 30  # bounded by the lock timeout, not by the other session
    assert _leftovers() == before


def test_a_monitoring_role_is_told_which_privilege_is_missing(
    live: tuple[Any, str], tmp_path: Path
) -> None:
    server, name = live
    role = f"monitor_{name}"
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE pg_monitor")
    try:
        outcome = dbtruth("migrate", "lint", str(_migrations(tmp_path)), "--against",
                          server.conninfo(name, user=role), "--replay")  # fmt: skip
    finally:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    assert outcome.code == 2, outcome.out + outcome.err
    line = outcome.err.strip()
    assert "cannot read table public.orders" in line or "cannot read table orders" in line, line
    assert "SELECT" in line and "\n" not in line


def test_the_password_never_reaches_pg_dumps_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    secret = "S3cr3t:with\\odd@chars"
    params = {"host": "db.example", "user": "reader", "password": secret, "dbname": "app"}
    args, env = dump_command(Path("/bin/pg_dump"), params, tmp_path, tmp_path / "out.sql", "2s")
    assert not any("S3cr3t" in a for a in args)
    assert "--lock-wait-timeout=2s" in args
    passfile = Path(env["PGPASSFILE"])
    assert passfile.stat().st_mode & 0o777 == 0o600
    # libpq's .pgpass format: fields separated by ':', with ':' and '\' escaped.
    assert passfile.read_text() == "*:*:*:*:S3cr3t\\:with\\\\odd@chars\n"
    assert "PGPASSWORD" not in env  # the target's own password wins
    # Without a password in the target, the caller's PGPASSWORD still reaches pg_dump.
    other = tmp_path / "other"
    other.mkdir()
    _, env = dump_command(Path("/bin/pg_dump"), {"host": "h"}, other, other / "o", "1s")
    assert env["PGPASSWORD"] == "from-the-environment"
    assert not (other / "pgpass").exists()
