"""Bad input: one clear message, file:line where there is one, exit code 2, no traceback, no
secret in any output."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import Server
from tests.helpers import Outcome, dbtruth

SECRET = "s3cr3t-Pa55word"


def _is_clean_error(outcome: Outcome) -> None:
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.err + outcome.out
    assert outcome.err.startswith("dbtruth: error: ")
    assert SECRET not in outcome.err + outcome.out


def test_unreachable_host_names_the_target_without_the_password() -> None:
    outcome = dbtruth("check", f"postgresql://app:{SECRET}@127.0.0.1:1/prod")
    _is_clean_error(outcome)
    assert "cannot connect to app@127.0.0.1:1/prod" in outcome.err


def test_wrong_password(pg18: Server) -> None:
    with psycopg.connect(pg18.admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE pw_user LOGIN PASSWORD '{SECRET}x'")
        hba = conn.execute("SHOW hba_file").fetchone()
        assert hba is not None
        path = Path(hba[0])
        original = path.read_text()
        # Password authentication for this one role, ahead of the trust lines.
        path.write_text("local all pw_user scram-sha-256\n" + original)
        conn.execute("SELECT pg_reload_conf()")
    try:
        url = pg18.conninfo("postgres", user="pw_user", password=SECRET)
        outcome = dbtruth("check", url)
        _is_clean_error(outcome)
        assert "password authentication failed" in outcome.err
    finally:
        path.write_text(original)
        with psycopg.connect(pg18.admin, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute("DROP ROLE pw_user")


def test_missing_database(pg18: Server) -> None:
    outcome = dbtruth("check", pg18.conninfo("no_such_db"))
    _is_clean_error(outcome)
    assert 'database "no_such_db" does not exist' in outcome.err


def test_permission_denied_on_a_catalog_view(database: tuple[Server, str]) -> None:
    server, name = database
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE ROLE limited_reader LOGIN")
        conn.execute("REVOKE SELECT ON pg_catalog.pg_policy FROM PUBLIC")
    try:
        outcome = dbtruth("check", server.conninfo(name, user="limited_reader"))
        _is_clean_error(outcome)
        assert "permission denied while reading the catalog (policies)" in outcome.err
    finally:
        with psycopg.connect(server.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute("DROP ROLE limited_reader")


def test_malformed_sql_names_file_line_and_column(tmp_path: Path) -> None:
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE ok (id int PRIMARY KEY);\n\nCREATE TABLE bad (\n"
                   "  id int PRIMRY KEY\n);\n")
    outcome = dbtruth("check", str(sql), "--scratch", "embedded")
    _is_clean_error(outcome)
    # PostgreSQL points at PRIMRY: line 4, column 10.
    assert f"{sql}:4:10: syntax error at or near \"PRIMRY\"" in outcome.err


def test_unbalanced_parenthesis_is_an_error_not_a_vanished_statement(tmp_path: Path) -> None:
    # PostgreSQL's scanner keeps reading through the semicolons after an open parenthesis:
    # the rest of the file is one unterminated statement, which must fail, not disappear.
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE ok (id int PRIMARY KEY);\nCREATE TABLE bad (id int;\n"
                   "CREATE TABLE later (id int);\n")
    outcome = dbtruth("check", str(sql), "--scratch", "embedded")
    _is_clean_error(outcome)
    assert f"{sql}:2:" in outcome.err and "syntax error" in outcome.err


def test_keep_going_loads_the_rest_and_says_what_is_missing(tmp_path: Path) -> None:
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE broken (id int PRIMRY KEY);\nCREATE TABLE keyless (a int);\n")
    outcome = dbtruth("check", str(sql), "--scratch", "embedded", "--keep-going",
                      "--no-color")
    assert outcome.code == 1  # keyless still gets its finding
    assert "incomplete: 1 statement could not be loaded" in outcome.out
    assert f"{sql}:1:" in outcome.out and "I001" in outcome.out


def test_missing_extension_is_named_with_the_way_out(tmp_path: Path) -> None:
    sql = tmp_path / "schema.sql"
    sql.write_text('CREATE EXTENSION "uuid-ossp";\n')
    outcome = dbtruth("check", str(sql), "--scratch", "embedded")
    _is_clean_error(outcome)
    assert 'has no extension "uuid-ossp"' in outcome.err
    assert "--scratch system" in outcome.err


def test_binary_garbage(tmp_path: Path) -> None:
    blob = tmp_path / "dump.sql"
    blob.write_bytes(b"PGDMP\x00\x01\x02\xff\xfe")
    outcome = dbtruth("check", str(blob))
    _is_clean_error(outcome)
    assert f"{blob}: is not a text file" in outcome.err


def test_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.sql"
    latin.write_bytes(b"-- ok\nCREATE TABLE caf\xe9 (id int);\n")
    outcome = dbtruth("check", str(latin))
    _is_clean_error(outcome)
    assert f"{latin}:2: is not UTF-8 text" in outcome.err


def test_empty_folder(tmp_path: Path) -> None:
    outcome = dbtruth("check", str(tmp_path))
    _is_clean_error(outcome)
    assert "no .sql files in folder" in outcome.err


def test_missing_target(tmp_path: Path) -> None:
    outcome = dbtruth("check", str(tmp_path / "nope.sql"))
    _is_clean_error(outcome)
    assert "target not found" in outcome.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  fail_onn: error\n", "dbtruth.yaml:2: unknown key 'rules.fail_onn'"
         " (hint: did you mean 'fail_on'?)"),
        ("rules:\n  fail_on: sometimes\n", "dbtruth.yaml:2: rules.fail_on: Input should be"),
        ("tenancy:\n  key: [tenant_id\n", "dbtruth.yaml:3:1: invalid YAML"),
        ("rules:\n  ignore_objects:\n    - rule: I001\n      object: x\n",
         "dbtruth.yaml:3: rules.ignore_objects.0.reason: Field required"),
        ("- just\n- a list\n", "dbtruth.yaml:1: the manifest must be a mapping"),
    ],
)
def test_invalid_manifest(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (tmp_path / "dbtruth.yaml").write_text(text)
    outcome = dbtruth("check", str(tmp_path), "--scratch", "embedded")
    _is_clean_error(outcome)
    assert f"{tmp_path}/{expected}" in outcome.err


def test_psql_meta_commands(tmp_path: Path) -> None:
    ok = tmp_path / "ok"
    ok.mkdir()
    (ok / "a.sql").write_text(
        "\\set ON_ERROR_STOP on\nDROP DATABASE IF EXISTS x;\n\\c chinook\n"
        "CREATE TABLE t (id int PRIMARY KEY);\n\\i b.inc\n")
    (ok / "b.inc").write_text(
        "CREATE TABLE u (id int PRIMARY KEY, t_id int REFERENCES t ON DELETE CASCADE);\n")
    outcome = dbtruth("check", str(ok), "--scratch", "embedded", "--select", "I002",
                      "--no-color")
    assert outcome.code == 1, outcome.err
    assert "psql \\c ignored" in outcome.out and "public.u" in outcome.out
    # an include reaching outside the target's folder is refused, not read
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.sql").write_text("CREATE TABLE t (id int);\n\\i /etc/passwd\n")
    outcome = dbtruth("check", str(outside), "--scratch", "embedded")
    _is_clean_error(outcome)
    assert "\\i /etc/passwd: outside the folder" in outcome.err and "root:" not in outcome.err
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE t (id int);\n\\gexec\n")
    outcome = dbtruth("check", str(bad), "--scratch", "embedded")
    _is_clean_error(outcome)
    assert f"{bad}:2: psql meta-command \\gexec is not supported" in outcome.err


def test_corrupt_snapshot(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text('{"format": "dbtruth-snapshot", "format_version": 1, "catalog": '
                    '{"server_version": "18", "tables": "nope"}}')
    outcome = dbtruth("check", str(snap))
    _is_clean_error(outcome)
    assert "snapshot catalog is malformed" in outcome.err
