"""`dbtruth decide`: the playbook's matrix weighted by two requirement files a reviewer can
redo by hand — a multi-tenant OLTP case system (one relational store) and an analytics and
search product (a relational core with a warehouse and a search index as projections) — and
the ADR it drafts, which `adr check` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtruth.decide.matrix import RATINGS, load_matrix
from dbtruth.manifest.requirements import WEIGHTS
from tests.helpers import EXAMPLES, dbtruth, write_files


def _decide(name: str, *more: str) -> dict:  # type: ignore[type-arg]
    outcome = dbtruth("decide", str(EXAMPLES / "decide" / name), "--format", "json", *more)
    assert outcome.code == 0, outcome.err
    return json.loads(outcome.out)  # type: ignore[no-any-return]


def test_the_matrix_is_the_playbooks() -> None:
    matrix = load_matrix()
    assert len(matrix.families) == 8 and len(matrix.requirements) == 10
    integrity = matrix.requirement("strong_relational_integrity")
    assert integrity is not None and integrity.ratings["wide_column"] == "Low"
    search = matrix.requirement("full_text_relevance_search")
    assert search is not None and search.ratings["relational_oltp"] == "Low/Medium"
    for requirement in matrix.requirements:
        assert set(requirement.ratings) == {f.key for f in matrix.families}
        assert set(requirement.ratings.values()) <= set(RATINGS)


def test_a_case_system_is_one_relational_store() -> None:
    document = _decide("case-system.yaml")
    ranking = document["ranking"]
    assert [r["family"] for r in ranking[:2]] == ["relational_oltp", "distributed_sql"]
    top = ranking[0]
    # every line is the weight times the rating, and the points are their sum
    for line in top["lines"]:
        assert line["points"] == WEIGHTS[line["weight"]] * RATINGS[line["rating"]]
    assert top["points"] == sum(line["points"] for line in top["lines"]) == 65.0
    choice = document["choice"]
    assert choice["record"] == "relational_oltp" and choice["projections"] == []
    assert choice["tradeoffs"] == [
        "Full-text relevance search (medium): the set rates it Low/Medium at best; accepted "
        "rather than adding a store"
    ]


def test_analytics_and_search_add_projections_of_the_relational_core() -> None:
    choice = _decide("analytics-search.yaml")["choice"]
    assert choice["record"] == "relational_oltp"
    assert [p["family"] for p in choice["projections"]] == ["warehouse", "search"]
    assert choice["projections"][1]["for"] == ["Full-text relevance search (critical): High"]
    assert any("3 to run" in note for note in choice["notes"])


def test_the_draft_is_an_adr_adr_check_accepts(tmp_path: Path) -> None:
    folder = tmp_path / "adr"
    document = _decide("analytics-search.yaml", "--adr", "--folder", str(folder))
    draft = Path(document["adr"])
    assert draft.parent == folder and draft.name.startswith("0001-")
    text = draft.read_text()
    assert "## Alternatives Considered\n1. Document (MongoDB, Couchbase)" in text
    assert "Search (OpenSearch, Elasticsearch, Meilisearch) as a projection of it" in text
    checked = dbtruth("adr", "check", "--folder", str(folder), "--format", "json")
    assert checked.code == 0 and json.loads(checked.out)["findings"] == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: x\nrequirements:\n  full_text_search: high\n", 3,
         "unknown requirement 'full_text_search' (hint: did you mean "
         "'full_text_relevance_search'?)"),
        ("title: x\nrequirements:\n  complex_transactions: vital\n", 3,
         "requirements.complex_transactions"),
        ("title: x\n", 1, "requirements: Field required"),
        ("- a list\n", 1, "a requirements file is a mapping"),
    ],
)  # fmt: skip
def test_a_bad_requirements_file_is_one_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write_files(tmp_path, {"req.yaml": text}) / "req.yaml"
    outcome = dbtruth("decide", str(path))
    assert outcome.code == 2 and outcome.err.count("\n") == 1
    assert f"{path}:{line}" in outcome.err and message in outcome.err
