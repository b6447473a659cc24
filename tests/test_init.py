"""`dbtruth init`: a first manifest that loads, records every constraint as an invariant
pointing at its object, marks its guesses, leaves TODOs, and never overwrites by accident."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dbtruth.manifest.config import load_manifest
from tests.helpers import EXAMPLES, dbtruth


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("casefile")
    for sql in (EXAMPLES / "casefile").glob("*.sql"):
        shutil.copy(sql, folder)
    outcome = dbtruth("init", str(folder), "--scratch", "embedded")
    assert outcome.code == 0, outcome.err
    return folder / "dbtruth.yaml"


def test_draft_loads_and_guesses_roles_from_names(drafted: Path) -> None:
    manifest = load_manifest(drafted)
    roles = {name: entry.role for name, entry in manifest.truth.items()}
    assert roles["casework.case_state_transition"] == "audit"
    assert roles["casework.outbox_event"] == "outbox"
    assert roles["casework.case_state"] == "reference"
    assert roles["casework.case_file"] == "truth"
    assert roles["casework.open_case"] == "projection"  # a view
    assert all(entry.guess for entry in manifest.truth.values())
    assert all(entry.owner and entry.owner.startswith("TODO") for entry in manifest.truth.values())
    assert manifest.tenancy.key == ["tenant_id"]


def test_every_constraint_and_unique_index_becomes_an_enforced_invariant(drafted: Path) -> None:
    manifest = load_manifest(drafted)
    objects = {i.object for i in manifest.invariants}
    # From 003_assignment.sql: the interval CHECK, the partial unique index and the exclusion.
    assert {"casework.chk_assignment_interval", "casework.uq_one_active_primary_assignment",
            "casework.no_overlapping_assignment"} <= objects
    partial = next(i for i in manifest.invariants
                   if i.object == "casework.uq_one_active_primary_assignment")
    assert partial.enforcement == "index" and partial.predicate
    # Checking the casefile with the draft: every invariant it wrote is enforced as written.
    outcome = dbtruth("check", str(drafted.parent), "--scratch", "embedded", "--format", "json",
                      "--select", "I009,I010,T001,T002")
    assert outcome.code == 0, outcome.out
    assert json.loads(outcome.out)["findings"] == []


def test_draft_leaves_the_kata_open_questions(drafted: Path) -> None:
    text = drafted.read_text()
    assert "Name the illegal states." in text
    assert "TODO (kata 5-6)" in text and "TODO (kata 9)" in text


def test_init_never_overwrites_without_force(drafted: Path) -> None:
    before = drafted.read_text()
    refused = dbtruth("init", str(drafted.parent), "--scratch", "embedded")
    assert refused.code == 2 and "already exists; not overwritten" in refused.err
    assert drafted.read_text() == before
    drafted.write_text("# edited by hand\n")
    forced = dbtruth("init", str(drafted.parent), "--scratch", "embedded", "--force")
    assert forced.code == 0 and drafted.read_text() == before


def test_todo_contract_parts_count_as_missing(tmp_path: Path) -> None:
    (tmp_path / "s.sql").write_text("CREATE TABLE session_cache (id int PRIMARY KEY);\n")
    (tmp_path / "dbtruth.yaml").write_text(
        "truth:\n  public.session_cache:\n    role: cache\n    sources: ['TODO: which']\n"
        "    rebuild: 'TODO: how'\n    freshness: 1 min\n    drift_check: none\n")
    outcome = dbtruth("check", str(tmp_path), "--scratch", "embedded", "--format", "json",
                      "--select", "T001")
    findings = json.loads(outcome.out)["findings"]
    assert [f["evidence"]["missing"] for f in findings] == ["sources, rebuild"]
