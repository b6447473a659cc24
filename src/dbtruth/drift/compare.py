"""A projection compared with what its sources say it should hold, key by key, in one read.

Both sides — the copy, and dbtruth.yaml's `drift_source` query over its sources — are cut
into buckets by a hash of each row's key; per bucket the row count and the sum of the rows'
hashes (60 bits of the md5 of the row's text, summed exactly) are compared. Equal data costs
that one pass over each side. Only the buckets that differ are read again key by key, to name
the keys missing from the copy, the ones it has in excess, and the ones whose values differ.
Keys and values may be of any type: they are compared as PostgreSQL prints them, with the
settings that change that printing pinned (time zone, date style, float digits).

Everything is read in one REPEATABLE READ snapshot, so that a write during the check cannot
make the two sides disagree; a copy kept up asynchronously is then rechecked in a second
snapshot, and a key that agrees there was in flight, not drifted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

_SAME_TEXT = (
    "SET LOCAL TimeZone = 'UTC'", "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'", "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
)  # fmt: skip
SAMPLE = 10


@dataclass
class Sides:
    copy: sql.Composable  # SELECT of the copy's columns
    source: sql.Composable  # dbtruth.yaml's drift_source
    key: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass
class Drift:
    rows_copy: int = 0
    rows_source: int = 0
    buckets: int = 0
    buckets_differing: int = 0
    missing: list[str] = field(default_factory=list)  # keys the copy lacks
    extra: list[str] = field(default_factory=list)  # keys only the copy has
    changed: list[str] = field(default_factory=list)  # keys whose values differ
    in_flight: int = 0  # differences gone in the recheck

    @property
    def drifted(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.changed)


def compare(conn: psycopg.Connection[Any], sides: Sides, buckets: int, recheck: bool) -> Drift:
    drift = Drift(buckets=buckets)
    with conn.transaction():
        _snapshot(conn)
        copy = _buckets(conn, sides.copy, sides, buckets)
        source = _buckets(conn, sides.source, sides, buckets)
        drift.rows_copy = sum(n for n, _ in copy.values())
        drift.rows_source = sum(n for n, _ in source.values())
        differing = sorted(b for b in copy.keys() | source.keys() if copy.get(b) != source.get(b))
        drift.buckets_differing = len(differing)
        if not differing:
            return drift
        found = _keys(conn, sides, buckets, differing)
    if recheck:
        with conn.transaction():
            _snapshot(conn)
            again = _keys(conn, sides, buckets, differing)
        still = {k: v for k, v in found.items() if again.get(k) == v}
        drift.in_flight = len(found) - len(still)
        found = still
    for key, kind in sorted(found.items()):
        getattr(drift, kind).append(key)
    return drift


def _snapshot(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    for statement in _SAME_TEXT:
        conn.execute(statement)


def _row(columns: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier("s", c) for c in columns))


def _bucket(sides: Sides, buckets: int) -> sql.Composable:
    return sql.SQL("abs(hashtext({}::text)) % {}").format(_row(sides.key), sql.Literal(buckets))


def _buckets(
    conn: psycopg.Connection[Any], side: sql.Composable, sides: Sides, buckets: int
) -> dict[int, tuple[int, str]]:
    query = sql.SQL(
        "SELECT {bucket}, count(*), coalesce(sum(('x' || substr(md5({row}::text), 1, 15))"
        "::bit(60)::bigint), 0)::text FROM ({side}) AS s GROUP BY 1"
    ).format(bucket=_bucket(sides, buckets), row=_row(sides.columns), side=side)
    return {int(b): (int(n), str(h)) for b, n, h in conn.execute(query).fetchall()}


def _keys(
    conn: psycopg.Connection[Any], sides: Sides, buckets: int, differing: list[int]
) -> dict[str, str]:
    """Each key of the differing buckets that differs, and how: 'missing' from the copy,
    'extra' in it, or 'changed'."""

    def side(query: sql.Composable) -> dict[str, str]:
        statement = sql.SQL(
            "SELECT {key}::text, md5({row}::text) FROM ({side}) AS s WHERE {bucket} = ANY({ids})"
        ).format(
            key=_row(sides.key),
            row=_row(sides.columns),
            side=query,
            bucket=_bucket(sides, buckets),
            ids=sql.Literal(differing),
        )
        return {str(k): str(h) for k, h in conn.execute(statement).fetchall()}

    copy, source = side(sides.copy), side(sides.source)
    found = {k: "missing" for k in source.keys() - copy.keys()}
    found |= {k: "extra" for k in copy.keys() - source.keys()}
    found |= {k: "changed" for k in copy.keys() & source.keys() if copy[k] != source[k]}
    return found
