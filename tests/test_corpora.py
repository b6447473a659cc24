"""The public corpora (../shared/corpora, or DBTRUTH_CORPORA) load and check without crashing,
and only where a corpus needs its wider platform do statements fail to load. Skipped, with the
reason shown, where the corpora are not on the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from datetime import date

from corpora import CORPORA, corpora
from dbtruth import engine
from dbtruth.manifest import Manifest
from dbtruth.report import review_html, review_markdown
from dbtruth.review import build_review
from dbtruth.sources.target import LoadOptions, load_target

_CORPORA = corpora()


@pytest.mark.skipif(not _CORPORA, reason=f"corpora not found at {CORPORA}")
@pytest.mark.parametrize("corpus", _CORPORA, ids=[c.name for c in _CORPORA])
def test_corpus_loads_and_checks(corpus: object) -> None:
    options = LoadOptions(scratch=corpus.scratch, keep_going=corpus.keep_going,  # type: ignore[attr-defined]
                          replacements=corpus.replacements)  # type: ignore[attr-defined]
    loaded = load_target(tuple(str(f) for f in corpus.files), options)  # type: ignore[attr-defined]
    assert loaded.catalog.tables
    if not corpus.keep_going:  # type: ignore[attr-defined]
        assert loaded.catalog.load_problems == ()
    result = engine.run(loaded.catalog, Manifest())
    # Findings are about the corpus's own objects and each names its object in its message.
    for finding in result.findings:
        assert finding.object.name.split("(")[0] in finding.message
    # The review of a real schema completes in both formats, draws every table once, and
    # answers every checklist question.
    review = build_review(
        loaded.catalog, Manifest(), result, target=corpus.name,  # type: ignore[attr-defined]
        manifest_path=None, target_paths=(), today=date(2026, 11, 23),
    )  # fmt: skip
    drawn = [e for block in review.sections[5].blocks if hasattr(block, "groups")
             for g in block.groups for e in g.entities]  # type: ignore[attr-defined]
    own = [t for t in loaded.catalog.tables if t.partition_of is None and t.kind != "foreign table"]
    assert len(drawn) == len(own)
    assert sum(len(part.items) for part in review.checklist) == 73
    assert review_markdown.render(review).count("\n## ") >= 18  # 15 sections + 3 appendices
    html = review_html.render(review)
    assert html.count('class="entity"') == len(own)
