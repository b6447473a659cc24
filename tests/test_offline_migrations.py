"""Migrations that run with nothing else on the database (Synapse's start-up deltas, or a
dbtruth.yaml that says so) block nobody: their lock findings are info and say why; findings
that are not about locks (a dropped column) keep their grade."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import dbtruth
from tests.helpers import write_files as _write

_CHANGE = "CREATE INDEX users_name ON users (name);\nALTER TABLE users DROP COLUMN nickname;\n"


def _grades(folder: Path, *argv: str) -> dict[str, tuple[str, str]]:
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "json", *argv)
    assert outcome.code in (0, 1), outcome.err
    return {f["code"]: (f["severity"], f["message"]) for f in json.loads(outcome.out)["findings"]}


def test_synapse_deltas_run_at_start_up(tmp_path: Path) -> None:
    schema = tmp_path / "synapse/storage/schema/main/delta"
    _write(schema, {"80/01_users.sql": "CREATE TABLE users (id text, name text, nickname text);\n",
                    "81/01_change.sql": _CHANGE})  # fmt: skip
    grades = _grades(schema)
    assert grades["M001"][0] == "info" and "Synapse applies schema deltas" in grades["M001"][1]
    assert grades["M008"][0] == "warning"  # a drop still loses data, lock or not


def test_dbtruth_yaml_says_migrations_run_offline(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001_users.sql": "CREATE TABLE users (id text, name text, "
                                                      "nickname text);\n",
                                     "002_change.sql": _CHANGE})  # fmt: skip
    assert _grades(folder)["M001"][0] == "warning"
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text("rules:\n  settings:\n    migrations_offline: true\n")
    grades = _grades(folder, "--manifest", str(manifest))
    assert grades["M001"][0] == "info" and "migrations_offline" in grades["M001"][1]
    assert grades["M008"][0] == "warning"
