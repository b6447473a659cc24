"""How many rows each table holds after dbtruth loaded SQL files into its scratch database.

Sample databases (pagila, northwind) and seed files carry their own data; the counts are what
that data is, observed where it was loaded, and never stand in for a live server's statistics.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from dbtruth.model import LoadedRows

# Counting stops here: a table this big is no small table at any sensible threshold, and an
# exact count of a large data dump would cost seconds for nothing.
COUNT_LIMIT = 1_000_000
# Tables counted per query: one round trip for a sample database, a few for a large dump.
BATCH = 200


def read_loaded_rows(
    conn: psycopg.Connection[Any], tables: list[tuple[str, str]]
) -> tuple[LoadedRows, ...]:
    """Row counts of `tables` (schema, name: the tables with storage), counted up to
    COUNT_LIMIT; tables that turn out empty are left out."""
    counted: list[LoadedRows] = []
    for start in range(0, len(tables), BATCH):
        batch = tables[start : start + BATCH]
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT {}::int, (SELECT count(*) FROM (SELECT FROM ONLY {} LIMIT {}) s)"
            ).format(sql.Literal(i), sql.Identifier(schema, name), sql.Literal(COUNT_LIMIT))
            for i, (schema, name) in enumerate(batch)
        )
        try:
            with conn.transaction(), conn.cursor() as cur:
                # Row-level security would run the policies' expressions (the input's own
                # code): with it off, PostgreSQL refuses instead, and the batch goes uncounted.
                cur.execute("SET LOCAL row_security = off")
                cur.execute(query)
                rows = cur.fetchall()
        except psycopg.Error:
            continue
        for i, count in rows:
            if count > 0:
                schema, name = batch[i]
                counted.append(LoadedRows(schema, name, count, at_least=count >= COUNT_LIMIT))
    return tuple(counted)
