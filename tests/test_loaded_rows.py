"""Rows a SQL-file target's own data leaves in the scratch database: counted there, kept apart
from live statistics, and carried through snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from dbtruth.model import LoadedRows
from dbtruth.sources import snapshot
from dbtruth.sources.introspect import read_catalog

SCHEMA = """
CREATE TABLE store (id int PRIMARY KEY);
CREATE TABLE staff (id int PRIMARY KEY);
CREATE TABLE empty (id int PRIMARY KEY);
CREATE TABLE emptied (id int PRIMARY KEY);
CREATE TABLE guarded (id int PRIMARY KEY);
INSERT INTO store VALUES (1), (2);
INSERT INTO staff SELECT generate_series(1, 1500);
INSERT INTO emptied VALUES (1);
DELETE FROM emptied;
INSERT INTO guarded VALUES (1);
ALTER TABLE guarded ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
"""


def test_loaded_rows_are_counted_apart_from_stats_and_round_trip(
    server: Any, tmp_path: Path
) -> None:
    name = server.create_database()
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute(SCHEMA)
            catalog = read_catalog(conn, "test", live=False)
            live = read_catalog(conn, "test", live=True)
    finally:
        server.drop_database(name)
    # Empty tables (never filled, or emptied) are absent; a table whose owner obeys row-level
    # security is not read at all (its policies are the input's code).
    assert catalog.loaded_rows == (
        LoadedRows("public", "staff", 1500),
        LoadedRows("public", "store", 2),
    )
    assert catalog.stats is None and not catalog.is_live
    assert live.loaded_rows == ()  # a live server's sizes are its statistics
    store = catalog.table("public.store")
    assert store is not None and catalog.rows_loaded(store) == LoadedRows("public", "store", 2)
    path = tmp_path / "snapshot.json"
    path.write_text(snapshot.dumps(catalog))
    again = snapshot.load(path)
    assert again.loaded_rows == catalog.loaded_rows and not again.is_live
