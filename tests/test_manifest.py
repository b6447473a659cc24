"""dbtruth.yaml: every section loads, every mistake names its line and key, typos get the
nearest valid key, and the JSON Schema covers every section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtruth.errors import DbtruthError
from dbtruth.manifest.config import Manifest, load_manifest
from tests.helpers import EXAMPLES, dbtruth


def test_the_casefile_manifest_uses_every_section() -> None:
    manifest = load_manifest(EXAMPLES / "casefile" / "dbtruth.yaml")
    assert manifest.truth["casework.outbox_event"].role == "outbox"
    assert [i.id for i in manifest.invariants][:2] == ["one-active-primary", "assignment-interval"]
    assert manifest.workload[0].contract is not None
    period = manifest.time["casework.case_assignment"].effective
    assert period is not None and (period.from_, period.to) == ("assigned_at", "unassigned_at")
    assert manifest.operations is not None and manifest.operations.restore_drill is not None
    assert manifest.decisions is not None and manifest.decisions.adr_folder == "docs/adr"
    # The rules are told the design sections.
    assert manifest.settings().design.invariants == manifest.invariants


@pytest.mark.parametrize(
    ("text", "line", "message", "hint"),
    [
        (
            "truth:\n  public.t:\n    role: truth\n    ownr: me\n",
            4,
            "unknown key 'truth.public.t.ownr'",
            "did you mean 'owner'?",
        ),
        ("truth:\n  public.t: {role: mirror}\n", 2, "truth.public.t.role: Input should be", None),
        (
            "invariants:\n  - id: a\n    statement: a is unique\n    kind: uniqueness\n"
            "    tables: [public.t]\n    enforcment: index\n",
            6,
            "unknown key 'invariants.0.enforcment'",
            "did you mean 'enforcement'?",
        ),
        (
            "invariants:\n  - id: a\n    statement: a is unique\n    kind: uniqueness\n"
            "    tables: [public.t]\n    enforcement: index\n",
            2,
            "enforcement 'index' needs 'object'",
            None,
        ),
        (
            "invariants:\n  - {id: a, statement: abc, kind: range, tables: [t],"
            " enforcement: application}\n  - {id: a, statement: abc, kind: range, tables: [t],"
            " enforcement: application}\n",
            1,
            "invariant id 'a' is used twice",
            None,
        ),
        (
            "workload:\n  - name: q\n    role: read\n    sql: select 1\n    file: q.sql\n",
            2,
            "exactly one of 'sql' or 'file'",
            None,
        ),
        (
            "workload:\n  - name: q\n    role: read\n    sql: select 1\n"
            "    contract: {uses_idx: i}\n",
            5,
            "unknown key 'workload.0.contract.uses_idx'",
            "did you mean 'uses_index'?",
        ),
        (
            "time:\n  public.t:\n    effective: {from: a, too: b}\n",
            3,
            "unknown key 'time.public.t.effective.too'",
            "did you mean 'to'?",
        ),
        (
            "operations:\n  restore_drill: {last: yesterday}\n",
            2,
            "operations.restore_drill.last: Input should be a valid date",
            None,
        ),
        (
            "decision:\n  adr_folder: docs/adr\n",
            1,
            "unknown key 'decision'",
            "did you mean 'decisions'?",
        ),
    ],
)
def test_mistakes_name_line_key_and_nearest_key(
    tmp_path: Path, text: str, line: int, message: str, hint: str | None
) -> None:
    path = tmp_path / "dbtruth.yaml"
    path.write_text(text)
    with pytest.raises(DbtruthError) as caught:
        load_manifest(path)
    assert caught.value.where == f"{path}:{line}"
    assert message in caught.value.message
    assert caught.value.hint == hint or (hint is None and caught.value.hint is None)


def test_json_schema_covers_every_section() -> None:
    outcome = dbtruth("schema")
    schema = json.loads(outcome.out)
    assert set(schema["properties"]) == set(Manifest.model_fields) | {"rules", "tenancy"}
    assert {
        "truth",
        "invariants",
        "workload",
        "time",
        "retention",
        "operations",
        "decisions",
    } <= set(schema["properties"])
    # The effective period is written "from" in YAML, the alias the schema must publish.
    assert "from" in schema["$defs"]["EffectivePeriod"]["properties"]


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        ("missing.sql", "no such file: missing.sql"),
        ("queries", "queries is a folder, not a SQL file"),
    ],
)
def test_a_workload_file_that_is_not_a_file_is_an_error_at_its_line(
    tmp_path: Path, named: str, expected: str
) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text(f"workload:\n- name: recent\n  role: read\n  file: {named}\n")
    for command in ("check", "review"):
        outcome = dbtruth(command, str(tmp_path / "schema.sql"), "--manifest", str(manifest))
        assert outcome.code == 2
        assert outcome.err == f"dbtruth: error: {manifest}:4: workload.0.file: {expected}\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("rules:\n  fail_on: warning\n  select: [I002, Z999]\n", 3,
         "unknown rule or family 'Z999'"),
        ("rules:\n  ignore:\n    - I002\n    - nonsense-rule\n", 4,
         "unknown rule or family 'nonsense-rule'"),
        ("rules:\n  severity:\n    I002: info\n    bogus-rule: info\n", 4,
         "rules.severity names unknown rule 'bogus-rule'"),
    ],
)  # fmt: skip
def test_a_rule_dbtruth_yaml_names_that_does_not_exist_is_an_error_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001.sql").write_text("ALTER TABLE t ADD COLUMN x int;\n")
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text(text)
    for argv in (["check", str(tmp_path / "schema.sql"), "--scratch", "embedded"],
                 ["migrate", "lint", str(tmp_path / "migrations")]):  # fmt: skip
        outcome = dbtruth(*argv, "--manifest", str(manifest))
        assert outcome.code == 2, (argv, outcome.err)
        assert outcome.err.startswith(f"dbtruth: error: {manifest}:{line}: {message}"), outcome.err


def test_rules_severity_takes_a_rule_name_as_well_as_its_code(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE p (id int PRIMARY KEY);\n"
        "CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p ON DELETE CASCADE);\n"
    )
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text("rules:\n  severity:\n    foreign-key-without-index: error\n")
    outcome = dbtruth("check", str(tmp_path / "schema.sql"), "--scratch", "embedded",
                      "--manifest", str(manifest), "--format", "json")  # fmt: skip
    assert outcome.code == 1, outcome.err
    found = json.loads(outcome.out)["findings"]
    assert {(f["code"], f["severity"]) for f in found if f["code"] == "I002"} == {("I002", "error")}
