"""`dbtruth drift`: a projection compared with its sources key by key on a live target, read
only — a correct copy is in step, and a copy corrupted three ways (a changed value, a missing
row, an extra row) has each key named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import dbtruth, write_files

_SCHEMA = """
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(12, 2) NOT NULL,
                     placed_at timestamptz NOT NULL);
CREATE TABLE customer_totals (customer text PRIMARY KEY, orders int NOT NULL,
                              total numeric(12, 2) NOT NULL, last_order timestamptz,
                              refreshed_at timestamptz NOT NULL DEFAULT now());
INSERT INTO orders SELECT g, 'customer ' || (g % 5000), (g % 997) / 10.0,
       timestamptz '2026-01-01' + g * interval '1 minute'
  FROM generate_series(1, 50000) g;
INSERT INTO customer_totals (customer, orders, total, last_order)
SELECT customer, count(*), sum(total), max(placed_at) FROM orders GROUP BY customer;
"""

_MANIFEST = """
truth:
  public.orders: {role: truth}
  public.customer_totals:
    role: projection
    sources: [public.orders]
    rebuild: REFRESH via the nightly totals job
    freshness: 1 hour
    refreshed_column: refreshed_at
    drift_source: >-
      SELECT customer, count(*)::int AS orders, sum(total) AS total, max(placed_at) AS last_order
        FROM orders GROUP BY customer
"""


@pytest.fixture
def shop(server: Any) -> Any:
    with server.database_with(_SCHEMA) as conninfo:
        yield conninfo


def _drift(conninfo: str, tmp_path: Path, manifest: str = _MANIFEST) -> tuple[int, Any]:
    path = write_files(tmp_path, {"dbtruth.yaml": manifest}) / "dbtruth.yaml"
    outcome = dbtruth("drift", conninfo, "--manifest", str(path), "--format", "json")
    return outcome.code, json.loads(outcome.out) if outcome.out else outcome.err


def test_a_correct_projection_is_in_step(shop: str, tmp_path: Path) -> None:
    code, document = _drift(shop, tmp_path)
    assert code == 0, document
    (projection,) = document["projections"]
    comparison = projection["comparison"]
    assert comparison["rows_copy"] == comparison["rows_source"] == 5000
    assert comparison["missing_count"] == comparison["extra_count"] == 0
    assert comparison["changed_count"] == 0
    assert projection["key"] == ["customer"]
    assert any("refreshed_at" in note for note in projection["notes"])  # not compared, said so


def test_changed_missing_and_extra_rows_are_named(shop: str, tmp_path: Path) -> None:
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("UPDATE customer_totals SET total = total + 1 WHERE customer = 'customer 7'")
        conn.execute("DELETE FROM customer_totals WHERE customer = 'customer 42'")
        conn.execute("INSERT INTO customer_totals (customer, orders, total) "
                     "VALUES ('nobody', 1, 1)")  # fmt: skip
    code, document = _drift(shop, tmp_path)
    assert code == 1
    (projection,) = document["projections"]
    comparison = projection["comparison"]
    assert comparison["changed"] == ['("customer 7")']  # keys as PostgreSQL prints a row
    assert comparison["missing"] == ['("customer 42")']
    assert comparison["extra"] == ["(nobody)"]
    assert (comparison["changed_count"], comparison["missing_count"]) == (1, 1)
    assert projection["rebuild"] == "REFRESH via the nightly totals job"
    # The target was only read.
    with psycopg.connect(shop) as conn:
        assert conn.execute("SELECT count(*) FROM customer_totals").fetchone() == (5000,)


def test_a_drift_query_that_writes_is_refused_at_its_line(shop: str, tmp_path: Path) -> None:
    hostile = _MANIFEST.replace("SELECT customer,", "WITH x AS (DELETE FROM orders RETURNING 1) "
                                "SELECT customer,")  # fmt: skip
    code, error = _drift(shop, tmp_path, hostile)
    assert code == 2 and "dbtruth.yaml:" in error and "data-modifying" in error


def test_a_copy_older_than_its_freshness_contract_is_stale(shop: str, tmp_path: Path) -> None:
    code, document = _drift(shop, tmp_path)
    assert code == 0 and document["projections"][0]["stale"] is False
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("UPDATE customer_totals SET refreshed_at = now() - interval '2 hours'")
    code, document = _drift(shop, tmp_path)
    (projection,) = document["projections"]
    assert code == 1 and projection["stale"] is True and projection["stale_seconds"] > 7000
