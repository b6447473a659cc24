"""The statistics twin of a live target: a database in a server dbtruth starts, holding the
target's schema *and* its planner statistics, so that EXPLAIN there gives the plans the target
gives — and index ideas can be tried there without touching the target.

How: pg_dump --schema-only, then PostgreSQL 18's pg_dump --statistics-only (relation sizes and
pg_stats, restored with pg_restore_relation_stats and pg_restore_attribute_stats, after the DDL
since an index build resets them), both read from the target like any client and loaded in the
sandbox as untrusted SQL. Then each relation's file is made as long as its statistics say, as
sparse empty pages: the planner takes a relation's size from its file, and an empty twin would
otherwise be planned as empty.

The twin runs PostgreSQL 18, the version that can restore statistics, whatever the target's;
autovacuum is off there so that nothing shortens the files or replaces the statistics. What it
cannot carry is said in its notes: extended statistics (CREATE STATISTICS) are copied as
definitions without their data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbtruth.errors import DbtruthError
from dbtruth.sources import sqlfiles
from dbtruth.sources.conninfo import describe
from dbtruth.sources.dump import schema_dump, statistics_dump
from dbtruth.sources.scratch import embedded_bindir, open_scratch_from
from dbtruth.words import counted

# Nothing on the twin may vacuum or analyse: either would replace the statistics copied from
# the target with those of empty tables.
_TWIN_SETTINGS = ("autovacuum=off",)


@dataclass
class Twin:
    conninfo: str  # the twin, as its unprivileged owner
    description: str
    server_version_num: int
    # Sets one relation's file length (its pg_relation_filepath, pages): what-if indexes are
    # built over an emptied table and then given their size.
    set_length: Callable[[str, int], None]
    notes: list[str] = field(default_factory=list)


@contextmanager
def statistics_twin(conninfo: str, lock_timeout: str, source_version_num: int) -> Iterator[Twin]:
    """The twin of the live target at `conninfo`, for as long as the block runs."""
    if source_version_num < 140000:
        raise DbtruthError(
            f"a statistics twin needs a target on PostgreSQL 14 or later (pg_dump exports "
            f"planner statistics from those), and {describe(conninfo)} runs "
            f"{source_version_num // 10000}"
        )
    with open_scratch_from(embedded_bindir(), _TWIN_SETTINGS) as server:
        database = server.create_database()
        with schema_dump(conninfo, lock_timeout) as schema:
            _, notes = sqlfiles.load(
                database.conninfo, [schema], scratch_label=server.label, sandbox=database.sandbox
            )
        with statistics_dump(conninfo, lock_timeout) as stats:
            _, more = sqlfiles.load(
                database.conninfo, [stats], scratch_label=server.label, sandbox=database.sandbox
            )
        relations, pages = server.extend_relations(database.name)
        notes = [n for n in [*notes, *more] if "setting unknown" not in n]
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            notes += _extended_statistics(conn)
        notes.append(
            f"statistics twin: {counted(relations, 'relation')} of {describe(conninfo)} sized to "
            f"{pages:,} pages ({_size(pages)} as sparse files, no disk used) with its planner "
            f"statistics, on {server.label}"
            + (
                ""
                if source_version_num // 10000 == server.version_num // 10000
                else f" (the target runs PostgreSQL {source_version_num // 10000}: where the "
                "planners of the two versions differ, so may the plans)"
            )
        )
        yield Twin(
            database.conninfo,
            f"statistics twin of {describe(conninfo)} on {server.label}",
            server.version_num,
            server.set_length,
            notes,
        )


def _extended_statistics(conn: psycopg.Connection[Any]) -> list[str]:
    row = conn.execute(
        "SELECT count(*), string_agg(stxnamespace::regnamespace || '.' || stxname, ', ')"
        " FROM pg_statistic_ext"
    ).fetchone()
    if not row or not row[0]:
        return []
    return [
        f"{row[0]} extended statistics object(s) ({row[1]}) are copied without their data "
        "(pg_dump exports none, and ANALYZE on the twin would read empty tables): plans that "
        "use them on the target may differ on the twin"
    ]


def _size(pages: int) -> str:
    size = float(pages * 8192)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"
