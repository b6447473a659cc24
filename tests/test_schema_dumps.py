"""A schema dump among migrations is left out of the lint and the replay, with a note; a real
migration is never mistaken for one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dbtruth.sources.migrations import discover
from dbtruth.sources.schema_dump import dump_reason
from tests.helpers import dbtruth
from tests.helpers import write_files as _write

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from corpora import CORPORA

# pg_dump's output for the schema the two migrations below build; its index on orders, read
# as a migration after 001 created orders, is a blocking index build on an existing table.
_DUMP_BODY = """
CREATE TABLE public.orders (id bigint NOT NULL, note text);
ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
CREATE INDEX orders_note ON public.orders USING btree (note);
"""
_MIGRATIONS = {
    "001_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
    "002_note.sql": "ALTER TABLE orders ADD COLUMN note text;\n",
}


def _lint(folder: Path, *argv: str) -> tuple[int, dict[str, object]]:
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "json", *argv)
    assert outcome.code in (0, 1), outcome.err
    return outcome.code, json.loads(outcome.out)


def _files_with_findings(report: dict[str, object]) -> set[str]:
    return {Path(f["location"]["file"]).name for f in report["findings"]}  # type: ignore[attr-defined,index]


@pytest.mark.parametrize(
    "header",
    ["--\n-- PostgreSQL database dump\n--\n", "-- Dumped from database version 16.2\n", ""],
    ids=["pg_dump header", "version header", "pg_dump shape"],
)
def test_a_dump_in_the_folder_is_left_out_with_a_note(tmp_path: Path, header: str) -> None:
    folder = _write(tmp_path / "m", {**_MIGRATIONS, "schema.sql": header + _DUMP_BODY})
    _, report = _lint(folder)
    assert "schema.sql" not in _files_with_findings(report)
    notes = [n for n in report["notes"] if "schema.sql" in n]  # type: ignore[attr-defined]
    assert len(notes) == 1 and "a schema dump" in notes[0] and "--against" in notes[0]
    assert [Path(m["file"]).name for m in report["migrations"]] == [  # type: ignore[attr-defined,index]
        "001_orders.sql",
        "002_note.sql",
        "schema.sql",
    ]


def test_the_same_file_marked_as_a_migration_is_linted(tmp_path: Path) -> None:
    # a dump's index on a table an earlier migration created: as a migration, a blocking build
    dump = (
        "--\n-- PostgreSQL database dump\n--\nCREATE INDEX orders_note ON public.orders (note);\n"
    )
    for marker, expected in (("", 0), ("-- dbtruth: migration\n", 1)):
        folder = _write(tmp_path / str(expected), {**_MIGRATIONS, "schema.sql": marker + dump})
        _, report = _lint(folder)
        index_builds = [
            f for f in report["findings"]  # type: ignore[attr-defined]
            if f["code"] == "M001" and f["location"]["file"].endswith("schema.sql")
        ]  # fmt: skip
        assert len(index_builds) == expected


def test_the_dump_is_not_replayed(tmp_path: Path) -> None:
    # replayed after the migrations, the dump's CREATE TABLE would fail: orders exists
    folder = _write(
        tmp_path / "m",
        {**_MIGRATIONS, "schema.sql": "--\n-- PostgreSQL database dump\n" + _DUMP_BODY},
    )
    _, report = _lint(folder, "--replay")
    replay = report["replay"]  # type: ignore[index]
    assert replay["failure"] is None  # type: ignore[index]
    ran = [Path(s["file"]).name for s in replay["statements"]]  # type: ignore[index]
    assert ran == ["001_orders.sql", "002_note.sql"]


def test_migrations_that_change_things_are_never_dumps() -> None:
    # created tables and ALTER TABLE ONLY, but also a change to what exists: a migration
    text = _DUMP_BODY + "ALTER TABLE ONLY public.orders DROP COLUMN note;\n"
    assert dump_reason(text) is None
    assert dump_reason(_DUMP_BODY.replace("ONLY ", "")) is None  # no pg_dump form at all


_SETS = {
    "synapse/synapse/storage/schema": 3,  # full_schemas/72/full.sql.postgres of common/main/state
    "supabase-auth/migrations": 0,
    "supabase-storage/migrations": 0,
    "ory-kratos/persistence/sql/migrations/sql": 0,
    "langfuse/packages/shared/prisma/migrations": 0,
    "temporal/schema": 0,
}


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA}")
@pytest.mark.parametrize("root", list(_SETS))
def test_dumps_in_the_public_migration_sets(root: str) -> None:
    files = discover([CORPORA / root])
    dumps = [f for f in files if dump_reason(f.read_text(encoding="utf-8", errors="replace"))]
    assert len(dumps) == _SETS[root]
    assert all(f.parent.parent.name == "full_schemas" for f in dumps)
