"""`dbtruth review --data`: section 4 shows what the rows show, as `dbtruth prove --data`
reads them — the rows that break a declared invariant, and the latent invariants every row
keeps, each as the constraint that would keep it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import EXAMPLES, dbtruth
from tests.test_prove import LEGACY_ROWS

# Two active assignments of case 7: the row the legacy application's race leaves behind.
_BROKEN = """
INSERT INTO case_assignment (case_id, user_id, valid_from)
  VALUES (7, 101, now()), (7, 102, now()), (8, 103, now());
"""


def _legacy_with_rows(folder: Path) -> Path:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", folder / "schema.sql")
    (folder / "seed.sql").write_text(LEGACY_ROWS + _BROKEN)
    return folder


def _section_4(markdown: str) -> str:
    return markdown[markdown.index("## 4. ") : markdown.index("## 5. ")]


def test_the_review_shows_broken_rows_and_latent_invariants(tmp_path: Path) -> None:
    target = _legacy_with_rows(tmp_path)
    manifest = EXAMPLES / "legacy" / "invariants.yaml"
    outcome = dbtruth("review", str(target), "--manifest", str(manifest), "--data",
                      "--scratch", "embedded")  # fmt: skip
    assert outcome.code == 0, outcome.err
    section = _section_4(outcome.out)
    row = next(line for line in section.splitlines() if "`one-active-primary-investigator`" in line)
    assert "the rows: **1 break it** (detective query; keys `7`)" in row
    assert "dbtruth does not run it" not in section
    assert "*Rows that break an invariant*" in section
    assert "| violation | `one-active-primary-investigator` |" in section
    assert "*Latent invariants" in section
    latent = next(line for line in section.splitlines() if "`public.cases.assignee_id`" in line)
    assert "REFERENCES public.users (id)" in latent and latent.endswith("| guessed |")
    # The same review without the rows says nothing of them.
    plain = dbtruth("review", str(target), "--manifest", str(manifest), "--scratch", "embedded")
    assert plain.code == 0, plain.err
    assert "Rows read" not in plain.out and "dbtruth does not run it" in _section_4(plain.out)


def test_the_html_review_carries_the_rows(tmp_path: Path) -> None:
    (tmp_path / "legacy").mkdir()
    target = _legacy_with_rows(tmp_path / "legacy")
    out = tmp_path / "review.html"
    outcome = dbtruth("review", str(target), "--data", "--scratch", "embedded", "-o", str(out))
    assert outcome.code == 0, outcome.err
    html = out.read_text()
    assert "Latent invariants" in html and "public.cases.assignee_id" in html
    # Without dbtruth.yaml there is no detective query: the rows are still read.
    assert "0 detective queries run" in html


def test_data_with_no_prove_is_one_error() -> None:
    outcome = dbtruth("review", str(EXAMPLES / "legacy"), "--data", "--no-prove")
    assert outcome.code == 2
    assert outcome.err.strip() == (
        "dbtruth: error: --data reads the rows on the copy prove makes: drop --no-prove"
    )


def test_a_snapshot_has_no_rows_to_read(tmp_path: Path) -> None:
    snapshot = Path(__file__).parent / "data" / "legacy.snapshot.json"
    outcome = dbtruth("review", str(snapshot), "--data")
    assert outcome.code == 0, outcome.err
    assert "--data: the rows were not read (not proven in this review: a snapshot" in outcome.out
    assert "Rows read" not in outcome.out
