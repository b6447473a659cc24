"""Read a live server's operational facts (model.ops) in dbtruth's read-only session: plain
SELECTs of the statistics views and catalogs (sql/ops_*.sql), nothing that takes a lock
beyond what reading them takes. What a role may not read is left out and said so."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from dbtruth.model.ops import Archiver, OpsFacts, Role, Session, Setting, Slot, TableHealth
from dbtruth.sources.introspect import catalog_query


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
    )


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
