"""Index candidates read from query text (dbtruth.planning.candidates): the shapes a btree,
GIN or GiST can serve, resolved to their tables through aliases and joins, and never one an
existing index already is or begins with."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dbtruth.model import Catalog
from dbtruth.planning.candidates import candidates
from dbtruth.sources.introspect import read_catalog

_SCHEMA = """
CREATE TABLE customer (id bigint PRIMARY KEY, name text NOT NULL, region text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customer,
                     status text NOT NULL, total numeric, created_at timestamptz NOT NULL);
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
CREATE TABLE doc (id int PRIMARY KEY, body jsonb, tags text[], during tstzrange);
"""


@pytest.fixture(scope="module")
def catalog(pg18: Any) -> Catalog:
    name = pg18.create_database()
    with psycopg.connect(pg18.conninfo(name), autocommit=True) as conn:
        conn.execute(_SCHEMA)
        found = read_catalog(conn, "test", live=False)
    pg18.drop_database(name)
    return found


def _labels(sql: str, catalog: Catalog) -> list[str]:
    return [c.label for c in candidates(sql, catalog)]


def test_equality_then_range_then_the_returned_columns(catalog: Catalog) -> None:
    assert _labels(
        "SELECT id, total FROM orders WHERE status = $1 AND created_at > $2", catalog
    ) == [
        "public.orders (status, created_at)",
        "public.orders (status, created_at) INCLUDE (id, total)",
    ]


def test_no_candidate_an_existing_index_already_is_or_begins_with(catalog: Catalog) -> None:
    labels = _labels("SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at", catalog)
    assert labels == []  # (customer_id) and (customer_id, created_at) exist as one index


def test_a_constant_predicate_gives_a_partial_index(catalog: Catalog) -> None:
    labels = _labels("SELECT id FROM orders WHERE status = 'pending' AND total > 100", catalog)
    assert "public.orders (total) WHERE status = 'pending'" in labels


def test_columns_resolve_through_aliases_and_joins(catalog: Catalog) -> None:
    labels = _labels(
        "SELECT o.id FROM orders o JOIN customer c ON c.id = o.customer_id "
        "WHERE c.region = $1 AND o.status = $2",
        catalog,
    )
    assert "public.customer (region, id)" in labels
    assert "public.orders (status, customer_id)" in labels


def test_operators_that_need_gin_or_gist(catalog: Catalog) -> None:
    labels = _labels(
        "SELECT id FROM doc WHERE body @> '{\"a\": 1}' AND tags && ARRAY['x'] "
        "AND during && tstzrange(now(), now() + interval '1 day')",
        catalog,
    )
    assert labels == [
        "public.doc USING gin (body)",
        "public.doc USING gin (tags)",
        "public.doc USING gist (during)",
    ]


def test_writes_and_subqueries_are_read_too(catalog: Catalog) -> None:
    assert _labels(
        "UPDATE orders SET total = 0 WHERE created_at < $1 AND status IS NULL", catalog
    ) == [
        "public.orders (created_at)",
        "public.orders (created_at) WHERE status IS NULL",
    ]
    assert "public.customer (region)" in _labels(
        "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customer WHERE region = $1)",
        catalog,
    )
