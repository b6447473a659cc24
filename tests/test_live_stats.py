"""Live statistics are read on a second session while the first reads the catalog: they must be
the statistics the catalog's own session reads, a refused second session must cost nothing but
time, and an error on it must reach the caller."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dbtruth.errors import DbtruthError
from dbtruth.model import Stats
from dbtruth.sources.conninfo import connect_live
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.live_stats import stats_in_background
from tests.conftest import Server
from tests.helpers import EXAMPLES, dbtruth


@pytest.fixture
def legacy_db(database: tuple[Server, str]) -> tuple[Server, str]:
    server, name = database
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute((EXAMPLES / "legacy" / "schema.sql").read_text().encode())
    return server, name


def _facts(stats: Stats | None) -> tuple[object, ...]:
    """What the rules read, without the clock of the reading."""
    assert stats is not None
    return stats.tables, stats.indexes, stats.settings, stats.stats_reset


def test_statistics_from_the_second_session_are_the_catalog_sessions(
    legacy_db: tuple[Server, str],
) -> None:
    server, name = legacy_db
    conninfo = server.conninfo(name)
    with connect_live(conninfo) as conn:
        alone = read_catalog(conn, "live", live=True)
        with stats_in_background(lambda: connect_live(conninfo)) as stats:
            beside = read_catalog(conn, "live", live=True, stats=stats)
    assert alone.stats is not None and alone.stats.tables
    assert _facts(beside.stats) == _facts(alone.stats)
    assert beside.tables == alone.tables


def test_a_refused_second_session_reads_on_the_first(legacy_db: tuple[Server, str]) -> None:
    server, name = legacy_db
    conninfo = server.conninfo(name)

    def refused() -> psycopg.Connection[object]:
        raise DbtruthError("too many connections for role")

    with connect_live(conninfo) as conn:
        alone = read_catalog(conn, "live", live=True)
        with stats_in_background(refused) as stats:
            catalog = read_catalog(conn, "live", live=True, stats=stats)
    assert _facts(catalog.stats) == _facts(alone.stats)


def test_an_error_on_the_second_session_reaches_the_caller(
    legacy_db: tuple[Server, str],
) -> None:
    server, name = legacy_db
    conninfo = server.conninfo(name)

    def closed() -> psycopg.Connection[object]:
        session = connect_live(conninfo)
        session.close()
        return session

    with (
        connect_live(conninfo) as conn,
        stats_in_background(closed) as stats,
        pytest.raises(psycopg.OperationalError),
    ):
        read_catalog(conn, "live", live=True, stats=stats)


def test_a_role_limited_to_one_connection_gets_its_statistics(
    legacy_db: tuple[Server, str], tmp_path: Path
) -> None:
    server, name = legacy_db
    role = "dbtruth_one_session"
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1 IN ROLE pg_monitor")
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text("rules:\n  settings:\n    unused_index_min_days: 0\n")
    try:
        outcome = dbtruth(
            "check",
            server.conninfo(name, user=role),
            "--manifest",
            str(manifest),
            "--format",
            "json",
        )
        assert outcome.code == 1, outcome.err
        hits = {(f["code"], f["object"]["path"]) for f in json.loads(outcome.out)["findings"]}
        # A live-only rule, fed by the statistics read on the one session there is.
        assert ("X004", "public.cases.cases_status_idx") in hits
    finally:
        with psycopg.connect(server.admin, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")
