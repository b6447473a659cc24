"""Read a live server's operational facts (model.ops) in dbtruth's read-only session: plain
SELECTs of the statistics views and catalogs (sql/ops_*.sql), nothing that takes a lock
beyond what reading them takes. What a role may not read is left out and said so."""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dbtruth.errors import DbtruthError
from dbtruth.model.ops import (
    Archiver,
    IndexHealth,
    OpsFacts,
    Replica,
    Role,
    Session,
    Setting,
    Slot,
    Standby,
    TableHealth,
)
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.sources.introspect import catalog_query
from dbtruth.sources.sessions import extension_schema


def read_ops(conn: psycopg.Connection[Any], notes: list[str]) -> OpsFacts:
    database = _rows(conn, "ops_database", notes)[0]
    settings = {
        r["name"]: Setting(r["name"], str(r["setting"]), str(r["source"]), r["unit"])
        for r in _rows(conn, "ops_settings", notes)
    }
    # ALTER DATABASE … SET: every role here starts from these, over the server's own values.
    for item in database["database_settings"] or ():
        name, _, value = str(item).partition("=")
        settings[name] = Setting(name, value, "ALTER DATABASE … SET")
    roles = tuple(
        Role(
            r["name"],
            r["login"],
            r["superuser"],
            r["bypassrls"],
            r["replication"],
            tuple(_pair(item) for item in r["settings"] or ()),
        )
        for r in _rows(conn, "ops_roles", notes)
    )
    archived = _rows(conn, "ops_archiver", notes)
    return OpsFacts(
        server_version_num=database["server_version_num"],
        database=database["database"],
        collected_at=database["collected_at"],
        settings=settings,
        roles=roles,
        extensions=tuple(database["extensions"] or ()),
        archiver=Archiver(**archived[0]) if archived else None,
        slots=tuple(Slot(**r) for r in _rows(conn, "ops_slots", notes)),
        sessions=tuple(
            Session(**{**r, "blocked_by": tuple(r["blocked_by"] or ())})
            for r in _rows(conn, "ops_sessions", notes)
        ),
        tables=tuple(TableHealth(**r) for r in _rows(conn, "ops_tables", notes)),
        database_xid_age=database["xid_age"],
        database_mxid_age=database["mxid_age"],
        connections=database["connections"],
        in_recovery=database["in_recovery"],
        current_lsn=database["current_lsn"],
        standbys=tuple(Standby(**r) for r in _rows(conn, "ops_standbys", notes)),
    )


def read_replicas(
    urls: tuple[str, ...], facts: OpsFacts, statement_timeout: str, lock_timeout: str
) -> tuple[Replica, ...]:
    """Each replica as it shows itself, with how far its replay trails the primary's WAL
    position as the primary's facts recorded it (read just before)."""
    replicas = []
    for url in urls:
        conninfo = normalize(url)
        label = describe(conninfo)
        try:
            with (
                connect_live(
                    conninfo, statement_timeout=statement_timeout, lock_timeout=lock_timeout
                ) as conn,
                conn.cursor(row_factory=dict_row) as cur,
            ):
                cur.execute(catalog_query("ops_replica").encode())
                row = cur.fetchone()
        except DbtruthError as exc:
            replicas.append(Replica(label, False, None, False, None, str(exc)))
            continue
        assert row is not None
        behind = None
        if facts.current_lsn and row["replay_lsn"]:
            behind = max(0, lsn_bytes(facts.current_lsn) - lsn_bytes(row["replay_lsn"]))
        replicas.append(
            Replica(
                label, row["in_recovery"], behind, row["replay_paused"], row["replay_age_seconds"]
            )
        )
    return tuple(replicas)


def lsn_bytes(lsn: str) -> int:
    """A WAL position ('16/B374D848') as a byte count."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _pair(item: str) -> tuple[str, str]:
    name, _, value = str(item).partition("=")
    return name, value


def _rows(conn: psycopg.Connection[Any], name: str, notes: list[str]) -> list[dict[str, Any]]:
    """The rows of one query; a view the role may not read is an empty answer and a note."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_query(name).encode())
            return cur.fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        notes.append(f"{name.removeprefix('ops_')}: not readable by this role "
                     f"({exc.diag.message_primary}); grant pg_monitor to read it")  # fmt: skip
        return []


def measure_bloat(
    conn: psycopg.Connection[Any],
    facts: OpsFacts,
    dead_share: float,
    max_bytes: int,
    notes: list[str],
) -> OpsFacts:
    """The tables whose estimated dead share reaches half of `dead_share`, measured with
    pgstattuple_approx where the extension exists in the database (dbtruth creates nothing):
    it reads the pages the visibility map does not mark all-visible, so tables over
    `max_bytes` are left to the estimate."""
    schema = extension_schema(conn, "pgstattuple")
    if schema is None:
        notes.append("--precise: pgstattuple is not installed here, so dead rows stay estimated")
        return facts
    function = sql.SQL("{}.pgstattuple_approx").format(sql.Identifier(schema))
    measured = []
    for table in facts.tables:
        rows = table.live_rows + table.dead_rows
        estimate = table.dead_rows / rows if rows else 0.0
        if estimate < dead_share / 2 or table.total_bytes > max_bytes:
            measured.append(table)
            continue
        try:
            with conn.transaction():
                found = conn.execute(
                    sql.SQL(
                        "SELECT dead_tuple_percent, approx_free_percent FROM {}({}::regclass)"
                    ).format(function, sql.Literal(f'"{table.schema}"."{table.name}"'))
                ).fetchone()
        except psycopg.Error as exc:
            notes.append(f"--precise: {table.schema}.{table.name} not measured "
                         f"({exc.diag.message_primary})")  # fmt: skip
            measured.append(table)
            continue
        assert found is not None
        measured.append(dataclasses.replace(
            table, measured_dead_share=float(found[0]) / 100,
            measured_free_share=float(found[1]) / 100,
        ))  # fmt: skip
    return dataclasses.replace(
        facts, tables=tuple(measured), indexes=_indexes(conn, schema,
                                                        max_bytes, notes)
    )  # fmt: skip


def _indexes(
    conn: psycopg.Connection[Any], schema: str, max_bytes: int, notes: list[str]
) -> tuple[IndexHealth, ...]:
    """Every btree index of at least a megabyte and at most `max_bytes`, measured with
    pgstatindex (it reads the whole index)."""
    rows = conn.execute(
        "SELECT n.nspname, t.relname, c.relname, pg_relation_size(c.oid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam"
        " WHERE a.amname = 'btree' AND i.indisvalid"
        "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        "   AND n.nspname !~ '^pg_toast'"
        "   AND pg_relation_size(c.oid) BETWEEN 1048576 AND %s",
        (max_bytes,),
    ).fetchall()
    function = sql.SQL("{}.pgstatindex").format(sql.Identifier(schema))
    measured = []
    for index_schema, table, name, size in rows:
        try:
            with conn.transaction():
                found = conn.execute(
                    sql.SQL("SELECT avg_leaf_density FROM {}({}::regclass)").format(
                        function, sql.Literal(f'"{index_schema}"."{name}"')
                    )
                ).fetchone()
        except psycopg.Error as exc:
            notes.append(f"--precise: index {index_schema}.{name} not measured "
                         f"({exc.diag.message_primary})")  # fmt: skip
            continue
        if found is not None and found[0] is not None:
            measured.append(IndexHealth(index_schema, table, name, int(size), float(found[0])))
    return tuple(measured)
