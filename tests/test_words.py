"""English counts in dbtruth's prose: the review once said "1 views" and "3 table(s)"."""

from __future__ import annotations

import pytest

from dbtruth.words import counted, plural, verb


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [
        (1, "view", "1 view"),
        (0, "view", "0 views"),
        (3, "index", "3 indexes"),
        (2, "query", "2 queries"),
        (2, "day", "2 days"),  # a vowel before y: days, not daies
        (2, "foreign key", "2 foreign keys"),  # only the last word changes
        (2, "match", "2 matches"),
        (1.0, "row", "1.0 row"),
    ],
)
def test_counted(count: float, word: str, expected: str) -> None:
    assert counted(count, word) == expected


def test_verb_agrees_with_the_count() -> None:
    assert f"1 {plural('table', 1)} {verb(1, 'has', 'have')} no role" == "1 table has no role"
    assert f"2 {plural('table', 2)} {verb(2, 'has', 'have')} no role" == "2 tables have no role"
