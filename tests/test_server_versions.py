"""Every supported server, tested: a scratch server of each PostgreSQL major version from 14 to
18 (tests/pgservers.py says which package provides each), started by dbtruth's own scratch code
from that version's binaries. One schema (tests/data/versions) is loaded into each the three
ways dbtruth meets a database: SQL files in its sandbox, SQL files on a named scratch server
(`dbtruth check --scratch URL`), and a live database. Each time the catalog queries read what
the schema declares, everything read matches what PostgreSQL 18 reads, and the findings are the
ones the schema was written to produce. Three small corpora read and check alike on every
version. A version whose binaries cannot be had here is skipped with the package that provides
it; with DBTRUTH_REQUIRE_SERVERS=1 (CI) it fails instead."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dbtruth import engine
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog
from dbtruth.sources import sqlfiles
from dbtruth.sources.introspect import read_catalog, read_stats
from dbtruth.sources.scratch import ScratchServer, open_scratch_from
from tests.conftest import Server
from tests.helpers import dbtruth
from tests.pgservers import MAJORS, PROVIDERS, server_binaries
from tests.test_definitions import SCHEMA as DEFINITIONS
from tests.test_definitions import _compare as compare_definitions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from corpora import CORPORA, Corpus, corpora

SCHEMAS = Path(__file__).resolve().parent / "data" / "versions"
DESK = SCHEMAS / "desk.sql"
SINCE_15 = SCHEMAS / "since15.sql"

# The findings the schema's comments promise, by rule: every finding of these rules, no more.
CHECKED = {"I001", "I002", "I004", "I007", "X001", "S002", "S003", "S006", "S007", "S008",
           "O002", "O003", "H001"}
EXPECTED = {
    ("I001", "desk.note"),
    ("I001", "desk.image_attachment"),
    ("I002", "desk.agent.agent_team_id_fkey"),
    ("I002", "desk.note.note_ticket_fk"),
    ("I004", "desk.note.note_ticket_fk"),
    ("I004", "desk.note.note_body_check"),
    ("I007", "desk.ticket.ticket_reference_key"),
    ("X001", "desk.ticket.ticket_agent_idx1"),
    ("S002", "desk.ticket"),
    ("S002", "desk.shift"),
    ("S003", "desk.shift"),
    ("S006", "desk.team"),
    ("S007", "desk.close_ticket(ticket_no integer)"),
    ("S008", "desk.open_ticket"),
    ("S008", "desk.ticket_count"),
    ("O002", "desk.ticket.id"),
    ("O003", "desk.session_cache"),
    ("H001", "desk.ticket"),
}
EXPECTED_SINCE_15 = {("S008", "board.all_cards")}


@dataclasses.dataclass
class Versioned:
    major: int
    origin: str
    scratch: ScratchServer

    def files(self) -> tuple[Path, ...]:
        return (DESK, SINCE_15) if self.major >= 15 else (DESK,)

    def expected(self) -> set[tuple[str, str]]:
        return EXPECTED | EXPECTED_SINCE_15 if self.major >= 15 else EXPECTED

    @property
    def admin(self) -> str:
        return self.scratch.admin_conninfo

    def conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin, dbname=dbname)


def _start(major: int) -> Versioned:
    binaries = server_binaries().get(major)
    if binaries is None:
        reason = f"no PostgreSQL {major} server binaries here: {PROVIDERS[major]} provides them"
        if os.environ.get("DBTRUTH_REQUIRE_SERVERS"):
            pytest.fail(reason)
        pytest.skip(reason)
    return Versioned(major, binaries.origin, open_scratch_from(binaries.bindir))


@pytest.fixture(scope="module", params=MAJORS, ids=[f"pg{m}" for m in MAJORS])
def versioned(request: pytest.FixtureRequest) -> Iterator[Versioned]:
    server = _start(request.param)
    yield server
    server.scratch.close()


def _load(server: Versioned | Server, files: tuple[Path, ...]) -> str:
    """A new database on `server` holding `files`, loaded by its superuser as a live database
    is; returns its name."""
    name = f"v_{secrets.token_hex(4)}"
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        for file in files:
            conn.execute(file.read_text().encode())
    return name


def _catalog(server: Versioned | Server, files: tuple[Path, ...]) -> Catalog:
    name = _load(server, files)
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        return read_catalog(conn, "test", live=False)


def _checked(outcome_json: str) -> set[tuple[str, str]]:
    findings = json.loads(outcome_json)["findings"]
    return {(f["code"], f["object"]["path"]) for f in findings if f["code"] in CHECKED}


def test_the_binaries_are_the_version_they_claim(versioned: Versioned) -> None:
    with psycopg.connect(versioned.scratch.admin_conninfo) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    assert row[0] // 10000 == versioned.major
    assert versioned.scratch.version_num // 10000 == versioned.major


def test_the_catalog_queries_read_every_kind_of_object(versioned: Versioned) -> None:
    catalog = _catalog(versioned, versioned.files())
    assert catalog.server_version_num // 10000 == versioned.major
    tables = {t.qualified: t for t in catalog.tables}
    assert {name for name in tables if name.startswith("desk.")} == {
        "desk.team", "desk.agent", "desk.ticket", "desk.event", "desk.event_2026",
        "desk.attachment", "desk.image_attachment", "desk.note", "desk.shift",
        "desk.session_cache",
    }  # fmt: skip
    assert tables["desk.event"].kind == "partitioned table"
    assert tables["desk.event_2026"].partition_of == "desk.event"
    assert tables["desk.image_attachment"].inherits == ("desk.attachment",)
    assert [c.name for c in tables["desk.image_attachment"].columns] == [
        "id", "ticket_id", "name", "width", "height"]  # fmt: skip
    assert tables["desk.session_cache"].persistence == "unlogged"
    assert tables["desk.ticket"].comment == "One customer request"
    assert (tables["desk.agent"].rls_enabled, tables["desk.agent"].rls_forced) == (True, True)
    assert (tables["desk.ticket"].rls_enabled, tables["desk.ticket"].rls_forced) == (True, False)

    agent, team, ticket = tables["desk.agent"], tables["desk.team"], tables["desk.ticket"]
    assert team.columns[0].identity == "always"
    assert agent.columns[0].identity == "by default"
    email, handle = agent.column("email"), agent.column("handle")
    assert email is not None and email.domain == "desk.email" and email.type_name == "text"
    assert handle is not None and handle.generated == "stored"
    state, opened = ticket.column("state"), ticket.column("opened_at")
    assert state is not None and state.is_enum and state.not_null
    assert opened is not None and opened.type == "timestamp without time zone"
    ticket_id = ticket.column("id")
    assert ticket_id is not None and ticket_id.default == "nextval('desk.ticket_id_seq'::regclass)"

    constraints = {(c.table, c.name): c for c in catalog.constraints if c.schema == "desk"}
    team_fk = constraints[("agent", "agent_team_id_fkey")]
    assert (team_fk.kind, team_fk.columns, team_fk.ref_table, team_fk.ref_columns,
            team_fk.on_delete) == ("foreign key", ("team_id",), "team", ("id",), "cascade")
    assert constraints[("ticket", "ticket_agent_id_fkey")].on_delete == "set null"
    assert constraints[("shift", "shift_no_overlap")].kind == "exclusion"
    assert not constraints[("note", "note_ticket_fk")].validated
    assert not constraints[("note", "note_body_check")].validated
    assert constraints[("event_2026", "event_2026_pkey")].inherited
    assert constraints[("event_2026", "event_ticket_id_fkey")].inherited
    assert not constraints[("event", "event_ticket_id_fkey")].inherited

    indexes = {i.name: i for i in catalog.indexes if i.schema == "desk"}
    assert indexes["ticket_agent_idx"].include == ("state",)
    assert indexes["ticket_open_idx"].predicate == "(state <> 'closed'::desk.ticket_state)"
    assert indexes["ticket_reference_lower_idx"].key_is_column == (False,)
    assert indexes["ticket_reference_lower_idx"].keys == ("lower(reference)",)
    assert indexes["shift_no_overlap"].method == "gist"
    assert indexes["ticket_reference_key"].unique
    assert indexes["ticket_reference_key"].constraint == "ticket_reference_key"

    views = {v.qualified: v for v in catalog.views}
    assert not views["desk.open_ticket"].materialized
    assert views["desk.open_ticket"].depends_on == ("desk.ticket",)
    assert views["desk.open_ticket"].columns == ("id", "team_id", "opened_at")
    assert views["desk.ticket_count"].materialized

    functions = {f.name: f for f in catalog.functions if f.schema == "desk"}
    assert set(functions) == {"close_ticket", "reopen_ticket", "purge_notes", "reopened"}
    assert functions["close_ticket"].security_definer and functions["close_ticket"].config == ()
    assert functions["reopen_ticket"].config == ("search_path=desk, pg_temp",)
    assert functions["purge_notes"].kind == "procedure"
    assert functions["purge_notes"].language == "plpgsql"
    assert functions["close_ticket"].arguments == "ticket_no integer"

    (trigger,) = [t for t in catalog.triggers if t.schema == "desk"]
    assert (trigger.table, trigger.name, trigger.function, trigger.timing, trigger.events,
            trigger.row_level, trigger.columns) == (
        "ticket", "ticket_reopened", "desk.reopened", "before", ("update",), True, ("state",))

    policies = {p.name: p for p in catalog.policies if p.schema == "desk"}
    assert set(policies) == {"agent_self", "ticket_by_team"}
    assert (policies["ticket_by_team"].command, policies["ticket_by_team"].roles) == (
        "select", ("public",))
    assert policies["agent_self"].command == "all"

    public = {(g.object, g.privilege) for g in catalog.grants if g.grantee == "PUBLIC"}
    assert public == {("team", "SELECT"), ("team", "INSERT")}

    sequences = {s.name: s for s in catalog.sequences if s.schema == "desk"}
    number = sequences["ticket_number"]
    assert (number.data_type, number.start, number.increment, number.max_value, number.cycle,
            number.owned_by) == ("integer", 1000, 10, 100000, True, None)
    assert sequences["ticket_id_seq"].owned_by == "desk.ticket.id"
    assert sequences["ticket_id_seq"].data_type == "integer"
    assert "desk" in {s.name for s in catalog.schemas}
    assert "plpgsql" in {e.name for e in catalog.extensions}


def test_what_postgresql_15_added_is_read_where_the_server_has_it(versioned: Versioned) -> None:
    if versioned.major < 15:
        pytest.skip(f"PostgreSQL {versioned.major} has no NULLS NOT DISTINCT or security_invoker")
    catalog = _catalog(versioned, versioned.files())
    indexes = {i.name: i for i in catalog.indexes if i.schema == "board"}
    assert indexes["label_code_key"].nulls_not_distinct
    assert not indexes["card_label_idx"].nulls_not_distinct
    views = {v.name: v for v in catalog.views if v.schema == "board"}
    assert views["my_card"].security_invoker
    assert not views["all_cards"].security_invoker
    (fk,) = [c for c in catalog.constraints if c.name == "card_label_fkey"]
    assert (fk.columns, fk.on_delete) == (("board", "label_id"), "set null")


def test_composed_definitions_read_as_that_version_prints_them(versioned: Versioned) -> None:
    name = _load(versioned, (DEFINITIONS, *versioned.files()))
    assert compare_definitions(versioned.conninfo(name)) >= 50


def _comparable(catalog: Catalog) -> dict[str, Any]:
    """Everything read about the schema, without what names the server or its version, and
    with the two differences the servers themselves make."""
    facts = dataclasses.asdict(catalog)
    for key in ("server_version", "server_version_num", "database", "source", "_lookup"):
        facts.pop(key)
    # From 15 on, the public schema of a new database belongs to pg_database_owner.
    facts["schemas"] = [s for s in facts["schemas"] if s["name"] != "public"]
    # Before 16, a view's text qualifies the columns of a one-table view with the table's name.
    for view in facts["views"]:
        for relation in view["depends_on"]:
            view["definition"] = view["definition"].replace(f"{relation.split('.')[-1]}.", "")
    return facts


def test_every_version_reads_the_schema_as_postgresql_18_does(
    versioned: Versioned, pg18: Server
) -> None:
    if versioned.major == pg18.version_num // 10000:
        pytest.skip("PostgreSQL 18 is what the other versions are compared with")
    files = versioned.files()
    assert _comparable(_catalog(versioned, files)) == _comparable(_catalog(pg18, files))


def test_check_of_sql_files_loaded_by_that_version(versioned: Versioned) -> None:
    outcome = dbtruth("check", *(str(f) for f in versioned.files()),
                      "--scratch", versioned.scratch.admin_conninfo, "--format", "json")
    assert outcome.code == 1, outcome.err
    document = json.loads(outcome.out)
    assert document["server_version"].split(".")[0] == str(versioned.major)
    assert document["load_problems"] == []
    assert _checked(outcome.out) == versioned.expected()


def test_live_check_of_that_version(versioned: Versioned) -> None:
    name = _load(versioned, versioned.files())
    with psycopg.connect(versioned.conninfo(name), autocommit=True) as conn:
        conn.execute("INSERT INTO desk.team (name) VALUES ('north'), ('south'), ('east')")
        conn.execute("ANALYZE desk.team")
        # A serial at 95% of its integer range.
        conn.execute("SELECT setval('desk.ticket_id_seq', 2040109465)")
        stats = read_stats(conn)
    (team,) = [t for t in stats.tables if (t.schema, t.name) == ("desk", "team")]
    assert team.row_estimate == 3
    assert ("desk", "team", "team_pkey") in {(i.schema, i.table, i.name) for i in stats.indexes}

    outcome = dbtruth("check", versioned.conninfo(name), "--format", "json")
    assert outcome.code == 1, outcome.err
    document = json.loads(outcome.out)
    assert document["skipped_live_only_rules"] == []
    codes = {(f["code"], f["object"]["path"]) for f in document["findings"]}
    assert ("O001", "desk.ticket_id_seq") in codes
    assert _checked(outcome.out) == versioned.expected()


def _sandboxed(
    scratch: ScratchServer, files: Sequence[Path], replacements: tuple[tuple[str, str], ...] = ()
) -> tuple[Catalog, list[str]]:
    """`files` loaded as dbtruth loads SQL files into a scratch server it started: by the
    unprivileged owner of a new database, in the sandbox; the catalog and the load problems."""
    database = scratch.create_database()
    try:
        problems, _ = sqlfiles.load(database.conninfo, list(files), scratch_label=scratch.label,
                                    replacements=replacements, sandbox=database.sandbox)
        database.hand_over()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            catalog = read_catalog(conn, "test", live=False)
    finally:
        scratch.drop_database(database.name)
    return catalog, [str(p) for p in problems]


def test_sql_files_load_in_that_versions_sandbox(versioned: Versioned) -> None:
    catalog, problems = _sandboxed(versioned.scratch, versioned.files())
    assert problems == []
    findings = engine.run(catalog, Manifest()).findings
    assert {(f.code, f.object.path) for f in findings if f.code in CHECKED} == versioned.expected()


# Small corpora that load on every version: a pg_dump (pagila, with domains, partitions,
# triggers and views) and two hand-written schemas.
_CORPORA = [c for c in corpora() if c.name in ("pagila-classic", "chinook", "northwind")]


@pytest.fixture(scope="module")
def on_18(pg18: Server) -> dict[str, tuple[Catalog, list[str]]]:
    """Each corpus as PostgreSQL 18 reads it, loaded once."""
    return {c.name: _sandboxed(pg18.scratch, c.files, c.replacements) for c in _CORPORA}


@pytest.mark.skipif(not _CORPORA, reason=f"corpora not found at {CORPORA}")
@pytest.mark.parametrize("corpus", _CORPORA, ids=[c.name for c in _CORPORA])
def test_a_corpus_reads_and_checks_as_on_postgresql_18(
    versioned: Versioned, on_18: dict[str, tuple[Catalog, list[str]]], corpus: Corpus
) -> None:
    if versioned.major == 18:
        pytest.skip("PostgreSQL 18 is what the other versions are compared with")
    catalog, problems = _sandboxed(versioned.scratch, corpus.files, corpus.replacements)
    reference, reference_problems = on_18[corpus.name]
    assert problems == reference_problems == []
    assert catalog.tables
    assert _comparable(catalog) == _comparable(reference)
    findings = {(f.code, f.object.path) for f in engine.run(catalog, Manifest()).findings}
    assert findings
    assert findings == {(f.code, f.object.path) for f in engine.run(reference, Manifest()).findings}
