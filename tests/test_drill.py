"""`dbtruth drill restore` and `drill verify`: a seeded database dumped, restored on a scratch
server of its version and proven equal (schema, rows, checksums, constraints, amcheck), and a
restore corrupted three ways — a deleted row, a dropped constraint, a changed value — failing."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import EXAMPLES, dbtruth

# 60,000 rows over three tables, a foreign key, a check, a partial index, an expression index,
# values whose text depends on session settings (timestamps, floats, bytea, intervals).
_SEED = """
CREATE TABLE customer (id bigint PRIMARY KEY, email text NOT NULL UNIQUE,
                       created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE invoice (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer,
                      amount numeric(12, 2) NOT NULL CHECK (amount >= 0), rate float8,
                      due interval, blob bytea, paid boolean NOT NULL DEFAULT false);
CREATE INDEX invoice_unpaid_idx ON invoice (customer_id) WHERE NOT paid;
CREATE INDEX customer_lower_email_idx ON customer (lower(email));
CREATE TABLE audit_log (at timestamptz NOT NULL, note text);  -- no primary key
INSERT INTO customer SELECT g, 'c' || g || '@example.org',
       timestamptz '2025-01-01 00:00:00.123456+00' + g * interval '1 minute'
  FROM generate_series(1, 20000) g;
INSERT INTO invoice SELECT g, 1 + g % 20000, (g % 1000) / 7.0, g / 3.0, g * interval '1 s',
       decode(md5(g::text), 'hex'), g % 3 = 0
  FROM generate_series(1, 30000) g;
INSERT INTO audit_log SELECT now() - g * interval '1 hour', 'event ' || g
  FROM generate_series(1, 10000) g;
"""


@pytest.fixture
def seeded(server: Any) -> Any:
    with server.database_with(_SEED) as conninfo:
        yield server, conninfo


def test_a_drill_restores_and_proves_the_restore_equal(seeded: Any) -> None:
    _, source = seeded
    outcome = dbtruth("drill", "restore", source, "--format", "json", "--scratch", "auto")
    assert outcome.code == 0, outcome.out + outcome.err
    document = json.loads(outcome.out)
    assert document["passed"] and document["schema_difference_count"] == 0
    rows = {t["table"]: t["source_rows"] for t in document["tables"]}
    assert rows == {"public.customer": 20000, "public.invoice": 30000, "public.audit_log": 10000}
    assert all(t["equal"] and t["share"] == 1.0 for t in document["tables"])
    assert document["amcheck"]["checked"] >= 5 and not document["amcheck"]["failures"]
    assert document["dump_bytes"] > 0 and document["seconds"]["rto"] > 0
    # The source was only read.
    with psycopg.connect(source) as conn:
        assert conn.execute("SELECT count(*) FROM invoice").fetchone() == (30000,)


def test_large_tables_are_compared_by_a_sample_keyed_on_their_primary_key(seeded: Any) -> None:
    _, source = seeded
    outcome = dbtruth("drill", "restore", source, "--format", "json", "--full-bytes", "100000",
                      "--sample-share", "0.25")  # fmt: skip
    assert outcome.code == 0, outcome.out
    tables = {t["table"]: t for t in json.loads(outcome.out)["tables"]}
    assert tables["public.invoice"]["share"] == 0.25
    assert 0.15 * 30000 < tables["public.invoice"]["source_rows"] < 0.35 * 30000
    assert tables["public.audit_log"]["share"] == 1.0  # no key to sample by: every row
    assert "no primary key" in tables["public.audit_log"]["note"]


@pytest.mark.parametrize(
    ("corruption", "words"),
    [
        ("DELETE FROM invoice WHERE id = 777", "public.invoice: 30,000 rows on the source, 29,999"),
        ("UPDATE customer SET email = 'x' || email WHERE id = 5", "public.customer"),
        ("ALTER TABLE invoice DROP CONSTRAINT invoice_amount_check",
         "missing from the restore: constraint public.invoice.invoice_amount_check"),
    ],
)  # fmt: skip
def test_a_corrupted_restore_fails_verification(
    seeded: Any, corruption: str, words: str
) -> None:
    server, source = seeded
    copy = server.create_database()
    try:
        restored = server.conninfo(copy)
        outcome = dbtruth("drill", "restore", source, "--to", restored)
        assert outcome.code == 0, outcome.out + outcome.err
        with psycopg.connect(restored, autocommit=True) as conn:
            conn.execute(corruption)  # type: ignore[arg-type]
        verified = dbtruth("drill", "verify", source, "--restored", restored)
        assert verified.code == 1, verified.out
        assert words in verified.out and "FAILED" in verified.out
    finally:
        server.drop_database(copy)


def test_a_drill_never_restores_over_data(seeded: Any) -> None:
    _, source = seeded
    outcome = dbtruth("drill", "restore", source, "--to", source)
    assert outcome.code == 2 and "is not empty" in outcome.err


def test_a_drill_needs_a_live_database() -> None:
    outcome = dbtruth("drill", "restore", str(EXAMPLES / "casefile"))
    assert outcome.code == 2 and "dumps a live database" in outcome.err


def test_a_recorded_drill_is_what_the_review_answers_from(
    seeded: Any, tmp_path: Path
) -> None:
    _, source = seeded
    history = tmp_path / "casefile" / "drills.jsonl"
    shutil.copytree(EXAMPLES / "casefile", tmp_path / "casefile")
    outcome = dbtruth("drill", "restore", source, "--record", str(history))
    assert outcome.code == 0, outcome.out + outcome.err
    (line,) = history.read_text().splitlines()
    assert json.loads(line)["passed"] is True
    manifest = tmp_path / "casefile" / "dbtruth.yaml"
    pointer = "  restore_drill_history: drills.jsonl\n  restore_drill: {"
    manifest.write_text(manifest.read_text().replace("  restore_drill: {", pointer))
    review = dbtruth("review", str(tmp_path / "casefile"), "--scratch", "embedded", "--no-prove")
    assert review.code == 0, review.err
    assert re.search(r"\| ✅ yes \| measured: a restore drill on \d{4}-\d\d-\d\d", review.out)
    # A history that is not one is an error at its line, never a silent skip.
    history.write_text(line + "\n{not json\n")
    broken = dbtruth("review", str(tmp_path / "casefile"), "--scratch", "embedded", "--no-prove")
    assert broken.code == 2 and f"{history}:2" in broken.err


LARGE = os.environ.get("DBTRUTH_LARGE_DRILL")


@pytest.mark.skipif(not LARGE, reason="set DBTRUTH_LARGE_DRILL=1 to drill a 1 GB database "
                    "(minutes; out of the default run)")  # fmt: skip
def test_a_drill_of_a_gigabyte(pg18: Any) -> None:
    name = pg18.create_database()
    try:
        conninfo = pg18.conninfo(name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE entry (id bigint PRIMARY KEY, account bigint NOT NULL, "
                "amount numeric(12, 2) NOT NULL, memo text NOT NULL, at timestamptz NOT NULL)"
            )
            conn.execute(
                "INSERT INTO entry SELECT g, g % 100000, (g % 100000) / 100.0, md5(g::text) "
                "|| md5((g + 1)::text), now() - g * interval '1 s' "
                "FROM generate_series(1, 7000000) g"
            )
            conn.execute("CREATE INDEX entry_account_idx ON entry (account)")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        assert size is not None and size[0] >= 1 << 30
        outcome = dbtruth("drill", "restore", conninfo, "--format", "json", "--jobs", "2",
                          "--statement-timeout", "30min")  # fmt: skip
        document = json.loads(outcome.out)
        assert outcome.code == 0 and document["passed"], outcome.out
        (entry,) = document["tables"]
        assert entry["share"] == 1.0 and entry["source_rows"] == 7000000
    finally:
        pg18.drop_database(name)
