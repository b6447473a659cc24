"""Raising a type's limit (varchar length, numeric precision, fractional seconds) keeps the
rows, for columns an earlier migration declared; replay on a real server agrees."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import dbtruth
from tests.helpers import write_files as _write


def test_limits_raised_on_columns_of_earlier_migrations(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {
        "001_flows.sql": "CREATE TABLE flows (id bigint PRIMARY KEY, state varchar(32), "
                         "amount numeric(10,2), seen timestamptz(0));\n"
                         "INSERT INTO flows SELECT g, 'x', 1.5, now() "
                         "FROM generate_series(1, 100) g;\n",
        "002_widen.sql": "ALTER TABLE flows ALTER COLUMN state TYPE varchar(39);\n"
                         "ALTER TABLE flows ALTER COLUMN amount TYPE numeric(12,2);\n"
                         "ALTER TABLE flows ALTER COLUMN seen TYPE timestamptz(3);\n",
        "003_narrow.sql": "ALTER TABLE flows ALTER COLUMN state TYPE varchar(20);\n"
                          "ALTER TABLE flows ALTER COLUMN amount TYPE numeric(12,3);\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--replay", "--format", "json")
    assert outcome.code in (0, 1), outcome.err
    report = json.loads(outcome.out)
    changes = [
        (Path(f["location"]["file"]).name, f["location"]["line"])
        for f in report["findings"]
        if f["code"] == "M005"
    ]
    assert changes == [("003_narrow.sql", 1), ("003_narrow.sql", 2)]
    # the server rewrote exactly where the lint predicted, and nowhere in 002
    assert report["replay"]["differences"] == []
    rewritten = {
        (Path(s["file"]).name, s["line"]) for s in report["replay"]["statements"] if s["rewritten"]
    }
    assert rewritten == {("003_narrow.sql", 1), ("003_narrow.sql", 2)}
