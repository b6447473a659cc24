"""Live targets: sessions cannot write, checks write nothing, live statistics reach the rules,
and a snapshot of a live database checks exactly like the database."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dbtruth.errors import DbtruthError
from dbtruth.sources.conninfo import connect_live, describe, redact
from tests.conftest import Server
from tests.helpers import EXAMPLES, dbtruth, table_writes


@pytest.fixture
def legacy_db(database: tuple[Server, str]) -> tuple[Server, str]:
    server, name = database
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute((EXAMPLES / "legacy" / "schema.sql").read_text().encode())
    return server, name


def test_live_sessions_refuse_writes(legacy_db: tuple[Server, str]) -> None:
    server, name = legacy_db
    with connect_live(server.conninfo(name)) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('default_transaction_read_only', 'application_name', 'lock_timeout')").fetchall())
        assert settings == {"default_transaction_read_only": "on",
                            "application_name": "dbtruth", "lock_timeout": "1000"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE sneaky (id int)")


def test_a_live_check_writes_nothing(legacy_db: tuple[Server, str]) -> None:
    server, name = legacy_db
    before = table_writes(server.conninfo(name))
    outcome = dbtruth("check", server.conninfo(name), "--format", "json")
    assert outcome.code == 1, outcome.err
    after = table_writes(server.conninfo(name))
    assert before == after
    assert json.loads(outcome.out)["source"].startswith("live ")


def test_a_read_only_role_is_enough(legacy_db: tuple[Server, str]) -> None:
    server, name = legacy_db
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE ROLE monitor_only LOGIN IN ROLE pg_monitor")
    try:
        outcome = dbtruth("check", server.conninfo(name, user="monitor_only"), "--format",
                          "json")
        assert outcome.code == 1, outcome.err
        codes = {f["code"] for f in json.loads(outcome.out)["findings"]}
        assert {"I001", "S007", "H004"} <= codes
    finally:
        with psycopg.connect(server.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute("DROP ROLE monitor_only")


def test_pg_environment_is_a_target(legacy_db: tuple[Server, str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server, name = legacy_db
    params = psycopg.conninfo.conninfo_to_dict(server.conninfo(name))
    monkeypatch.setenv("PGHOST", str(params["host"]))
    monkeypatch.setenv("PGDATABASE", name)
    monkeypatch.setenv("PGUSER", str(params.get("user") or "postgres"))
    if params.get("port"):
        monkeypatch.setenv("PGPORT", str(params["port"]))
    outcome = dbtruth("check", "--select", "S007", "--format", "json")
    assert outcome.code == 1, outcome.err
    assert [f["code"] for f in json.loads(outcome.out)["findings"]] == ["S007"]


def test_live_statistics_reach_live_only_rules(legacy_db: tuple[Server, str],
                                               tmp_path: Path) -> None:
    server, name = legacy_db
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("SELECT setval('cases_id_seq', 2000000000)")
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text("rules:\n  settings:\n    unused_index_min_days: 0\n")
    live = dbtruth("check", server.conninfo(name), "--manifest", str(manifest), "--format",
                   "json")
    findings = json.loads(live.out)["findings"]
    hits = {(f["code"], f["object"]["path"]) for f in findings}
    assert ("O001", "public.cases_id_seq") in hits
    assert ("X004", "public.cases.cases_status_idx") in hits
    # The snapshot carries the statistics: offline, the same findings, fingerprints included.
    snap = tmp_path / "live.json"
    assert dbtruth("snapshot", server.conninfo(name), "-o", str(snap)).code == 0
    offline = dbtruth("check", str(snap), "--manifest", str(manifest), "--format", "json")
    assert [(f["code"], f["fingerprint"]) for f in json.loads(offline.out)["findings"]] == [
        (f["code"], f["fingerprint"]) for f in findings]


def test_redaction() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("host=h password='a b' user=u") == "host=h password=*** user=u"
    assert redact("postgresql://h/db?password=pw&sslmode=require") == (
        "postgresql://h/db?password=***&sslmode=require")
    assert describe("postgresql://u:pw@h:6432/db") == "u@h:6432/db"


def test_garbled_connection_string() -> None:
    with pytest.raises(DbtruthError, match="invalid connection string"):
        connect_live("host=h port='unterminated")
