"""Every finding on an object a SQL file created points at the statement that created it,
whatever the search_path the file set (PostgreSQL creates unqualified names in the first
existing schema of the path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import SCRATCH_KINDS, dbtruth

KINDS = SCRATCH_KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_unqualified_tables_under_a_search_path_have_file_and_line(
    kind: str, tmp_path: Path
) -> None:
    path = tmp_path / "schema.sql"
    path.write_text(
        "CREATE SCHEMA ledger;\n"
        "SET search_path = missing, ledger, public;\n"
        "CREATE TABLE accounts (id int PRIMARY KEY);\n"
        "CREATE TABLE entries (id int, account_id int REFERENCES accounts (id));\n"
        "SELECT pg_catalog.set_config('search_path', 'public', false);\n"
        "CREATE TABLE notes (body text);\n"
    )
    outcome = dbtruth("check", str(path), "--scratch", kind, "--format", "json",
                      "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    findings = json.loads(outcome.out)["findings"]
    where = {f["object"]["path"].split(".")[0] + "." + f["object"]["path"].split(".")[1]:
             (f["location"] or {}).get("line") for f in findings}  # fmt: skip
    assert where["ledger.entries"] == 4
    assert where["public.notes"] == 6
    assert all(f["location"] for f in findings), [f for f in findings if not f["location"]]
