"""The backfill's state on the target, in the `dbtruth_backfill` schema: one row per backfill,
one per committed chunk, one per decision the runner made (a back-off, a retry, a pause).

A chunk's row and the backfill's new position are written in the chunk's own transaction, so
a chunk is either applied and recorded or neither: after a crash (kill -9, a lost connection)
the next run starts exactly after the last committed chunk, and no chunk is applied twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors, sql

from dbtruth.backfill.keys import Key, query
from dbtruth.errors import DbtruthError

SCHEMA = "dbtruth_backfill"
# Session advisory locks are keyed by two int4; the first one says "dbtruth backfill".
ADVISORY_CLASS = 0x64627466  # 'dbtf'


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    table: str
    key_columns: tuple[str, ...]
    digest: str
    statement: str | None
    status: str
    reason: str | None
    last_key: Key | None
    high_key: Key | None
    rows_estimate: float | None
    rows_visited: int
    rows_changed: int
    chunks: int
    chunk_rows: int
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str
    signal: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChunkTotals:
    chunks_waited_on: int  # chunks during which some session waited on the backfill
    sessions_waiting: int  # the most sessions waiting during one chunk
    longest_wait: float  # seconds
    wal_bytes: int
    seconds: float  # time spent in chunk statements


def digest(table: str, key: tuple[str, ...], statement: str) -> str:
    """What a resumed run must share with the run it resumes: the table, the key and the
    statement. Chunk size, rate and health limits may change between runs."""
    text = "\x00".join((table, ",".join(key), statement.strip()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.backfill",)).fetchone()
    return bool(row and row[0])


def create(conn: psycopg.Connection[Any]) -> bool:
    """Create the schema and its tables unless they exist; True when this call created them."""
    if exists(conn):
        return False
    try:
        with conn.transaction():
            conn.execute(query("checkpoint"))
    except errors.InsufficientPrivilege as exc:
        raise DbtruthError(
            f"cannot create schema {SCHEMA} for the backfill's checkpoints: "
            f"{exc.diag.message_primary}",
            hint=f"create it once as a role that may: CREATE SCHEMA {SCHEMA} AUTHORIZATION "
            "<the role dbtruth connects as>; dbtruth then creates its tables in it",
        ) from exc
    return True


_COLUMNS = (
    "name, table_name, key_columns, statement_digest, statement, status, reason, last_key, "
    "high_key, "
    "rows_estimate, rows_visited, rows_changed, chunks, chunk_rows, started_at, updated_at, "
    "finished_at"
)


_ACCESS = """
SELECT has_schema_privilege(%(schema)s, 'USAGE')
   AND bool_and(has_table_privilege(format('%%I.%%I', %(schema)s, t), %(privileges)s))
FROM unnest(ARRAY['backfill', 'chunk', 'event']) AS t
"""


def require_access(conn: psycopg.Connection[Any], write: bool) -> None:
    """The checkpoint tables readable (and writable, for the commands that write them) by this
    role; another role may have created them."""
    privileges = "SELECT, INSERT, UPDATE, DELETE" if write else "SELECT"
    row = conn.execute(_ACCESS, {"schema": SCHEMA, "privileges": privileges}).fetchone()
    if row and row[0]:
        return
    raise DbtruthError(
        f"this role may not {'write' if write else 'read'} the checkpoints in schema {SCHEMA} "
        "(another role created them)",
        hint=f"as their owner: GRANT USAGE ON SCHEMA {SCHEMA} TO <role>; GRANT {privileges} "
        f"ON ALL TABLES IN SCHEMA {SCHEMA} TO <role>",
    )


def read(conn: psycopg.Connection[Any], name: str, *, write: bool = False) -> Checkpoint | None:
    """The backfill's checkpoint, or None. `write`: the caller will write it, so this role
    must be allowed to."""
    if not exists(conn):
        return None
    require_access(conn, write)
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM {SCHEMA}.backfill WHERE name = %s", (name,)
    ).fetchone()
    if row is None:
        return None
    return Checkpoint(
        row[0], row[1], tuple(row[2]), row[3], row[4], row[5], row[6],
        tuple(row[7]) if row[7] is not None else None,
        tuple(row[8]) if row[8] is not None else None,
        row[9], int(row[10]), int(row[11]), int(row[12]), int(row[13]), row[14], row[15], row[16],
    )  # fmt: skip


def start(
    conn: psycopg.Connection[Any], name: str, table: str, key: tuple[str, ...], statement: str,
    high: Key | None, rows_estimate: float, chunk_rows: int,
) -> None:  # fmt: skip
    """A new backfill (or one started over): its key range is fixed here."""
    with conn.transaction():
        conn.execute(f"DELETE FROM {SCHEMA}.backfill WHERE name = %s", (name,))
        conn.execute(
            f"INSERT INTO {SCHEMA}.backfill (name, table_name, key_columns, statement_digest, "
            "statement, status, high_key, rows_estimate, chunk_rows) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (name, table, list(key), digest(table, key, statement), statement,
             "done" if high is None else "running",
             list(high) if high is not None else None, rows_estimate, chunk_rows),
        )  # fmt: skip
        if high is None:
            conn.execute(
                f"UPDATE {SCHEMA}.backfill SET finished_at = now() WHERE name = %s", (name,)
            )


def record_chunk(
    conn: psycopg.Connection[Any], name: str, number: int, low: Key | None, high: Key,
    visited: int, changed: int, seconds: float, wal: int | None, chunk_rows: int,
) -> str:  # fmt: skip
    """Inside the chunk's transaction: the chunk, and the backfill's new position. Returns
    the backfill's status as it stands (another session may have paused or aborted it)."""
    conn.execute(
        f"INSERT INTO {SCHEMA}.chunk (name, chunk, low_key, high_key, rows_visited, "
        "rows_changed, seconds, wal_bytes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (name, number, list(low) if low is not None else None, list(high), visited, changed,
         seconds, wal),
    )  # fmt: skip
    row = conn.execute(
        f"UPDATE {SCHEMA}.backfill SET last_key = %s, rows_visited = rows_visited + %s, "
        "rows_changed = rows_changed + %s, chunks = %s, chunk_rows = %s, updated_at = now() "
        "WHERE name = %s RETURNING status",
        (list(high), visited, changed, number, chunk_rows, name),
    ).fetchone()
    return str(row[0]) if row else "aborted"


def record_waits(
    conn: psycopg.Connection[Any], name: str, number: int, sessions: int, longest: float
) -> None:
    """The sessions that waited on a chunk, known only once it has committed."""
    if sessions:
        conn.execute(
            f"UPDATE {SCHEMA}.chunk SET sessions_waiting = %s, longest_wait = %s "
            "WHERE name = %s AND chunk = %s",
            (sessions, longest, name, number),
        )


def set_status(
    conn: psycopg.Connection[Any], name: str, status: str, reason: str | None = None,
    *, only_from: tuple[str, ...] | None = None,
) -> bool:  # fmt: skip
    """Change the status (from one of `only_from` when given); False when no row changed."""
    condition: sql.Composable = sql.SQL("")
    if only_from:
        condition = sql.SQL(" AND status = ANY({})").format(sql.Literal(list(only_from)))
    finished = sql.SQL(", finished_at = now()" if status == "done" else "")
    with conn.transaction():
        cursor = conn.execute(
            sql.SQL(
                "UPDATE {}.backfill SET status = {}, reason = {}, updated_at = now(){} "
                "WHERE name = {}{}"
            ).format(
                sql.Identifier(SCHEMA), sql.Literal(status), sql.Literal(reason), finished,
                sql.Literal(name), condition,
            )
        )  # fmt: skip
        return cursor.rowcount > 0


def log(
    conn: psycopg.Connection[Any], name: str, kind: str, detail: str, signal: str | None = None
) -> Event:
    with conn.transaction():
        row = conn.execute(
            f"INSERT INTO {SCHEMA}.event (name, kind, signal, detail) VALUES (%s, %s, %s, %s) "
            "RETURNING at",
            (name, kind, signal, detail),
        ).fetchone()
    assert row is not None
    return Event(row[0], kind, signal, detail)


def events(conn: psycopg.Connection[Any], name: str, limit: int = 20) -> list[Event]:
    rows = conn.execute(
        f"SELECT at, kind, signal, detail FROM (SELECT * FROM {SCHEMA}.event WHERE name = %s "
        "ORDER BY at DESC LIMIT %s) AS e ORDER BY at",
        (name, limit),
    ).fetchall()
    return [Event(*row) for row in rows]


def event_counts(conn: psycopg.Connection[Any], name: str) -> dict[str, int]:
    rows = conn.execute(
        f"SELECT coalesce(signal, kind), count(*) FROM {SCHEMA}.event WHERE name = %s "
        "AND kind IN ('back-off', 'retry', 'smaller') GROUP BY 1 ORDER BY 1",
        (name,),
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def totals(conn: psycopg.Connection[Any], name: str) -> ChunkTotals:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE sessions_waiting > 0), coalesce(max(sessions_waiting), 0),"
        " coalesce(max(longest_wait), 0), coalesce(sum(wal_bytes), 0), coalesce(sum(seconds), 0)"
        f" FROM {SCHEMA}.chunk WHERE name = %s",
        (name,),
    ).fetchone()
    assert row is not None
    return ChunkTotals(int(row[0]), int(row[1]), float(row[2]), int(row[3]), float(row[4]))


def holder(conn: psycopg.Connection[Any], name: str) -> int | None:
    """The pid of the session running this backfill now, if one is."""
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = %s::oid AND objid = %s::oid AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
        (ADVISORY_CLASS & 0xFFFFFFFF, advisory_key(name) & 0xFFFFFFFF),
    ).fetchone()
    return int(row[0]) if row else None
