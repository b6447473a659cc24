"""Every migration rule from its YAML fixture, against real PostgreSQL (18 and the machine's
15): the `existing` schema is created, the migration is linted with the database's own tables
as the existing ones, and the rule must fire on exactly the objects listed. Then the claims are
checked on the server itself: the migration runs as its runner would run it (or fails, when the
case says PostgreSQL refuses it), and with `apply_fix` the rule's own SQL fix replaces the
statement, the rule goes quiet, and the fixed migration runs. A case may also name the
severity of each object (or of the finding at each line, `severity_by_line`), words every message
must contain (every info message, with severity_by_line), the fix's labels, the
migration's file name (`file`, by default 0001_case.sql), and `verify`: a query that must
return true on the server once the migration ran (what the finding says it leaves behind)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from pglast import parser as pg_parser

from dbtruth.engine import find_spec
from dbtruth.manifest import Manifest
from dbtruth.migrate.lint import lint
from dbtruth.rules.migration_locks import declared_typmods
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.migrations import read_file, runs_in_transaction

FIXTURES = Path(__file__).parent / "fixtures"


def _cases() -> list[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("M*.yaml")):
        document = yaml.safe_load(path.read_text())
        for case in document["cases"]:
            cases.append(pytest.param(document["rule"], case, id=f"{path.stem}:{case['name']}"))
    return cases


# `wrapped`: True when the runner wraps each file in a transaction, False when it runs each
# statement alone, ONE_QUERY when it sends the whole file as one query (Prisma, popx).
ONE_QUERY = "one-query"


def _lint(code: str, text: str, tmp: Path, name: str, existing: Any, version: int,
          wrapped: bool | str, manifest: Manifest) -> Any:  # fmt: skip
    path = tmp / "migrations" / name  # a fixed folder: migrations are named folder/file
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    migration = read_file(path, 0, wrapped_default=wrapped is True, mode="auto",
                          one_query_runner=wrapped == ONE_QUERY)  # fmt: skip
    assert migration.problems == (), migration.problems
    tables, columns, typmods = existing
    outcome = lint([migration], manifest, pg_version=version, existing=tables,
                   existing_columns=columns, existing_typmods=typmods,
                   select=[code])  # fmt: skip
    starts = {statement.line: statement.sql for statement in migration.statements}
    return outcome.result.findings, starts


def _run(conninfo: str, text: str, wrapped: bool | str, show: str | None = None) -> str | None:
    """As the runner would: the whole file in one transaction, statement by statement, or as
    one query; with `show`, that setting as the runner's session holds it afterwards (for its
    next file)."""
    pieces = pg_parser.split(text, with_parser=False)
    in_transaction = wrapped is True and runs_in_transaction(
        Path("migration.sql"), text, "auto", prisma=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if wrapped == ONE_QUERY:
            conn.execute(text.encode())  # the simple query protocol: one implicit transaction
        elif in_transaction:
            with conn.transaction():
                for piece in pieces:
                    conn.execute(piece)  # type: ignore[call-overload]
        else:
            for piece in pieces:
                conn.execute(piece)  # type: ignore[call-overload]
        if show is None:
            return None
        row = conn.execute(f"SHOW {show}").fetchone()  # type: ignore[call-overload]
        return str(row[0]) if row else None


@pytest.mark.parametrize(("code", "case"), _cases())
def test_migration_fixture(server: Any, code: str, case: dict[str, Any], tmp_path: Path) -> None:
    spec = find_spec(code)
    assert spec is not None and spec.kind == "migration", code
    name = server.create_database()
    try:
        conninfo = server.conninfo(name)
        if case.get("existing"):
            _run(conninfo, case["existing"], wrapped=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            catalog = read_catalog(conn, "fixture", live=False)
        existing = (
            frozenset(t.qualified for t in catalog.tables),
            {(t.qualified, c.name): c.type_name for t in catalog.tables for c in t.columns},
            {(t.qualified, c.name): declared_typmods(c.type)
             for t in catalog.tables for c in t.columns},
        )  # fmt: skip
        version = case.get("pg_version", server.version_num)
        wrapped = ONE_QUERY if case.get("runner") == ONE_QUERY else case.get("wrapped", True)
        manifest = Manifest.model_validate(case.get("manifest", {}))
        file_name = case.get("file", "0001_case.sql")
        findings, starts = _lint(code, case["migration"], tmp_path, file_name, existing,
                                 version, wrapped, manifest)  # fmt: skip
        assert sorted(f.object.path for f in findings) == sorted(case.get("expect", [])), [
            f.message for f in findings
        ]
        for finding in findings:
            assert finding.location and finding.location.line >= 1
        graded = {f.object.path: f.severity.label for f in findings}
        for path, label in case.get("severity", {}).items():
            assert graded[path] == label, (path, graded[path])
        by_line = {f.location.line: f for f in findings if f.location}
        for line, label in case.get("severity_by_line", {}).items():
            assert by_line[line].severity.label == label, (line, by_line[line].message)
        contains = case.get("message_contains", [])
        lines = case.get("severity_by_line", {})
        for wanted in contains:
            # with severity_by_line, the words are those of its info findings' messages
            chosen = [by_line[n] for n, label in lines.items() if label == "info"] or findings
            assert all(wanted in f.message for f in chosen), [f.message for f in chosen]
        for field, wanted in case.get("fix_labels", {}).items():
            labelled = [getattr(f.violation.fix, field) for f in findings if f.violation.fix]
            assert labelled and set(labelled) == {wanted}, (field, labelled)
        if case.get("execute", True):
            if case.get("fails"):
                with pytest.raises(psycopg.Error, match=case["fails"]):
                    _run(conninfo, case["migration"], wrapped)
            else:
                _run(conninfo, case["migration"], wrapped)
            if case.get("verify"):
                # what the finding claims of the server after the migration, as a query
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    row = conn.execute(case["verify"]).fetchone()
                assert row is not None and row[0] is True, case["verify"]
        if case.get("surround_fix"):
            _check_surrounding_fix(server, case, findings, tmp_path, code, existing, version,
                                   wrapped, manifest)  # fmt: skip
        if case.get("apply_fix"):
            fixed = case["migration"]
            for finding in findings:
                fix = finding.violation.fix
                assert fix is not None and fix.sql, f"{code} offered no SQL fix"
                statement = starts[finding.location.line] + ";"  # type: ignore[union-attr]
                assert statement in fixed, statement
                fixed = fixed.replace(statement, fix.sql)
            fixed = case.get("fix_prefix", "") + fixed
            again, _ = _lint(code, fixed, tmp_path, "0001_fixed.sql", existing, version, wrapped,
                             manifest)  # fmt: skip
            assert again == [], [f.message for f in again]
            fresh = server.create_database()
            try:
                if case.get("existing"):
                    _run(server.conninfo(fresh), case["existing"], wrapped=False)
                _run(server.conninfo(fresh), fixed, wrapped)
            finally:
                server.drop_database(fresh)
    finally:
        server.drop_database(name)


# Where a fix that frames the whole file puts the file's own statements.
_THE_STATEMENTS = "-- the migration's statements"


def _check_surrounding_fix(server: Any, case: dict[str, Any], findings: Any, tmp_path: Path,
                           code: str, existing: Any, version: int, wrapped: bool | str,
                           manifest: Manifest) -> None:  # fmt: skip
    """A fix that is a setting for the whole file (M011's lock_timeout): its SQL goes around
    the migration, at the placeholder or before it; the rule goes quiet, the file runs, and
    the runner's session holds the setting no longer once the file is done."""
    (finding,) = findings
    fix = finding.violation.fix.sql
    if _THE_STATEMENTS in fix:
        fixed = fix.replace(_THE_STATEMENTS, case["migration"].rstrip())
    else:
        fixed = f"{fix}\n{case['migration']}"
    again, _ = _lint(code, fixed, tmp_path, "0001_fixed.sql", existing, version, wrapped,
                     manifest)  # fmt: skip
    assert again == [], [f.message for f in again]
    fresh = server.create_database()
    try:
        _run(server.conninfo(fresh), case["existing"], wrapped=False)
        after = _run(server.conninfo(fresh), fixed, wrapped, show=case["surround_fix"])
        assert after == "0", (case["surround_fix"], after)  # the server's default again
    finally:
        server.drop_database(fresh)
