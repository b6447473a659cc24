"""The static lock table against the database itself: each statement runs inside a transaction
on PostgreSQL 18 and 15, the locks its backend holds on the table are read from pg_locks before
the transaction ends, and whether the table was rewritten from its relfilenode. The prediction
must equal what the server did; where they differ, the table is wrong."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from pglast import parse_sql
from pglast import parser as pg_parser

from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import MODES, predict
from dbtruth.rules.migration_state import after_statement
from dbtruth.sources.introspect import read_catalog

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, code int, note varchar(20),
                     qty int, price numeric);
CREATE INDEX orders_code_idx ON orders (code);
CREATE TYPE mood AS ENUM ('ok');
CREATE FUNCTION stable_code() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'a'; END $$;
CREATE FUNCTION volatile_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a'; END $$;
-- VOLATILE too, but the planner inlines a one-expression SQL function: its body decides
CREATE FUNCTION inlined_code() RETURNS text LANGUAGE sql AS $$ SELECT 'a' $$;
CREATE FUNCTION inlined_random() RETURNS text LANGUAGE sql RETURN md5(random()::text);
INSERT INTO customers VALUES (1);
INSERT INTO orders VALUES (1, 1, 1, 'a', 1, 1);
"""
# statement -> whether the orders table is rewritten (a new relfilenode)
CASES = {
    "CREATE INDEX orders_qty_idx ON orders (qty)": False,
    "ALTER TABLE orders ADD COLUMN extra text": False,
    "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new'": False,
    "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid()": True,
    "ALTER TABLE orders ADD COLUMN xid bigint DEFAULT txid_current()": False,  # stable
    "ALTER TABLE orders ADD COLUMN label text DEFAULT stable_code()": False,
    "ALTER TABLE orders ADD COLUMN label text DEFAULT volatile_code()": True,
    "ALTER TABLE orders ADD COLUMN label text DEFAULT inlined_code()": False,
    "ALTER TABLE orders ADD COLUMN label text DEFAULT inlined_random()": True,
    "ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES customers (id)": False,
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
    "ALTER TABLE orders ADD CONSTRAINT orders_code_excl EXCLUDE USING btree (code WITH =)": False,
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
        state = _state_after(SCHEMA, MigrationState(pg_version=server.version_num,
                                                     column_types=types))  # fmt: skip
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


def _state_after(sql: str, state: MigrationState) -> MigrationState:
    """The lint's state after statements (the functions they create, the TimeZone they set)."""
    for index, text in enumerate(pg_parser.split(sql, with_parser=False)):
        piece = re.sub(r"^(\s*--[^\n]*\n)*\s*", "", text)  # as the lint: from the first token
        node = parse_sql(piece)[0].stmt
        after_statement(state, MigrationStatement("schema.sql", 1, 1, piece, node, 0, index))
    return state


# Settings of the session TimeZone before `ALTER COLUMN … TYPE timestamptz`. The connection
# starts in America/New_York, so that the server's own default (UTC here) does not decide.
ZONE_SETTINGS = [
    "SET timezone = 'UTC'",
    "SET TIME ZONE 'utc'",
    "SET TIME ZONE 0",
    "SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE",
    "SET timezone = 'UTC0'",
    "SET timezone = '+00:00'",
    "SELECT set_config('TimeZone', 'Etc/UTC', false)",
    "SELECT set_config('timezone', 'UTC', true)",
    "SET LOCAL timezone = 'Zulu'",
    *(f"SET timezone = '{zone}'" for zone in ("GMT", "UCT", "Universal", "Greenwich",
                                               "Etc/GMT+0", "GMT0", "Etc/UTC")),
    "SET timezone = 'Europe/London'",  # summer time: not a fixed offset
    "SET timezone = 'Africa/Abidjan'",  # offset 0 today, another once: not fixed either
    "SET timezone = 'America/New_York'",
    "SET TIME ZONE LOCAL",
    "RESET timezone",
]
_TIMESTAMPS = """
CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamp, seen_at timestamptz);
CREATE INDEX events_created_idx ON events (created_at);
INSERT INTO events VALUES (1, now(), now());
"""


@pytest.mark.parametrize("setting", ZONE_SETTINGS)
@pytest.mark.parametrize(
    "alter",
    [
        "ALTER TABLE events ALTER COLUMN created_at TYPE timestamptz",
        "ALTER TABLE events ALTER COLUMN seen_at TYPE timestamp",
        "ALTER TABLE events ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz",
    ],
)
def test_timestamptz_rewrite_follows_the_session_timezone(
    server: Any, setting: str, alter: str
) -> None:
    """PostgreSQL 12+ keeps the rows of a timestamp <-> timestamptz change when the session
    TimeZone has a fixed offset of zero; the indexes on the column are rebuilt either way.
    The lint follows the TimeZone the migration sets; a USING clause counts as a rewrite (it
    usually computes something else), which is the cautious side."""
    name = server.create_database()
    try:
        conninfo = server.conninfo(name, options="-c timezone=America/New_York")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(_TIMESTAMPS)  # type: ignore[call-overload]
        files = "SELECT pg_relation_filenode('events'), pg_relation_filenode('events_created_idx')"
        with psycopg.connect(conninfo) as conn:
            before = conn.execute(files).fetchone()
            conn.execute(setting)  # type: ignore[call-overload]
            conn.execute(alter)  # type: ignore[call-overload]
            after = conn.execute(files).fetchone()
            conn.rollback()
        assert before is not None and after is not None
        state = MigrationState(
            pg_version=server.version_num,
            column_types={("public.events", "created_at"): "timestamp",
                          ("public.events", "seen_at"): "timestamptz"},
            in_transaction=True,
        )  # fmt: skip
        state = _state_after(setting, state)
        locks = predict(parse_sql(alter)[0].stmt, state, alter)
        predicted = any(lock.rewrite for lock in locks)
        observed = after[0] != before[0]
        if "USING" in alter and not observed:
            assert predicted  # cautious: the expression is not read
        else:
            assert predicted == observed, (setting, alter, predicted, observed)
        if "created_at" in alter:
            assert after[1] != before[1]  # the column's index is rebuilt in every case
    finally:
        server.drop_database(name)


@pytest.mark.parametrize(
    ("sql", "scans"),
    [
        ("ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES customers (id)", False),
        (
            "ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES customers (id), "
            "ADD COLUMN note2 text DEFAULT 'x'",
            False,
        ),
        ("ALTER TABLE orders ADD COLUMN buyer int8 DEFAULT NULL REFERENCES customers (id)", True),
        ("ALTER TABLE orders ADD COLUMN buyer_id bigint DEFAULT 1 REFERENCES customers (id)", True),
        (
            "ALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (customer_id) "
            "REFERENCES customers (id)",
            True,
        ),
    ],
)
def test_new_column_foreign_key_reads_the_table_only_with_a_default(
    server: Any, sql: str, scans: bool
) -> None:
    """The table's sequential scans counted by the server (pg_stat_user_tables) before and
    after: a new column without a default is NULL everywhere and its foreign key is not
    checked; any default (DEFAULT NULL too) makes PostgreSQL read every row."""
    name = server.create_database()
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute(SCHEMA)  # type: ignore[call-overload]

            def seq_scans() -> int:
                conn.execute("SELECT pg_stat_force_next_flush()")
                conn.execute("SELECT pg_stat_clear_snapshot()")
                row = conn.execute(
                    "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = 'orders'::regclass"
                ).fetchone()
                return int(row[0]) if row else 0

            before = seq_scans()
            conn.execute(sql)  # type: ignore[call-overload]
            observed = seq_scans() > before
        assert observed == scans, (sql, observed)
        state = MigrationState(pg_version=server.version_num)
        predicted = any(lock.scan for lock in predict(parse_sql(sql)[0].stmt, state, sql)
                        if lock.relation == "public.orders")  # fmt: skip
        assert predicted == scans, (sql, predicted)
    finally:
        server.drop_database(name)


def test_builtin_function_volatility_matches_pg_proc(server: Any) -> None:
    """pg_functions.txt, which judges column defaults, holds every function of pg_catalog on
    this server, and calls volatile every one that has a volatile overload here."""
    from dbtruth.rules.volatility import builtin_volatility

    known = builtin_volatility()
    with psycopg.connect(server.admin) as conn:
        rows = conn.execute(
            "SELECT proname, bool_or(provolatile = 'v') FROM pg_proc "
            "WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'f' GROUP BY 1"
        ).fetchall()
    missing = sorted(name for name, _ in rows if name not in known)
    assert not missing, f"add to pg_functions.txt: {missing[:20]}"
    wrong = sorted(name for name, volatile in rows if volatile and known[name] != "v")
    assert not wrong, f"volatile on this server: {wrong}"


def test_a_function_defined_many_times_is_read_once_per_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A set may define one function hundreds of times (every down/up pair does): its
    volatility comes from the last CREATE and the ALTERs after it, and each statement is parsed
    once however many defaults call it — a fuzzed folder with 1,353 definitions and 6,754 such
    defaults took two minutes when every call parsed every definition."""
    from dbtruth.rules import volatility

    parsed: list[str] = []
    original = volatility._parsed
    monkeypatch.setattr(volatility, "_parsed", lambda sql: parsed.append(sql) or original(sql))
    volatility._declarations.cache_clear()
    definitions = [
        "CREATE FUNCTION code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a'; END $$",
        "CREATE OR REPLACE FUNCTION code() RETURNS text LANGUAGE sql AS $$ SELECT 'a' $$",
    ] * 200
    sql = ";\n".join([*definitions, "ALTER FUNCTION code() STABLE"]) + ";\n"
    state = _state_after(sql, MigrationState(pg_version=180000))
    default = parse_sql("SELECT code()")[0].stmt.targetList[0].val  # type: ignore[attr-defined]
    for _ in range(300):
        assert volatility.volatile_call(default, state.functions) is None  # STABLE, altered
    assert len(parsed) <= 3  # the ALTER, and the CREATE before it (and its SQL body)
    state = _state_after("CREATE OR REPLACE FUNCTION code() RETURNS text LANGUAGE plpgsql "
                         "AS $$ BEGIN RETURN 'b'; END $$;\n", state)  # fmt: skip
    called = volatility.volatile_call(default, state.functions)
    assert called is not None and called.defined_in_set  # replaced after the ALTER: VOLATILE
