"""A projection compared with what its sources say it should hold, key by key.

The copy and dbtruth.yaml's `drift_source` query over its sources live in one database, so
one hash join of the two sides' row digests (the md5 of each row's text, keyed by the key's
text) compares them whatever their sizes: equal data costs that one pass, which counts the
keys missing from the copy, those it has in excess and those whose values differ; only when
some differ is a second pass made to name them (up to KEYS of each kind). Keys and values may
be of any type: they are compared as PostgreSQL prints them, with the settings that change
that printing pinned (time zone, date style, float digits).

Each comparison reads one REPEATABLE READ snapshot, so that a write during it cannot make the
two sides disagree. A copy kept up asynchronously is then compared again in a new snapshot:
what differed only in the first was in flight, not drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.sources.sessions import print_alike

SAMPLE = 10  # keys of each kind a report shows
KEYS = 1000  # keys of each kind read back


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
    missing_count: int = 0  # keys the copy lacks
    extra_count: int = 0  # keys only the copy has
    changed_count: int = 0  # keys whose values differ
    missing: list[str] = field(default_factory=list)  # the first KEYS of each, by key
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    in_flight: int = 0  # differences gone in the second snapshot

    @property
    def drifted(self) -> int:
        return self.missing_count + self.extra_count + self.changed_count


def compare(conn: psycopg.Connection[Any], sides: Sides, recheck: bool) -> Drift:
    """One pass when the sides agree. When they differ, and recheck is asked, a new snapshot
    counts again and names the keys; what differed only in the first was in flight."""
    drift = _pass(conn, sides, name_keys=not recheck)
    if drift.drifted and recheck:
        again = _pass(conn, sides, name_keys=True)
        again.in_flight = max(0, drift.drifted - again.drifted)
        drift = again
    return drift


_KINDS = (
    ("missing", "c.k IS NULL"),
    ("extra", "s.k IS NULL"),
    ("changed", "c.k IS NOT NULL AND s.k IS NOT NULL AND c.h <> s.h"),
)


def _pass(conn: psycopg.Connection[Any], sides: Sides, *, name_keys: bool) -> Drift:
    joined = _joined(sides)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        print_alike(conn)
        row = conn.execute(
            sql.SQL(
                "SELECT count(c.k), count(s.k), count(*) FILTER (WHERE {}), "
                "count(*) FILTER (WHERE {}), count(*) FILTER (WHERE {}) FROM {}"
            ).format(*(sql.SQL(condition) for _, condition in _KINDS), joined)
        ).fetchone()
        assert row is not None
        copy, source, missing, extra, changed = (int(n) for n in row)
        drift = Drift(copy, source, missing, extra, changed)
        if drift.drifted and name_keys:
            kind = sql.SQL("CASE WHEN {} THEN 'missing' WHEN {} THEN 'extra' ELSE 'changed' END")
            rows = conn.execute(
                sql.SQL(
                    "SELECT kind, k FROM (SELECT {kind} AS kind, coalesce(c.k, s.k) AS k, "
                    "row_number() OVER (PARTITION BY {kind} ORDER BY coalesce(c.k, s.k)) AS n "
                    "FROM {joined} WHERE c.h IS DISTINCT FROM s.h) AS d WHERE n <= {keys} "
                    "ORDER BY kind, k"
                ).format(
                    kind=kind.format(sql.SQL(_KINDS[0][1]), sql.SQL(_KINDS[1][1])),
                    joined=joined,
                    keys=sql.Literal(KEYS),
                )
            ).fetchall()
            for name, key in rows:
                getattr(drift, str(name)).append(str(key))
    return drift


def _joined(sides: Sides) -> sql.Composable:
    def digest(side: sql.Composable) -> sql.Composable:
        return sql.SQL("SELECT {}::text AS k, md5({}::text) AS h FROM ({}) AS s").format(
            _row(sides.key), _row(sides.columns), side
        )

    return sql.SQL("({}) AS c FULL JOIN ({}) AS s USING (k)").format(
        digest(sides.copy), digest(sides.source)
    )


def _row(columns: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier("s", c) for c in columns))
