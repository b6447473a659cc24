"""`check` and `review` of a folder that holds a migration set read it as its runner applies
it: the up files only (a down file run in between undoes what the up file made), PostgreSQL's
file where popx keeps one per database, and Prisma's plain string order. Each case loads the
folder into a real scratch server; the schema that comes out is the one the runner builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import SCRATCH_KINDS, dbtruth, write_files


def _tables(folder: Path, scratch: str) -> dict[str, list[str]]:
    """The tables `check` loaded, with their columns: every table here is made without a
    primary key, so I001 reports each one, with its columns as evidence."""
    outcome = dbtruth("check", str(folder), "--scratch", scratch, "--select", "I001",
                      "--format", "json", "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    report = json.loads(outcome.out)
    tables: dict[str, list[str]] = {}
    for finding in report["findings"]:
        columns = finding["evidence"]["columns"].split(", ")
        tables[finding["object"]["path"]] = columns
    return tables


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_up_and_down_files_load_the_up_files_only(tmp_path: Path, scratch: str) -> None:
    folder = write_files(tmp_path / "migrations", {
        "0001_notes.up.sql": "CREATE TABLE notes (body text);",
        "0001_notes.down.sql": "DROP TABLE notes;",
        "0002_label.up.sql": "ALTER TABLE notes ADD COLUMN label text;",
        "0002_label.down.sql": "ALTER TABLE notes DROP COLUMN label;",
        # popx: the PostgreSQL file replaces its dialect-neutral twin; MySQL's is not run
        "0003_flag.up.sql": "ALTER TABLE notes ADD COLUMN flag int;",
        "0003_flag.postgres.up.sql": "ALTER TABLE notes ADD COLUMN flag boolean;",
        "0003_flag.mysql.up.sql": "ALTER TABLE notes ADD COLUMN flag TINYINT(1);",
    })  # fmt: skip
    assert _tables(folder, scratch) == {"public.notes": ["body", "label", "flag"]}


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_a_prisma_folder_is_read_in_prisma_order(tmp_path: Path, scratch: str) -> None:
    # Langfuse's 20250625_add_pivot_table_charttype uses a type 20250409154352_... creates:
    # by number 20250625 < 20250409154352 and the load failed; Prisma compares strings.
    folder = write_files(tmp_path / "migrations", {
        "migration_lock.toml": 'provider = "postgresql"\n',
        "20250409154352_add_dashboard/migration.sql":
            "CREATE TYPE chart AS ENUM ('LINE');\nCREATE TABLE widget (kind chart);",
        "20250625_add_pivot/migration.sql": "ALTER TYPE chart ADD VALUE 'PIVOT';",
    })  # fmt: skip
    assert _tables(folder, scratch) == {"public.widget": ["kind"]}


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_lock_table_outside_a_transaction_is_skipped_with_a_note(
    tmp_path: Path, scratch: str
) -> None:
    # graphile-worker's 000011.sql locks its tables before altering them: its migrator runs the
    # file in a transaction, and PostgreSQL refuses LOCK TABLE outside one.
    folder = write_files(tmp_path / "sql", {
        "000001.sql": "CREATE TABLE jobs (task text);",
        "000002.sql": "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE;\n"
                      "ALTER TABLE jobs ADD COLUMN queue text;",
    })  # fmt: skip
    assert _tables(folder, scratch) == {"public.jobs": ["task", "queue"]}
    outcome = dbtruth("check", str(folder), "--scratch", scratch, "--fail-on", "never")
    assert "000002.sql:1: LOCK TABLE outside a transaction skipped" in outcome.out + outcome.err


def test_a_prisma_set_warns_that_sql_fixes_are_drift(tmp_path: Path) -> None:
    # Prisma compares the database with schema.prisma: an index applied as SQL alone is drift,
    # and the next generated migration drops it. Every fix check prints is SQL.
    folder = write_files(tmp_path / "migrations", {
        "migration_lock.toml": 'provider = "postgresql"\n',
        "20240101000000_init/migration.sql":
            "CREATE TABLE project (id text PRIMARY KEY);\n"
            "CREATE TABLE trace (id text PRIMARY KEY,\n"
            "    project_id text NOT NULL REFERENCES project ON DELETE CASCADE);",
    })  # fmt: skip
    outcome = dbtruth("check", str(folder), "--scratch", "embedded", "--fail-on", "never",
                      "--no-color")  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert f"note: {folder} is a Prisma migration set" in outcome.out
    assert "declared in schema.prisma" in outcome.out
    plain = write_files(tmp_path / "plain", {
        "0001_init.sql": "CREATE TABLE project (id text PRIMARY KEY);",
    })  # fmt: skip
    outcome = dbtruth("check", str(plain), "--scratch", "embedded", "--fail-on", "never")
    assert "Prisma" not in outcome.out
