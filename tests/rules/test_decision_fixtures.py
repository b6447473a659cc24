"""Every decision rule from its YAML fixture: the case's ADRs are written into a folder beside
a dbtruth.yaml naming it (with the case's `manifest` sections), and `dbtruth adr check` judges
them — with the case's `schema` as its target when it has one (SQL files loaded into a scratch
server), else the ADRs alone. The rule must fire on exactly the ADR files of `expect` (one
entry per finding), each message containing every `message_contains`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import dbtruth, write_files
from tests.rules.cases import fixture_cases


@pytest.mark.parametrize(("code", "case"), fixture_cases("decision"))
def test_decision_fixture(code: str, case: dict[str, Any], tmp_path: Path) -> None:
    manifest = {**(case.get("manifest") or {}), "decisions": {"adr_folder": "adr"}}
    files = {f"adr/{name}": text for name, text in case["adrs"].items()}
    files["dbtruth.yaml"] = yaml.safe_dump(manifest)
    if case.get("schema"):
        files["schema.sql"] = case["schema"]
    folder = write_files(tmp_path, files)
    target = [str(folder)] if case.get("schema") else []
    outcome = dbtruth("adr", "check", *target, "--manifest", str(folder / "dbtruth.yaml"),
                      "--select", code, "--format", "json", "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    findings = [f for f in json.loads(outcome.out)["findings"] if f["code"] == code]
    objects = sorted(f["object"]["path"] for f in findings)
    assert objects == sorted(case.get("expect") or []), [f["message"] for f in findings]
    for word in case.get("message_contains", []):
        assert all(word in f["message"] for f in findings), (word, findings)
    for finding in findings:  # placed in its ADR's file, at a line of it
        assert finding["location"]["file"].endswith(finding["object"]["path"])
