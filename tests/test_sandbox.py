"""Loaded SQL is hostile: on every scratch server it runs without power.

Each attack a pull request could carry is loaded on both scratch servers (the embedded 18 and
this machine's PostgreSQL) and must end in one clear line naming file:line and why it was
refused, exit code 2, with nothing executed — the files it would write are checked to be absent.
What real schemas need (roles, pg_dump's OWNER TO and GRANT lines, allowlisted extensions) still
loads; superuser-only objects are reported as not loaded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtruth.sources import sqlfiles
from dbtruth.sources.scratch import ScratchServer, open_scratch, reap_leftovers
from tests.helpers import SCRATCH_KINDS, dbtruth

KINDS = SCRATCH_KINDS


@pytest.fixture(scope="module", params=KINDS)
def scratch(request: pytest.FixtureRequest) -> Iterator[ScratchServer]:
    with open_scratch(request.param) as server:
        yield server


def _sql(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.sql"
    path.write_text(text)
    return path


def _load(server: ScratchServer, path: Path, keep_going: bool = False) -> tuple[object, str]:
    """Load `path` into a new scratch database as dbtruth does; (problems, database name)."""
    database = server.create_database()
    try:
        problems, _ = sqlfiles.load(database.conninfo, [path], scratch_label=server.label,
                                    keep_going=keep_going, sandbox=database.sandbox)  # fmt: skip
        database.hand_over()
        return problems, database.name
    except Exception:
        server.drop_database(database.name)
        raise


def _admin(server: ScratchServer, dbname: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=dbname),
                           autocommit=True)  # fmt: skip


# The attacks of the issue, each with the line that carries it and a file it would leave.
ATTACKS = {
    "copy-from-program": ("CREATE TABLE e (line text);\nCOPY e FROM PROGRAM 'env';\n", 2),
    "copy-to-program": (
        "CREATE TABLE e (line text);\nCOPY e TO PROGRAM 'touch {marker}';\n", 2),
    "read-server-file": (
        "CREATE TABLE t (id int);\n"
        "DO $$ BEGIN EXECUTE format('COMMENT ON TABLE t IS %L', "
        "pg_read_file('/etc/passwd')); END $$;\n", 2),
    "lo-export": ("SELECT lo_export(lo_from_bytea(0, 'pwned'), '{marker}');\n", 1),
    "copy-to-file": ("CREATE TABLE t (id int);\nCOPY t TO '{marker}';\n", 2),
    "alter-system": ("ALTER SYSTEM SET work_mem = '1MB';\n", 1),
    "dblink": ("CREATE TABLE t (id int);\nCREATE EXTENSION dblink;\n", 2),
    "grant-server-program": ("GRANT pg_execute_server_program TO CURRENT_USER;\n", 1),
    "create-role-in-server-files": ("CREATE ROLE x IN ROLE pg_read_server_files;\n", 1),
    "untrusted-extension": ("CREATE EXTENSION file_fdw;\n", 1),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_is_refused_with_file_and_line(kind: str, attack: str, tmp_path: Path) -> None:
    marker = tmp_path / "written-by-the-server"
    text, line = ATTACKS[attack]
    path = _sql(tmp_path, text.format(marker=marker))
    os.chmod(tmp_path, 0o777)  # the server's account could write there if it had the power
    outcome = dbtruth("check", str(path), "--scratch", kind)
    assert outcome.code == 2, outcome.out + outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith(f"dbtruth: error: {path}:{line}:"), lines[0]
    assert "refused" in lines[0]
    assert not marker.exists()


def test_the_server_reads_no_secret_of_the_caller_and_runs_unprivileged(
    scratch: ScratchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scratch.process_id is not None and scratch.workdir is not None
    environ = Path(f"/proc/{scratch.process_id}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0] for entry in environ if entry}
    assert names <= {b"PATH", b"LC_ALL", b"HOME", b"PGLOCALEDIR", b"PGSYSCONFDIR"}, names
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{scratch.process_id}/status").read_text()
        .splitlines() if ":" in line
    )  # fmt: skip
    assert status["Uid"].split()[0] != "0"
    assert status["Groups"].strip() == "" or "0" not in status["Groups"].split()
    with _admin(scratch) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        folder = conn.execute("SHOW unix_socket_directories").fetchone()
    assert folder is not None
    assert (Path(str(folder[0])).stat().st_mode & 0o777) == 0o700


def test_the_loaded_sql_runs_as_an_owner_without_power(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    path = _sql(tmp_path, "CREATE TABLE who AS SELECT current_user AS name;\n")
    _, name = _load(scratch, path)
    try:
        with _admin(scratch, name) as conn:
            row = conn.execute(
                "SELECT r.rolname, r.rolsuper, r.rolcreatedb, r.rolreplication,"
                " pg_has_role(r.oid, 'pg_execute_server_program', 'USAGE'),"
                " pg_has_role(r.oid, 'pg_read_server_files', 'USAGE'),"
                " pg_has_role(r.oid, 'pg_write_server_files', 'USAGE')"
                " FROM who JOIN pg_roles r ON r.rolname = who.name"
            ).fetchone()
            # Objects belong to postgres after the load, as in a pg_dump run by a superuser.
            owner = conn.execute(
                "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'who'"
            ).fetchone()
    finally:
        scratch.drop_database(name)
    assert row == ("dbtruth_owner", False, False, False, False, False, False)
    assert owner == ("postgres",)


def test_roles_the_sql_creates_work_without_a_way_back_to_power(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    path = _sql(tmp_path, """
CREATE ROLE anon NOLOGIN;
CREATE ROLE service_role NOLOGIN BYPASSRLS SUPERUSER REPLICATION;
CREATE ROLE maker CREATEROLE;
CREATE USER app;
GRANT anon TO app;
CREATE TABLE t (id int PRIMARY KEY);
ALTER TABLE t OWNER TO postgres;
GRANT SELECT ON t TO anon, service_role;
GRANT ALL ON t TO postgres;
""")  # fmt: skip
    _, name = _load(scratch, path)
    try:
        with _admin(scratch, name) as conn:
            roles = {r[0]: r[1:] for r in conn.execute(
                "SELECT rolname, rolsuper, rolreplication, rolbypassrls, rolcreaterole, "
                "rolcanlogin FROM pg_roles WHERE rolname IN ('anon', 'service_role', 'maker',"
                " 'app')")}  # fmt: skip
            grants = conn.execute(
                "SELECT grantee, privilege_type FROM information_schema.role_table_grants"
                " WHERE table_name = 't' AND grantee IN ('anon', 'service_role')"
                " ORDER BY 1"
            ).fetchall()
            member = conn.execute("SELECT pg_has_role('app', 'anon', 'MEMBER')").fetchone()
    finally:
        scratch.drop_database(name)
    safe_createrole = scratch.version_num >= 160000
    assert roles == {
        "anon": (False, False, False, False, False),
        "service_role": (False, False, True, False, False),
        "maker": (False, False, False, safe_createrole, False),
        "app": (False, False, False, False, True),
    }
    assert grants == [("anon", "SELECT"), ("service_role", "SELECT")]
    assert member == (True,)


def test_superuser_only_objects_are_reported_as_not_loaded(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    path = _sql(tmp_path, """
CREATE TABLE t (id int);
CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION f();
CREATE FUNCTION c() RETURNS int LANGUAGE c AS 'nothing', 'here';
CREATE TABLE u (id int);
""")  # fmt: skip
    problems, name = _load(scratch, path)
    try:
        with _admin(scratch, name) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}  # fmt: skip
    finally:
        scratch.drop_database(name)
    assert tables == {"t", "u"}
    messages = [str(p) for p in problems]  # type: ignore[attr-defined]
    assert len(messages) == 2
    assert messages[0].startswith(f"{path}:4:1: not loaded: creating an event trigger needs")
    assert messages[1].startswith(f"{path}:5:1: not loaded: creating a function in an untrusted")


def test_pg_dump_output_and_extensions_load_as_before(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    path = _sql(tmp_path, """
SET statement_timeout = 0;
SET transaction_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
COMMENT ON EXTENSION pg_trgm IS 'text similarity';
CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA public;
COMMENT ON EXTENSION pg_stat_statements IS 'statistics';
CREATE SCHEMA app;
ALTER SCHEMA app OWNER TO postgres;
CREATE TABLE app.t (id integer NOT NULL, name text);
ALTER TABLE app.t OWNER TO postgres;
REVOKE ALL ON TABLE app.t FROM PUBLIC;
GRANT ALL ON TABLE app.t TO postgres;
""")  # fmt: skip
    problems, name = _load(scratch, path)
    try:
        with _admin(scratch, name) as conn:
            extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
            owner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 't'"
            ).fetchone()
    finally:
        scratch.drop_database(name)
    assert problems == []
    assert {"pg_trgm", "pg_stat_statements"} <= extensions
    assert owner == ("postgres",)


def test_an_extension_is_not_created_by_a_superuser_where_the_sql_planted_lookalikes(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    path = _sql(tmp_path, """
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
CREATE EXTENSION pg_stat_statements;
""")  # fmt: skip
    with pytest.raises(Exception, match=r":3:1: refused: extension pg_stat_statements would be"):
        _load(scratch, path)


def test_roles_in_do_blocks_follow_the_server_version(
    scratch: ScratchServer, tmp_path: Path
) -> None:
    """PostgreSQL 16 made CREATEROLE unable to grant what its holder does not administer, so
    from 16 on the SQL may create roles dynamically; before 16 that would reach
    pg_execute_server_program, and the statement is refused with the way out."""
    path = _sql(tmp_path, "DO $$ BEGIN EXECUTE 'CREATE ROLE dynamic_role'; END $$;\n"
                          "GRANT dynamic_role TO postgres;\n")  # fmt: skip
    if scratch.version_num >= 160000:
        problems, name = _load(scratch, path)
        scratch.drop_database(name)
        assert problems == []
        escalate = _sql(tmp_path, "DO $$ BEGIN EXECUTE 'GRANT pg_execute_server_program "
                                  "TO dbtruth_owner'; END $$;\n")  # fmt: skip
        with pytest.raises(Exception, match=r":1:1: refused: permission denied to grant role"):
            _load(scratch, escalate)
    else:
        with pytest.raises(Exception, match=r":1:1: refused: permission denied to create role.*"
                                            r"PostgreSQL 16 or later"):  # fmt: skip
            _load(scratch, path)


def test_a_user_named_scratch_server_gets_a_role_of_the_run_and_loses_it(
    pg18: object, tmp_path: Path
) -> None:
    url = pg18.admin  # type: ignore[attr-defined]
    path = _sql(tmp_path, "CREATE ROLE run_role NOLOGIN;\nCREATE TABLE t (id int);\n"
                          "GRANT SELECT ON t TO run_role;\n")  # fmt: skip
    outcome = dbtruth("check", str(path), "--scratch", url, "--format", "json")
    assert outcome.code in (0, 1), outcome.err
    attack = _sql(tmp_path, "CREATE TABLE e (line text);\nCOPY e FROM PROGRAM 'env';\n")
    refused = dbtruth("check", str(attack), "--scratch", url)
    assert refused.code == 2 and "refused" in refused.err
    with psycopg.connect(url, autocommit=True) as conn:
        left = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = 'run_role' OR rolname"
                            " LIKE 'dbtruth\\_owner\\_%'").fetchall()  # fmt: skip
        databases = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'dbtruth\\_scratch\\_%'"
        ).fetchall()
    assert left == [] and databases == []


def test_a_killed_run_leaves_no_server_and_the_next_run_removes_its_folder(
    tmp_path: Path,
) -> None:
    # A temporary folder of this test's own that the server's account can reach (pytest's
    # folders are private to root), so no other dbtruth run reaps the leftover before we look.
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="dbtruth-test-tmp-", dir="/tmp"))
    base.chmod(0o755)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "from dbtruth.sources.scratch import open_scratch\n"
         "import time\n"
         "s = open_scratch('embedded')\n"
         "print(s.process_id, s.workdir, flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(base)},
    )  # fmt: skip
    assert child.stdout is not None
    pid_text, workdir = child.stdout.readline().split()
    postmaster = int(pid_text)
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{postmaster}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{postmaster}").exists(), "the server outlived dbtruth"
    assert Path(workdir).exists()
    os.environ["TMPDIR"], saved = str(base), os.environ.get("TMPDIR")
    try:
        tempfile.tempdir = None
        reap_leftovers()
    finally:
        if saved is None:
            os.environ.pop("TMPDIR")
        else:
            os.environ["TMPDIR"] = saved
        tempfile.tempdir = None
    assert not Path(workdir).exists()
    assert Path(workdir).parent == base
    base.rmdir()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs an account to run the server as")
def test_without_a_postgres_account_root_runs_the_server_as_its_own_system_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pwd

    from dbtruth.sources import scratch as scratch_module

    existed = True
    try:
        pwd.getpwnam("dbtruth-scratch")
    except KeyError:
        existed = False
    monkeypatch.setattr(scratch_module, "_SERVER_ACCOUNT", "no-such-account-for-dbtruth")
    try:
        with open_scratch("embedded") as server:
            assert server.process_id is not None
            status = Path(f"/proc/{server.process_id}/status").read_text()
            uid = int(status.split("Uid:")[1].split()[0])
        assert pwd.getpwuid(uid).pw_name == "dbtruth-scratch"
    finally:
        if not existed:
            subprocess.run(["userdel", "dbtruth-scratch"], check=False, capture_output=True)


def test_a_schema_of_thousands_of_tables_is_handed_over(tmp_path: Path) -> None:
    """Handing the loaded schema to its owner locks every relation in one transaction: 4,000
    tables with their keys, identity sequences and TOAST tables are 20,000 locks, beyond the
    default lock table of 6,400 (this failed with "out of shared memory" before)."""
    (tmp_path / "schema.sql").write_text(
        "\n".join(
            f"CREATE TABLE t{n} (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb);"
            for n in range(4000)
        )
    )
    outcome = dbtruth("check", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 0, outcome.err
    assert "rules over 4000 tables" in outcome.out
