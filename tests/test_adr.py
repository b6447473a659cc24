"""`dbtruth adr new` and `adr check` on real folders: numbering and shapes, and the casefile
ADR whose confirmations hold on its schema until the schema changes under it — then both
`adr check` and the review say it is contradicted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import EXAMPLES, dbtruth, write_files


def test_new_numbers_after_the_folder_and_keeps_its_shape(tmp_path: Path) -> None:
    nygard = write_files(tmp_path, {"doc/adr/0001-record-architecture-decisions.md": (
        "# 1. Record architecture decisions\n\nDate: 2024-01-31\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nx\n\n## Decision\n\ny\n\n## Consequences\n\nz\n")}) / "doc/adr"  # fmt: skip
    outcome = dbtruth("adr", "new", "Use PostgreSQL for cases", "--folder", str(nygard))
    assert outcome.code == 0, outcome.err
    written = nygard / "0002-use-postgresql-for-cases.md"
    assert outcome.out.strip() == str(written)
    text = written.read_text()
    assert text.startswith("# 2. Use PostgreSQL for cases\n\nDate: ")
    fresh = tmp_path / "adr"
    for title in ("First decision", "Second: with punctuation!"):
        assert dbtruth("adr", "new", title, "--folder", str(fresh)).code == 0
    names = sorted(p.name for p in fresh.iterdir())
    assert names == ["0001-first-decision.md", "0002-second-with-punctuation.md"]
    assert (fresh / "0001-first-decision.md").read_text().startswith("# ADR 0001: First decision")
    madr = tmp_path / "madr"
    assert dbtruth("adr", "new", "One", "--folder", str(madr), "--shape", "madr").code == 0
    assert dbtruth("adr", "new", "Two", "--folder", str(madr)).code == 0
    assert (madr / "0002-two.md").read_text().startswith("---\nstatus: proposed\n")
    # what `new` writes has every section: only a filled-in ADR can be judged further
    for folder in (nygard, fresh, madr):
        checked = dbtruth("adr", "check", "--folder", str(folder), "--format", "json",
                          "--select", "D001,D003,D005")  # fmt: skip
        findings = json.loads(checked.out)["findings"]
        # only the hand-written ADR 1 of the Nygard folder lacks revisit triggers
        assert [(f["code"], f["object"]["path"]) for f in findings] == (
            [("D003", "0001-record-architecture-decisions.md")] if folder == nygard else []
        )
    refused = dbtruth("adr", "new", "   ", "--folder", str(fresh))
    assert refused.code == 2 and "needs a title" in refused.err


def test_casefile_confirmations_hold_until_the_schema_changes(tmp_path: Path) -> None:
    outcome = dbtruth("adr", "check", str(EXAMPLES / "casefile"), "--format", "json")
    assert outcome.code == 0, outcome.out + outcome.err
    (adr,) = json.loads(outcome.out)["adrs"]
    assert [c["verdict"] for c in adr["confirmations"]] == ["holds", "holds", "holds"]
    assert adr["revisit_watches"][0]["value"] == 0 and not adr["revisit_watches"][0]["fired"]

    changed = tmp_path / "casefile"
    shutil.copytree(EXAMPLES / "casefile", changed)
    (changed / "006_drop_guard.sql").write_text(
        "DROP TRIGGER case_state_transition_append_only ON casework.case_state_transition;\n"
    )
    outcome = dbtruth("adr", "check", str(changed), "--format", "json")
    assert outcome.code == 1
    document = json.loads(outcome.out)
    contradicted = [f for f in document["findings"] if f["code"] == "D006"]
    assert len(contradicted) == 2
    assert {f["location"]["line"] for f in contradicted} == {52, 54}
    verdicts = {c["reference"]: c["verdict"] for c in document["adrs"][0]["confirmations"]}
    assert verdicts == {"transitions-immutable": "fails", "case-state-machine": "holds",
                        "H004": "fails"}  # fmt: skip

    review = tmp_path / "review.md"
    assert dbtruth("review", str(changed), "-o", str(review)).code in (0, 1)
    text = review.read_text()
    assert "— **contradicted by the schema**" in text
    assert "invariant: transitions-immutable: **fails**" in text
    # The ADR sits at the top of the sections it decides: §4 by its confirmations (declared),
    # §3 by the words of its decision (a guess, said to be one).
    invariants = text.split("## 4. Critical Invariants", 1)[1].split("\n## 5.", 1)[0]
    assert "Decided by: ADR 0001" in invariants
    assert "`invariant: transitions-immutable`" in invariants and "(declared)" in invariants
    truth = text.split("## 3. Source of Truth", 1)[1].split("\n## 4.", 1)[0]
    assert "Decided by: ADR 0001" in truth and "“denormali”" in truth and "(guessed)" in truth
    assert "ADR 0001 decides §3 Source of Truth (guessed), §4 Critical Invariants" in text


def test_without_a_folder_is_one_line(tmp_path: Path) -> None:
    outcome = dbtruth("adr", "check", "--folder", str(tmp_path / "missing"))
    assert outcome.code == 2 and "no ADR folder" in outcome.err


_UNINDEXED = """\
CREATE TABLE parent (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE child (id bigint PRIMARY KEY,
                    parent_id bigint NOT NULL REFERENCES parent ON DELETE CASCADE);
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 100) g;
INSERT INTO child SELECT g, g % 100 + 1 FROM generate_series(1, 5000) g;
"""


def _fenced_sql(text: str) -> str:
    return text.split("```sql\n", 1)[1].split("```", 1)[0]


def test_a_draft_from_a_finding_becomes_the_decision_its_fix_confirms(tmp_path: Path) -> None:
    schema = write_files(tmp_path / "schema", {"001_schema.sql": _UNINDEXED})
    adrs = tmp_path / "adr"
    drafted = dbtruth("adr", "draft", "--from-finding", "I002:public.child.child_parent_id_fkey",
                      str(schema), "--folder", str(adrs))  # fmt: skip
    assert drafted.code == 0, drafted.err
    path = Path(drafted.out.strip())
    text = path.read_text()
    # The evidence is the context, the fix the proposed decision, its confirmation the rule.
    assert f"{schema / '001_schema.sql'}:2" in text and "on delete: cascade" in text
    assert "CREATE INDEX CONCURRENTLY" in _fenced_sql(text)
    assert "- check: I002 public.child.child_parent_id_fkey" in text

    # Proposed: well formed (no D001-D005, D008) and not contradicted while undecided.
    proposed = dbtruth("adr", "check", str(schema), "--folder", str(adrs), "--format", "json")
    assert proposed.code == 0, proposed.out + proposed.err
    document = json.loads(proposed.out)
    assert document["findings"] == []
    assert [c["verdict"] for c in document["adrs"][0]["confirmations"]] == ["fails"]

    # Accepted and not applied: the schema contradicts it.
    path.write_text(text.replace("## Status\nProposed", "## Status\nAccepted"))
    accepted = dbtruth("adr", "check", str(schema), "--folder", str(adrs), "--format", "json")
    assert accepted.code == 1
    assert [f["code"] for f in json.loads(accepted.out)["findings"]] == ["D006"]

    # The decision's own SQL applied: the confirmation holds.
    (schema / "002_decision.sql").write_text(_fenced_sql(text))
    applied = dbtruth("adr", "check", str(schema), "--folder", str(adrs), "--format", "json")
    assert applied.code == 0, applied.out + applied.err
    assert [c["verdict"] for c in json.loads(applied.out)["adrs"][0]["confirmations"]] == ["holds"]


def test_a_draft_needs_a_finding_that_is_there(tmp_path: Path) -> None:
    schema = write_files(tmp_path / "schema", {"001_schema.sql": _UNINDEXED})
    adrs = tmp_path / "adr"
    cases = {
        "I002": "give CODE:object",
        "Z999:public.child": "no dbtruth rule 'Z999'",
        "M001:public.child": "a draft is drawn from a finding of `dbtruth check`",
        "I002:public.parent": "reports nothing on public.parent",
    }
    for ref, message in cases.items():
        outcome = dbtruth("adr", "draft", "--from-finding", ref, str(schema), "--folder", str(adrs))
        assert outcome.code == 2 and message in outcome.err, (ref, outcome.err)
        assert len(outcome.err.strip().splitlines()) == 1
    # The miss names what the rule does report, so the right object is one copy away.
    missed = dbtruth("adr", "draft", "--from-finding", "I002:public.parent", str(schema),
                     "--folder", str(adrs))  # fmt: skip
    assert "public.child.child_parent_id_fkey" in missed.err
    assert not adrs.exists() or not list(adrs.iterdir())
