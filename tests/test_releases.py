"""A table created earlier in the same release is new and empty in production when the later
migration runs: its findings are info, saying why; another release, or no release at all, is
judged as a table that holds data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtruth.sources.releases import release_name, release_of
from tests.helpers import dbtruth
from tests.helpers import write_files as _write

_CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
_INDEX = "CREATE INDEX orders_note ON orders (note);\n"


def _index_build(folder: Path) -> dict[str, object]:
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "json")
    assert outcome.code in (0, 1), outcome.err
    (found,) = [f for f in json.loads(outcome.out)["findings"] if f["code"] == "M001"]
    return found  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "files",
    [
        {"73/01_orders.sql": _CREATE, "73/02_index.sql": _INDEX},  # Synapse's version folders
        {"v1.5/a.sql": _CREATE, "v1.5/b.sql": _INDEX},  # Temporal's
        {"20230924232619_init/migration.sql": _CREATE,  # Prisma, same day
         "20230924232620_more/migration.sql": _INDEX},
        {"20200830154602000000_a.up.sql": _CREATE, "20200830170000000000_b.up.sql": _INDEX},
    ],
    ids=["version folder", "v-folder", "prisma same day", "popx same day"],
)  # fmt: skip
def test_same_release_is_info_and_says_why(tmp_path: Path, files: dict[str, str]) -> None:
    found = _index_build(_write(tmp_path / "m", files))
    assert found["severity"] == "info"
    assert "same release" in found["message"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "files",
    [
        {"72/01_orders.sql": _CREATE, "73/02_index.sql": _INDEX},
        {"20230924232619_init/migration.sql": _CREATE,  # 15 days later: no longer young
         "20231009090000_more/migration.sql": _INDEX},
        {"001_orders.sql": _CREATE, "002_index.sql": _INDEX},  # no release to be seen
    ],
    ids=["next version", "fifteen days later", "plain numbers"],
)  # fmt: skip
def test_another_release_holds_data(tmp_path: Path, files: dict[str, str]) -> None:
    found = _index_build(_write(tmp_path / "m", files))
    assert found["severity"] == "warning"
    assert "same release" not in found["message"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("files", "days"),
    [
        ({"20230924232619_init/migration.sql": _CREATE,
          "20230925090000_more/migration.sql": _INDEX}, "1 day"),
        ({"20200830154602000000_a.up.sql": _CREATE,
          "20200913170000000000_b.up.sql": _INDEX}, "14 days"),
    ],
    ids=["next day", "two weeks"],
)  # fmt: skip
def test_a_table_created_days_before_is_young_and_small(
    tmp_path: Path, files: dict[str, str], days: str
) -> None:
    found = _index_build(_write(tmp_path / "m", files))
    assert found["severity"] == "info"
    assert f"{days} earlier (dates from the migrations' names)" in found["message"]  # type: ignore[operator]


def test_an_index_dropped_earlier_is_built_again(tmp_path: Path) -> None:
    # The DROP forgets the index, so the later CREATE INDEX IF NOT EXISTS builds it: reported.
    folder = _write(tmp_path / "m", {
        "001_orders.sql": _CREATE + _INDEX,
        "002_rebuild.sql": "DROP INDEX orders_note;\n"
                           "CREATE INDEX IF NOT EXISTS orders_note ON orders (lower(note));\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "json", "--select", "M001")
    findings = json.loads(outcome.out)["findings"]
    found = [f for f in findings if "002_rebuild" in f["location"]["file"]]
    assert [f["severity"] for f in found] == ["warning"], outcome.out


def test_release_keys() -> None:
    assert release_of(Path("a/delta/73/01.sql")) == release_of(Path("a/delta/73/02.sql"))
    assert release_of(Path("a/delta/73/01.sql")) != release_of(Path("b/delta/73/01.sql"))
    assert release_of(Path("m/001_x.sql")) is None
    assert release_name(release_of(Path("m/20240101120000_x/up.sql")) or "") == "dated 20240101"
