"""`dbtruth review`: the playbook's template filled from evidence, the checklist and the maturity
model, in Markdown and HTML, for the designed example (casefile) and the legacy one after
`dbtruth init`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import EXAMPLES, dbtruth

AS_OF = "2026-11-23"  # the casefile's last restore drill (2026-10-14) is 40 days before
SECTIONS = (
    "Decision Summary", "Context", "Source of Truth", "Critical Invariants", "Workload",
    "Proposed Design", "Transaction and Concurrency", "Index and Query Plan",
    "Security and Privacy", "Migration and Evolution", "Operations", "Failure Modes",
    "Alternatives Considered", "Decision", "Revisit Triggers",
)  # fmt: skip
# Items per checklist part in the playbook (§6.1 … §6.10).
CHECKLIST_ITEMS = (6, 6, 6, 8, 8, 8, 8, 8, 9, 6)


def _review(*argv: str) -> str:
    outcome = dbtruth("review", *argv, "--scratch", "embedded", "--as-of", AS_OF)
    assert outcome.code == 0, outcome.err
    return outcome.out


def _copy(example: str, tmp: Path) -> Path:
    folder = tmp / example
    shutil.copytree(EXAMPLES / example, folder)
    return folder


@pytest.fixture(scope="module")
def casefile() -> str:
    return _review(str(EXAMPLES / "casefile"))


@pytest.fixture(scope="module")
def legacy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _copy("legacy", tmp_path_factory.mktemp("review"))
    outcome = dbtruth("init", str(folder), "--scratch", "embedded")
    assert outcome.code == 0, outcome.err
    return folder


@pytest.fixture(scope="module")
def legacy(legacy_folder: Path) -> str:
    return _review(str(legacy_folder))


def _section(markdown: str, title: str) -> str:
    start = markdown.index(f". {title}\n")
    following = markdown.find("\n## ", start)
    return markdown[start : following if following >= 0 else None]


def _maturity(markdown: str) -> int:
    match = re.search(r"Maturity level: \*\*(\d)\*\* of 4", markdown)
    assert match, "no maturity level in the header"
    return int(match.group(1))


def _checklist_rows(markdown: str) -> list[tuple[str, str, str]]:
    part = markdown[markdown.index("## Checklist") : markdown.index("## Maturity")]
    rows = re.findall(r"^\| (.+?) \| (?:✅|❌|❔) (yes|no|unknown) \| (.*) \|$", part, re.M)
    return [(q, a, e) for q, a, e in rows]


@pytest.mark.parametrize("which", ["casefile", "legacy"])
def test_all_fifteen_sections_in_order_each_stating_its_evidence(
    which: str, request: pytest.FixtureRequest
) -> None:
    markdown: str = request.getfixturevalue(which)
    headings = re.findall(r"^## (\d+)\. (.+)$", markdown, re.M)
    assert [(int(n), t) for n, t in headings] == list(enumerate(SECTIONS, start=1))
    for title in SECTIONS:
        assert "**Evidence used:**" in _section(markdown, title), title


@pytest.mark.parametrize("which", ["casefile", "legacy"])
def test_checklist_answers_every_playbook_question_with_evidence(
    which: str, request: pytest.FixtureRequest
) -> None:
    markdown: str = request.getfixturevalue(which)
    parts = re.findall(r"^### (6\.\d+) ", markdown, re.M)
    assert parts == [f"6.{n}" for n in range(1, 11)]
    rows = _checklist_rows(markdown)
    assert len(rows) == sum(CHECKLIST_ITEMS)
    assert all(evidence.strip() for _, _, evidence in rows)


def test_casefile_reaches_a_higher_maturity_than_legacy_for_stated_reasons(
    casefile: str, legacy: str
) -> None:
    # casefile declares roles, invariants, workload contracts, operations, ADRs and practices;
    # legacy after `init` has only guesses, and one table without a primary key.
    assert _maturity(casefile) == 3
    assert _maturity(legacy) == 0
    level_1 = legacy[legacy.index("### Level 1") : legacy.index("### Level 2")]
    assert re.search(r"PK/FK/unique constraints in use \| ❌ missed \| 7 of 8 tables", level_1)
    assert "Backups exist | ❔ unknown" in level_1
    level_4 = casefile[casefile.index("### Level 4") :]
    assert "Data contract registry | ❔ unknown" in level_4  # what keeps casefile at 3
    decision = _section(casefile, "Decision")
    assert "to reach level 4: Data contract registry" in decision


def test_answers_follow_the_evidence(casefile: str, legacy: str) -> None:
    def answer(markdown: str, question: str) -> tuple[str, str]:
        return next((a, e) for q, a, e in _checklist_rows(markdown) if q.startswith(question))

    assert answer(casefile, "Is it clear what one row represents")[0] == "yes"
    verdict, evidence = answer(legacy, "Is it clear what one row represents")
    assert verdict == "no" and "public.case_attribute" in evidence  # the EAV table has no PK
    verdict, evidence = answer(casefile, "Was a restore tested")
    assert verdict == "yes" and "40 days ago" in evidence
    assert answer(legacy, "Was a restore tested")[0] == "no"
    # legacy's init draft holds guesses only: the truth is not yet named
    verdict, evidence = answer(legacy, "Is the source of truth named?")
    assert verdict == "unknown" and "guessed" in evidence
    assert answer(casefile, "Is the tenant boundary clear and enforced?")[0] == "yes"
    assert answer(legacy, "Is the tenant boundary clear and enforced?")[0] == "no"
    verdict, evidence = answer(casefile, "Are alternatives recorded?")
    assert verdict == "yes" and "1 ADR" in evidence


def test_sections_without_evidence_list_open_questions(casefile: str, legacy: str) -> None:
    assert "**Open questions:**" in _section(legacy, "Decision Summary")
    assert "**Open questions:**" not in _section(casefile, "Decision Summary")
    assert "Approve the casework schema" in _section(casefile, "Decision Summary")
    assert "**Open questions:**" in _section(legacy, "Alternatives Considered")
    # casefile's ADR supplies alternatives and revisit triggers, each citing its file
    assert "0001-append-only-state-transitions.md" in _section(casefile, "Alternatives Considered")
    assert "Transitions per case exceed 1,000" in _section(casefile, "Revisit Triggers")


def test_mermaid_diagram_has_every_table_and_foreign_key(casefile: str) -> None:
    sql = "\n".join(
        line
        for path in sorted((EXAMPLES / "casefile").glob("*.sql"))
        for line in path.read_text().splitlines()
        if not line.lstrip().startswith("--")
    )
    tables = set(re.findall(r"CREATE TABLE casework\.(\w+)", sql))
    references = len(re.findall(r"\bREFERENCES\b", sql))
    block = re.search(r"```mermaid\n(.*?)```", casefile, re.S)
    assert block, "no Mermaid block"
    lines = block.group(1).splitlines()
    assert lines[0] == "erDiagram"
    entities = set(re.findall(r"^    (\w+) \{$", block.group(1), re.M))
    assert entities == tables
    relation = re.compile(r'^    (\w+) (\|\||\|o)--(o\{|o\|) (\w+) : "[^"]+"$')
    relations = [relation.match(line) for line in lines if "--" in line]
    assert all(relations), [line for line in lines if "--" in line]
    assert len(relations) == references
    assert all(m.group(1) in entities and m.group(4) in entities for m in relations if m)
    # from_state is the one nullable reference: drawn as optional on the parent side
    assert any(m.group(2) == "|o" and m.group(4) == "case_state_transition" for m in relations if m)
    attribute = re.compile(r"^        \w+ \w+( PK| FK| UK)?(, (FK|UK))?$")
    attributes = [line for line in lines if line.startswith("        ")]
    assert attributes and all(attribute.match(line) for line in attributes), attributes


def test_a_broken_invariant_shows_in_the_review_and_costs_the_level(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    manifest = folder / "dbtruth.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace("object: casework.uq_one_active_primary_assignment",
                     "object: casework.uq_no_such_index")
    )  # fmt: skip
    markdown = _review(str(folder))
    invariants = _section(markdown, "Critical Invariants")
    assert re.search(r"`one-active-primary` .*\*\*not enforced\*\*", invariants)
    assert _maturity(markdown) == 2  # the invariant catalog criterion (level 3) is missed
    assert "Invariant catalog | ❌ missed" in markdown


def test_an_old_restore_drill_drops_to_level_one(tmp_path: Path) -> None:
    outcome = dbtruth(
        "review", str(EXAMPLES / "casefile"), "--scratch", "embedded", "--as-of", "2027-12-01"
    )
    assert outcome.code == 0, outcome.err
    assert _maturity(outcome.out) == 1
    # 2026-10-14 → 2027-10-14 is 365 days, → 2027-12-01 another 48
    assert re.search(
        r"Restore drill \| ❌ missed \| last restore drill 2026-10-14 is 413 days", outcome.out
    )


def test_missing_files_named_by_the_manifest_are_reported(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    shutil.rmtree(folder / "docs" / "runbooks")
    markdown = _review(str(folder))
    assert "runbooks named but missing: `docs/runbooks/lock-storm.md`" in markdown
    assert "Incident runbooks | ❌ missed" in markdown


def test_review_counts_every_finding_of_check(legacy_folder: Path, legacy: str) -> None:
    outcome = dbtruth("check", str(legacy_folder), "--scratch", "embedded", "--format", "json")
    findings = json.loads(outcome.out)["findings"]
    part = legacy[legacy.index("## Findings by playbook area") :]
    listed = re.findall(r"^- [🔴🟠🔵] \*\*([A-Z]\d{3}) ", part, re.M)
    assert sorted(listed) == sorted(f["code"] for f in findings)
    headings = re.findall(r"^### (.+) \((\d+)\)$", part, re.M)
    assert sum(int(n) for _, n in headings) == len(findings)


def test_init_draft_is_not_taken_for_confirmed_design(legacy_folder: Path) -> None:
    drafted = yaml.safe_load((legacy_folder / "dbtruth.yaml").read_text())
    assert all(entry.get("guess") for entry in drafted["truth"].values())


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    # an output folder that does not exist
    missing = tmp_path / "no" / "such" / "review.md"
    outcome = dbtruth(
        "review", str(EXAMPLES / "casefile"), "--scratch", "embedded", "-o", str(missing)
    )
    assert outcome.code == 2
    assert outcome.err.startswith(f"dbtruth: error: {missing}: cannot write the output")
    assert "Traceback" not in outcome.err
    # an unreadable ADR is named in the review and the rest still reads
    folder = _copy("casefile", tmp_path)
    latin1 = b"# ADR 2\n\n## Status\n\nd\xe9cid\xe9\n"
    (folder / "docs" / "adr" / "0002-latin1.md").write_bytes(latin1)
    markdown = _review(str(folder))
    assert "0002-latin1.md: not UTF-8 text (byte" in markdown
    assert "1 ADR(s)" in markdown  # 0001 still read
    # a malformed manifest stops the review before anything is loaded
    (folder / "dbtruth.yaml").write_text("context:\n  sumary: typo\n")
    outcome = dbtruth("review", str(folder), "--scratch", "embedded")
    assert outcome.code == 2
    assert "dbtruth.yaml:2" in outcome.err and "summary" in outcome.err
