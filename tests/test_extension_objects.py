"""Objects an extension's script created (pg_depend deptype 'e') are the extension's: the
catalog lists them under their extension and nowhere else, a snapshot keeps that, and the
engine reports none of them whichever rule names one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from dbtruth import engine
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog, Extension, ExtensionMember, Grant, Table
from dbtruth.sources import snapshot
from dbtruth.sources.introspect import read_catalog

SCHEMA = """
CREATE EXTENSION pg_stat_statements;
CREATE TABLE counter (id int PRIMARY KEY, note text);
CREATE INDEX counter_note ON counter (note);
GRANT SELECT ON counter TO PUBLIC;
ALTER EXTENSION pg_stat_statements ADD TABLE counter;
CREATE TABLE case_file (id int PRIMARY KEY, counter_id int REFERENCES counter (id));
GRANT SELECT ON case_file TO PUBLIC;
"""


def test_extension_members_are_read_kept_apart_and_round_trip(server: Any, tmp_path: Path) -> None:
    name = server.create_database()
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute(SCHEMA)
            catalog = read_catalog(conn, "test", live=False)
    finally:
        server.drop_database(name)
    extension = next(e for e in catalog.extensions if e.name == "pg_stat_statements")
    members = {(m.kind, m.schema, m.name) for m in extension.members}
    assert {("view", "public", "pg_stat_statements"), ("table", "public", "counter")} <= members
    assert any(kind == "function" and n.startswith("pg_stat_statements(") for kind, _, n in members)
    # The user's objects only: no relation, grant, index or constraint of the extension's.
    owned = {"counter", "pg_stat_statements", "pg_stat_statements_info"}
    assert {t.name for t in catalog.tables} == {"case_file"}
    assert not owned & {v.name for v in catalog.views}
    assert {g.object for g in catalog.grants} == {"case_file"}
    assert not {i.table for i in catalog.indexes} & owned
    assert not {c.table for c in catalog.constraints} & owned
    # A key to an extension's table still names the columns it references.
    fk = next(c for c in catalog.constraints if c.kind == "foreign key")
    assert (fk.ref_qualified, fk.ref_columns) == ("public.counter", ("id",))
    assert not any(f.name.startswith("pg_stat_statements") for f in catalog.functions)
    assert catalog.extension_of("public", "counter") == "pg_stat_statements"
    assert catalog.extension_of("public", "case_file") is None
    path = tmp_path / "snapshot.json"
    path.write_text(snapshot.dumps(catalog))
    again = snapshot.load(path)
    assert again.extensions == catalog.extensions
    assert again.extension_of("public", "pg_stat_statements") == "pg_stat_statements"


def test_the_engine_reports_nothing_an_extension_owns() -> None:
    """A catalog that carries an extension's grant anyway (a hand-made or older snapshot):
    the rule sees it, the engine drops it."""
    table = Table("public", "case_file", "table", ())
    catalog = Catalog(
        server_version="18",
        server_version_num=180000,
        database="test",
        source="test",
        tables=(table,),
        grants=(
            Grant("public", "pg_stat_statements", "view", "PUBLIC", "SELECT"),
            Grant("public", "case_file", "table", "PUBLIC", "SELECT"),
        ),
        extensions=(
            Extension(
                "pg_stat_statements",
                "1.11",
                "public",
                (ExtensionMember("view", "public", "pg_stat_statements"),),
            ),
        ),
    )
    result = engine.run(catalog, Manifest(), extra_select=["S006"])
    assert [f.object.path for f in result.findings] == ["public.case_file"]
