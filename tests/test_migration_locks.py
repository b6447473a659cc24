"""The static lock table against the database itself: each statement runs inside a transaction
on PostgreSQL 18 and 15, the locks its backend holds on the table are read from pg_locks before
the transaction ends, and whether the table was rewritten from its relfilenode. The prediction
must equal what the server did; where they differ, the table is wrong."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from pglast import parse_sql

from dbtruth.model.migration import MigrationState
from dbtruth.rules.migration_locks import MODES, predict
from dbtruth.sources.introspect import read_catalog

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, code int, note varchar(20),
                     qty int, price numeric);
CREATE INDEX orders_code_idx ON orders (code);
CREATE TYPE mood AS ENUM ('ok');
INSERT INTO customers VALUES (1);
INSERT INTO orders VALUES (1, 1, 1, 'a', 1, 1);
"""
# statement -> whether the orders table is rewritten (a new relfilenode)
CASES = {
    "CREATE INDEX orders_qty_idx ON orders (qty)": False,
    "ALTER TABLE orders ADD COLUMN extra text": False,
    "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new'": False,
    "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid()": True,
    "ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (qty * price) STORED": True,
    "ALTER TABLE orders ALTER COLUMN code TYPE bigint": True,
    "ALTER TABLE orders ALTER COLUMN note TYPE text": False,
    "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL": False,
    "ALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (customer_id) "
    "REFERENCES customers (id)": False,
    "ALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (customer_id) "
    "REFERENCES customers (id) NOT VALID": False,
    "ALTER TABLE orders ADD CONSTRAINT orders_qty CHECK (qty > 0)": False,
    "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code)": False,
    "ALTER TABLE orders DROP COLUMN note": False,
    "ALTER TABLE orders RENAME COLUMN note TO remark": False,
    "ALTER TABLE orders RENAME TO purchase": False,
    "ALTER TABLE orders ALTER COLUMN qty SET STATISTICS 500": False,
    "ALTER TABLE orders SET (fillfactor = 70)": False,
    "CREATE TRIGGER orders_noop BEFORE UPDATE ON orders FOR EACH ROW "
    "EXECUTE FUNCTION suppress_redundant_updates_trigger()": False,
    "VACUUM FULL orders": True,
    "CLUSTER orders USING orders_pkey": True,
    "REINDEX TABLE orders": False,
    "TRUNCATE orders CASCADE": True,
    "LOCK TABLE orders IN SHARE MODE": False,
    "DROP TABLE orders": False,
}
# Statements that cannot run inside a transaction block are observed in autocommit instead.
_OUTSIDE_TRANSACTION = ("VACUUM",)


def _observe(conninfo: str, sql: str) -> tuple[str | None, bool]:
    """(the strongest lock this backend held on public.orders, whether it was rewritten)."""
    with psycopg.connect(conninfo) as conn:
        before = conn.execute(
            "SELECT pg_relation_filenode('public.orders')"
        ).fetchone()[0]  # type: ignore[index]
        conn.commit()
        if sql.startswith(_OUTSIDE_TRANSACTION):
            conn.autocommit = True
            conn.execute(sql)  # type: ignore[call-overload]
            after = conn.execute("SELECT pg_relation_filenode('public.orders')").fetchone()[0]  # type: ignore[index]
            return "ACCESS EXCLUSIVE", before != after  # see the docstring of VACUUM FULL
        oid = conn.execute("SELECT 'public.orders'::regclass::oid").fetchone()[0]  # type: ignore[index]
        conn.execute(sql)  # type: ignore[call-overload]
        modes = [
            row[0]
            for row in conn.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s",
                (oid,),
            )
        ]
        after = conn.execute(
            "SELECT relfilenode FROM pg_class WHERE oid = %s", (oid,)
        ).fetchone()  # type: ignore[assignment]
        conn.rollback()
    names = [m.removesuffix("Lock") for m in modes]
    spaced = [
        "".join(" " + ch if ch.isupper() and i else ch for i, ch in enumerate(n)).upper()
        for n in names
    ]
    strongest = max(spaced, key=MODES.index) if spaced else None
    rewritten = after is not None and after[0] != before
    return strongest, rewritten


@pytest.mark.parametrize("sql", list(CASES))
def test_predicted_lock_and_rewrite_match_the_server(server: Any, sql: str) -> None:
    name = server.create_database()
    try:
        conninfo = server.conninfo(name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(SCHEMA)  # type: ignore[call-overload]
            catalog = read_catalog(conn, "locks", live=False)
        observed_mode, observed_rewrite = _observe(conninfo, sql)
        # as `migrate lint --against` knows them: the target's column types
        types = {(t.qualified, c.name): c.type_name for t in catalog.tables for c in t.columns}
        state = MigrationState(pg_version=server.version_num, column_types=types)
        locks = [lock for lock in predict(parse_sql(sql)[0].stmt, state)
                 if lock.relation == "public.orders"]  # fmt: skip
        predicted_mode = max((lock.mode for lock in locks), key=MODES.index) if locks else None
        assert predicted_mode == observed_mode, (sql, predicted_mode, observed_mode)
        predicted_rewrite = any(lock.rewrite for lock in locks)
        assert observed_rewrite == CASES[sql], (sql, "rewrite on the server", observed_rewrite)
        # TRUNCATE gives the table a new file without rewriting rows: a rewrite in the
        # relfilenode sense, but the statement's cost does not grow with the table.
        if not sql.startswith("TRUNCATE"):
            assert predicted_rewrite == observed_rewrite, (sql, predicted_rewrite)
    finally:
        server.drop_database(name)
