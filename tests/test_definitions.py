"""The index and key definitions dbtruth composes from catalog facts (to avoid deparsing
thousands of objects) must read exactly as PostgreSQL's own pg_get_indexdef() and
pg_get_constraintdef() print them — except that foreign key targets are always
schema-qualified, so the text does not depend on the reader's search_path. Column defaults,
deparsed without their table, must read as pg_get_expr() prints them with it."""

from __future__ import annotations

from pathlib import Path

import psycopg

from dbtruth.sources import sqlfiles
from dbtruth.sources.introspect import read_catalog
from tests.conftest import Server

SCHEMA = Path(__file__).parent / "data" / "definitions.sql"


def _compare(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog = read_catalog(conn, "test", live=False)
        indexdefs = dict(
            conn.execute(
                "SELECT n.nspname || '.' || c.relname, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace"
            ).fetchall()
        )
        constraintdefs = dict(
            conn.execute(
                "SELECT n.nspname || '.' || t.relname || '.' || con.conname, "
                "       pg_get_constraintdef(con.oid) "
                "FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace"
            ).fetchall()
        )
        defaults = dict(
            conn.execute(
                "SELECT n.nspname || '.' || c.relname || '.' || a.attname, "
                "       pg_get_expr(d.adbin, d.adrelid) "
                "FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            ).fetchall()
        )
    for index in catalog.indexes:
        assert index.definition == indexdefs[index.qualified]
    for constraint in catalog.constraints:
        expected = constraintdefs[f"{constraint.schema}.{constraint.table}.{constraint.name}"]
        if constraint.ref_table:
            expected = expected.replace(
                f"REFERENCES {constraint.ref_table}(",
                f"REFERENCES {constraint.ref_schema}.{constraint.ref_table}(",
            )
        assert constraint.definition == expected
    for table in catalog.tables:
        for column in table.columns:
            assert column.default == defaults.get(f"{table.qualified}.{column.name}")
    return len(catalog.indexes) + len(catalog.constraints)


def test_composed_definitions_match_postgresql(server: Server) -> None:
    name = server.create_database()
    try:
        conninfo = server.conninfo(name)
        sqlfiles.load(conninfo, [SCHEMA], scratch_label="test")
        if server.version_num >= 150000:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("CREATE TABLE nnd (a int, b int, UNIQUE NULLS NOT DISTINCT (a, b))")
        assert _compare(conninfo) >= 20
    finally:
        server.drop_database(name)
