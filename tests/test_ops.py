"""`dbtruth ops`: a live server's readiness and health, read in dbtruth's read-only session,
with the catalog rules that need live numbers beside the operations rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from tests.helpers import EXAMPLES, dbtruth, write_files


def test_ops_reads_a_live_server_and_names_where_each_setting_comes_from(
    server: Any, tmp_path: Path
) -> None:
    name = server.create_database()
    try:
        conninfo = server.conninfo(name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS app_ops; CREATE ROLE app_ops LOGIN")
            conn.execute("CREATE SEQUENCE ticket_seq AS integer")
            conn.execute("SELECT setval('ticket_seq', 2000000000)")  # near its end
        manifest = write_files(tmp_path, {"dbtruth.yaml": "tenancy:\n  role: app_ops\n"})
        outcome = dbtruth("ops", conninfo, "--manifest", str(manifest / "dbtruth.yaml"),
                          "--format", "json")  # fmt: skip
        assert outcome.code == 1, outcome.err
        document = json.loads(outcome.out)
        codes = {f["code"] for f in document["findings"]}
        # archiving off, no statement statistics, the role unbounded, the sequence near its end
        assert {"O007", "O010", "O013", "O001"} <= codes, codes
        settings = document["server"]["settings"]
        assert settings["archive_mode"] == {"value": "off", "source": "default"}
        assert document["server"]["database"] == name
        terminal = dbtruth("ops", conninfo, "--manifest", str(manifest / "dbtruth.yaml"))
        assert "archive_mode = off  (PostgreSQL's default)" in terminal.out
    finally:
        server.drop_database(name)


def test_ops_needs_a_live_server() -> None:
    outcome = dbtruth("ops", str(EXAMPLES / "casefile"))
    assert outcome.code == 2 and "ops reads a live server" in outcome.err
    assert "\n" not in outcome.err.strip().split("\n  hint")[0]
