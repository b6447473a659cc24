"""`dbtruth workload`: the workload's queries planned on a real PostgreSQL with data (a live
target's own statistics, or the SQL files' copy), their contracts checked, the target never
written, and hostile query input refused at its file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import EXAMPLES, SCRATCH_KINDS, dbtruth, write_files

# 40,000 orders: 97% done, 3% pending; half of them belong to customer 1.
_SCHEMA = """\
CREATE TABLE customer (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer,
                     status text NOT NULL, total numeric NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_customer_idx ON orders (customer_id);
-- The plans the tests compare rest on this ANALYZE's sample: no autovacuum re-samples the
-- skewed customer_id later (insert counts flushed after the ANALYZE would trigger one).
ALTER TABLE customer SET (autovacuum_enabled = off);
ALTER TABLE orders SET (autovacuum_enabled = off);
INSERT INTO customer SELECT g, 'customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO orders
SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE (g % 1000) + 1 END,
       CASE WHEN g % 33 = 0 THEN 'pending' ELSE 'done' END, g % 500,
       timestamptz '2026-01-01' + g * interval '1 minute'
  FROM generate_series(1, 40000) g;
ANALYZE;
"""

_MANIFEST = """\
workload:
  - name: pending orders
    role: read
    sql: SELECT id, total FROM orders WHERE status = 'pending'
    contract: {uses_index: public.orders_status_idx}
  - name: done orders
    role: report
    sql: SELECT count(*) FROM orders WHERE status = 'done'
    contract: {no_seq_scan_on: [orders]}
  - name: orders of a customer
    role: read
    sql: SELECT id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20
  - name: place an order
    role: write
    sql: >-
      INSERT INTO orders (id, customer_id, status, total, created_at)
      VALUES (1000000, 1, 'pending', 10, now())
"""


@pytest.fixture
def shop(server: Any) -> Any:
    with server.database_with(_SCHEMA) as conninfo:
        yield conninfo


def _queries(outcome: Any) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in json.loads(outcome.out)["queries"]}


def test_a_live_target_is_planned_with_its_own_statistics(shop: str, tmp_path: Path) -> None:
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    outcome = dbtruth("workload", shop, "--manifest", str(manifest), "--format", "json")
    assert outcome.code == 1, outcome.err
    queries = _queries(outcome)
    # The statistics say 'pending' is rare and 'done' is most rows: one contract kept, one not.
    assert queries["pending orders"]["contract_kept"] is True
    assert "public.orders_status_idx" in queries["pending orders"]["plan"]["indexes"]
    assert queries["done orders"]["contract_kept"] is False
    findings = json.loads(outcome.out)["findings"]
    assert [(f["code"], f["object"]["path"]) for f in findings] == [("X008", "done orders")]
    assert findings[0]["location"]["file"] == str(manifest)
    # A query with parameters gets the generic plan, whatever the server's version.
    assert queries["orders of a customer"]["plan"]["method"] == "generic plan"
    assert queries["pending orders"]["plan"]["method"] != "generic plan"
    # The INSERT was planned, never run: the live target holds the same rows.
    assert queries["place an order"]["plan"]["root"]["operation"] == "Insert"
    with psycopg.connect(shop) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (40000,)


def test_a_dropped_contracted_index_breaks_the_contract(shop: str, tmp_path: Path) -> None:
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("DROP INDEX orders_status_idx")
    outcome = dbtruth("workload", shop, "--manifest", str(manifest), "--format", "json",
                      "--select", "X007")  # fmt: skip
    assert outcome.code == 1
    (finding,) = json.loads(outcome.out)["findings"]
    assert finding["code"] == "X007" and finding["object"]["path"] == "pending orders"
    assert "does not exist" in finding["message"]


def test_the_casefile_example_keeps_its_contracts() -> None:
    outcome = dbtruth("workload", str(EXAMPLES / "casefile"), "--scratch", "embedded",
                      "--format", "json")  # fmt: skip
    assert outcome.code == 0, outcome.out + outcome.err
    queries = _queries(outcome)
    contracted = [q for q in queries.values() if q["contract"]]
    assert contracted and all(q["contract_kept"] for q in contracted)
    assert all(q["plan"] for q in queries.values())


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_sql_files_are_planned_on_their_copy_with_their_rows(tmp_path: Path, scratch: str) -> None:
    folder = write_files(tmp_path / "schema", {"schema.sql": _SCHEMA.replace("ANALYZE;", "")})
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    outcome = dbtruth("workload", str(folder), "--manifest", str(manifest), "--scratch", scratch)
    assert outcome.code == 1, outcome.err
    # The copy's own rows, analysed, decide as the live server's statistics did.
    assert "contract: uses public.orders_status_idx — kept by this plan" in outcome.out
    assert "contract: no seq scan on orders — broken by this plan (X008)" in outcome.out
    assert "Seq Scan on public.orders" in outcome.out
    assert "loaded into" in outcome.out


def test_a_queries_file_names_its_queries_and_markdown_shows_plans(tmp_path: Path) -> None:
    files = write_files(tmp_path, {
        "schema/schema.sql": "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "top.sql": "-- name: one row\nSELECT v FROM t WHERE id = $1;\n\nSELECT count(*) FROM t;\n",
    })  # fmt: skip
    outcome = dbtruth("workload", str(files / "schema"), "--queries", str(files / "top.sql"),
                      "--scratch", "embedded", "--format", "markdown")  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert "## query: one row (" in outcome.out
    assert "## query: top.sql:4 (" in outcome.out
    assert "Index Scan using public.t_pkey on public.t" in outcome.out


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("CREATE TABLE x (id int);", "is a Create statement"),
        ("SELECT 1; SELECT 2;", None),  # two statements of a file are two queries: fine
        ("SELEC v FROM t;", "does not parse"),
        ("SELECT v FROM t; COPY t TO PROGRAM 'id';", "is a Copy statement"),
    ],
)
def test_a_queries_file_that_is_no_workload_is_an_error_at_its_line(
    tmp_path: Path, query: str, words: str | None
) -> None:
    files = write_files(tmp_path, {
        "schema/schema.sql": "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "top.sql": "-- the top queries\n" + query + "\n",
    })  # fmt: skip
    outcome = dbtruth("workload", str(files / "schema"), "--queries", str(files / "top.sql"),
                      "--scratch", "embedded")  # fmt: skip
    if words is None:
        assert outcome.code == 0, outcome.err
        return
    assert outcome.code == 2
    line = outcome.err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"{files / 'top.sql'}:2" in line and words in line


def test_a_manifest_query_of_two_statements_is_an_error_at_its_line(tmp_path: Path) -> None:
    files = write_files(tmp_path, {
        "schema.sql": "CREATE TABLE t (id int PRIMARY KEY);\n",
        "dbtruth.yaml": "workload:\n  - name: sneaky\n    role: read\n"
                        "    sql: SELECT 1; DROP TABLE t\n",
    })  # fmt: skip
    outcome = dbtruth("workload", str(files / "schema.sql"), "--manifest",
                      str(files / "dbtruth.yaml"), "--scratch", "embedded")  # fmt: skip
    assert outcome.code == 2
    assert f"{files / 'dbtruth.yaml'}:4" in outcome.err and "2 statements" in outcome.err


def test_a_snapshot_has_no_schema_to_plan_on(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    assert dbtruth("snapshot", str(EXAMPLES / "casefile"), "--scratch", "embedded",
                   "-o", str(snap)).code == 0  # fmt: skip
    outcome = dbtruth("workload", str(snap), "--manifest",
                      str(EXAMPLES / "casefile" / "dbtruth.yaml"))  # fmt: skip
    assert outcome.code == 2 and "snapshot holds no schema" in outcome.err


def _migration(tmp_path: Path, sql: str) -> Path:
    return write_files(tmp_path / "migrations", {"0001_change.sql": sql}) / "0001_change.sql"


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_replay_fails_a_migration_that_drops_a_contracted_index(
    tmp_path: Path, scratch: str
) -> None:
    drop = "DROP INDEX CONCURRENTLY casework.case_file_tenant_state_idx;\n"
    migration = _migration(tmp_path, "SET lock_timeout = '2s';\n" + drop)
    outcome = dbtruth("migrate", "lint", str(migration.parent), "--against",
                      str(EXAMPLES / "casefile"), "--replay", "--manifest",
                      str(EXAMPLES / "casefile" / "dbtruth.yaml"), "--scratch", scratch,
                      "--transaction", "none", "--format", "json")  # fmt: skip
    assert outcome.code == 1, outcome.err
    document = json.loads(outcome.out)
    (finding,) = document["findings"]
    assert finding["code"] == "X007" and finding["object"]["path"] == "open cases of a tenant"
    assert "before them the clone planned it" in finding["evidence"]["replay"]
    assert any("plan changed by the migrations" in note for note in document["notes"])
    # SARIF names the workload rule its result points at.
    sarif = dbtruth("migrate", "lint", str(migration.parent), "--against",
                    str(EXAMPLES / "casefile"), "--replay", "--manifest",
                    str(EXAMPLES / "casefile" / "dbtruth.yaml"), "--scratch", scratch,
                    "--transaction", "none", "--format", "sarif")  # fmt: skip
    run = json.loads(sarif.out)["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert [rules[r["ruleIndex"]] for r in run["results"]] == ["X007"]


def test_replay_keeps_quiet_on_a_migration_the_contracts_survive(tmp_path: Path) -> None:
    migration = _migration(tmp_path, "SET lock_timeout = '2s';\n"
                           "ALTER TABLE casework.case_file ADD COLUMN summary text;\n")  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(migration.parent), "--against",
                      str(EXAMPLES / "casefile"), "--replay", "--manifest",
                      str(EXAMPLES / "casefile" / "dbtruth.yaml"), "--scratch", "embedded",
                      "--format", "json")  # fmt: skip
    assert outcome.code == 0, outcome.out
    notes = json.loads(outcome.out)["notes"]
    assert any("0 contracts broken by them" in note for note in notes), notes


def test_replay_sets_aside_a_contract_the_clone_breaks_before_any_migration(
    tmp_path: Path,
) -> None:
    """The clone has the schema without rows: a contract it cannot keep even before the
    migrations is a fact about the clone, noted, never blamed on the migration."""
    files = write_files(tmp_path, {
        "schema/schema.sql": "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "dbtruth.yaml": "workload:\n  - name: everything\n    role: report\n"
                        "    sql: SELECT v FROM t\n    contract: {max_cost: 1}\n",
        "migrations/0001.sql": "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN w int;\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(files / "migrations"), "--against",
                      str(files / "schema"), "--replay", "--manifest", str(files / "dbtruth.yaml"),
                      "--scratch", "embedded", "--format", "json")  # fmt: skip
    assert outcome.code == 0, outcome.out
    document = json.loads(outcome.out)
    assert document["findings"] == []
    assert any("X009 already on the clone before the migrations" in n for n in document["notes"])


@pytest.fixture(scope="module", params=SCRATCH_KINDS)
def observed_shop(request: pytest.FixtureRequest) -> Any:
    """A server that counts its statements (pg_stat_statements preloaded), with the shop's
    schema and an application's traffic on it."""
    from dbtruth.sources.scratch import embedded_bindir, open_scratch_from, system_bindir

    bindir = embedded_bindir() if request.param == "embedded" else system_bindir()
    assert bindir is not None
    with open_scratch_from(bindir, ("shared_preload_libraries=pg_stat_statements",)) as server:
        database = server.create_database()
        admin = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=database.name)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute(_SCHEMA)
            conn.execute("SELECT pg_stat_statements_reset()")
            for i in range(25):
                conn.execute("SELECT id, total FROM orders WHERE status = %s", ("pending",))
                conn.execute("SELECT sum(total) FROM orders WHERE customer_id = %s", (i,))
            conn.execute("SET work_mem = '8MB'")  # a statement EXPLAIN does not plan
        yield admin


def test_observed_statements_are_planned_with_their_counters(
    observed_shop: str, tmp_path: Path
) -> None:
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    outcome = dbtruth("workload", observed_shop, "--manifest", str(manifest), "--format", "json")
    document = json.loads(outcome.out)
    queries = {q["fingerprint"]: q for q in document["queries"]}
    observed = [q for q in queries.values() if q["origin"] == "observed"]
    sums = [q for q in observed if "sum(total)" in q["sql"]]
    assert len(sums) == 1 and sums[0]["observed"]["calls"] == 25
    assert sums[0]["plan"]["method"] == "generic plan"
    # The declared query of the same shape carries the counters; it is not listed twice.
    pending = next(q for q in queries.values() if q["name"] == "pending orders")
    assert pending["observed"]["calls"] == 25
    assert not any(q["origin"] == "observed" and "status" in q["sql"] for q in observed)
    notes = " ".join(document["notes"])
    assert "pg_stat_statements:" in notes and "not a query EXPLAIN plans" in notes
    quiet = dbtruth("workload", observed_shop, "--manifest", str(manifest), "--top", "0",
                    "--format", "json")  # fmt: skip
    assert all(q["origin"] == "declared" for q in json.loads(quiet.out)["queries"])


def test_a_live_target_without_pg_stat_statements_says_so(shop: str, tmp_path: Path) -> None:
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    outcome = dbtruth("workload", shop, "--manifest", str(manifest), "--format", "json")
    assert any("pg_stat_statements is not installed" in n for n in json.loads(outcome.out)["notes"])


def test_the_statistics_twin_plans_as_the_target_does(shop: str, tmp_path: Path) -> None:
    """The twin holds the schema and the planner statistics, its files sized to match: the skew
    (customer 1 owns half the orders) plans there as it does on the target."""
    files = write_files(tmp_path, {
        "dbtruth.yaml": _MANIFEST,
        "skew.sql": "-- name: the big customer\nSELECT id FROM orders WHERE customer_id = 1;\n"
                    "-- name: a small customer\nSELECT id FROM orders WHERE customer_id = 7;\n"
                    "-- name: join\nSELECT c.name, sum(o.total) FROM customer c JOIN orders o"
                    " ON o.customer_id = c.id WHERE c.id < 50 GROUP BY c.name;\n",
    })  # fmt: skip
    outcome = dbtruth("workload", shop, "--manifest", str(files / "dbtruth.yaml"), "--queries",
                      str(files / "skew.sql"), "--twin", "--format", "json")  # fmt: skip
    queries = _queries(outcome)
    differing = [(q["name"], q["plan"] and q["plan"]["total_cost"], q["twin"])
                 for q in queries.values() if not q["twin"]["agrees"]]  # fmt: skip
    assert not differing, (differing, json.loads(outcome.out)["notes"])
    big, small = queries["the big customer"], queries["a small customer"]
    # The skew is in the statistics the twin carries: 20,000 rows against 40.
    assert big["plan"]["rows"] > 100 * small["plan"]["rows"]
    assert big["twin"]["rows"] > 100 * small["twin"]["rows"]
    assert "public.orders_customer_idx" in small["plan"]["indexes"]
    assert abs(big["twin"]["rows"] - big["plan"]["rows"]) <= 0.01 * big["plan"]["rows"]
    assert any("sized to" in note for note in json.loads(outcome.out)["notes"])


def test_a_twin_of_sql_files_is_refused(tmp_path: Path) -> None:
    outcome = dbtruth("workload", str(EXAMPLES / "casefile"), "--twin")
    assert outcome.code == 2 and "--twin copies a live target's" in outcome.err


_ADVICE_MANIFEST = """\
workload:
  - name: pending orders
    role: read
    sql: SELECT id, total FROM orders WHERE status = 'pending'
    calls_per_minute: 300
  - name: recent orders of a customer
    role: read
    sql: SELECT id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20
    calls_per_minute: 600
  - name: place an order
    role: write
    sql: >-
      INSERT INTO orders (id, customer_id, status, total, created_at)
      VALUES ($1, $2, 'pending', $3, now())
    calls_per_minute: 100
"""


def test_advice_from_the_twin_holds_on_the_target(shop: str, tmp_path: Path) -> None:
    """An index missing from a live target is found on its statistics twin; created on the
    target as advised, the plan changes there as the twin predicted, and the advice stops."""
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("DROP INDEX orders_status_idx")
    manifest = write_files(tmp_path, {"dbtruth.yaml": _ADVICE_MANIFEST}) / "dbtruth.yaml"
    args = ("workload", shop, "--manifest", str(manifest), "--format", "json")
    outcome = dbtruth(*args, "--suggest")
    assert outcome.code == 1, outcome.err  # X012 warnings fail at the default threshold
    queries = _queries(outcome)
    (advice,) = queries["pending orders"]["advice"]
    assert "(status)" in advice["index"] and advice["planned_on"] == "statistics twin"
    assert advice["after"] < advice["before"] / 2
    assert queries["place an order"]["advice"] == []
    # Nothing was built on the target by the advice.
    with psycopg.connect(shop) as conn:
        indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'")
        assert indexes.fetchone() == (2,)
    with psycopg.connect(shop, autocommit=True) as conn:
        for queried in queries.values():
            for fix in queried["advice"]:
                conn.execute(fix["sql"])  # CONCURRENTLY, as a user would run it
    again = _queries(dbtruth(*args))
    plan = again["pending orders"]["plan"]
    name = advice["sql"].split("CONCURRENTLY ")[1].split(" ")[0]
    assert f"public.{name}" in plan["indexes"]
    assert abs(plan["total_cost"] - advice["after"]) <= 0.15 * advice["after"], (plan, advice)
    settled = dbtruth(*args, "--suggest")
    assert settled.code == 0, (settled.err, json.loads(settled.out or "{}").get("findings"))


def test_advice_on_sql_files_uses_their_rows(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "schema", {
        "schema.sql": _SCHEMA.replace("ANALYZE;", "").replace(
            "CREATE INDEX orders_status_idx ON orders (status);", ""),
    })  # fmt: skip
    manifest = write_files(tmp_path, {"dbtruth.yaml": _ADVICE_MANIFEST}) / "dbtruth.yaml"
    outcome = dbtruth("workload", str(folder), "--manifest", str(manifest), "--suggest",
                      "--scratch", "embedded", "--format", "json")  # fmt: skip
    (advice,) = _queries(outcome)["pending orders"]["advice"]
    assert advice["planned_on"] == "copy of the SQL files" and "(status)" in advice["index"]


def test_the_index_map_sums_every_replica_before_calling_an_index_unused(
    server: Any, shop: str, tmp_path: Path
) -> None:
    """An index only a replica reads is used: its scans there count. Here a second database of
    the same schema stands in for the replica; the window is set to zero days so that a fresh
    server's counters may speak."""
    replica = server.create_database()
    try:
        for conninfo in (shop, server.conninfo(replica)):
            with psycopg.connect(conninfo, autocommit=True) as conn:
                if conninfo != shop:
                    conn.execute(_SCHEMA)
                conn.execute("CREATE INDEX orders_total_idx ON orders (total)")
                conn.execute("CREATE INDEX orders_created_idx ON orders (created_at)")
                conn.execute("SELECT pg_stat_reset()")
        with psycopg.connect(server.conninfo(replica), autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")
            conn.execute("SELECT count(*) FROM orders WHERE total = 7").fetchone()
            conn.execute("SELECT pg_stat_force_next_flush()")  # PostgreSQL 15+: counters now
        manifest = write_files(tmp_path, {
            "dbtruth.yaml": _MANIFEST + "rules:\n  settings:\n    unused_index_min_days: 0\n",
        }) / "dbtruth.yaml"  # fmt: skip
        args = ("workload", shop, "--manifest", str(manifest), "--format", "json")
        alone = {u["index"]: u for u in json.loads(dbtruth(*args).out)["index_map"]}
        assert alone["public.orders_total_idx"]["unused"] is True
        both = dbtruth(*args, "--replica", server.conninfo(replica))
        uses = {u["index"]: u for u in json.loads(both.out)["index_map"]}
        assert uses["public.orders_total_idx"]["unused"] is False
        assert uses["public.orders_total_idx"]["scans"] >= 1
        assert uses["public.orders_created_idx"]["unused"] is True
        # Kept for a reason the map names: a constraint, a foreign key's checks, a query.
        assert uses["public.orders_pkey"]["enforces"] == "primary key"
        assert uses["public.orders_customer_idx"]["enforces"].startswith("foreign key checks")
        assert uses["public.orders_status_idx"]["queries"] == ["pending orders"]
    finally:
        server.drop_database(replica)


def test_a_baseline_hides_known_contract_breaches(shop: str, tmp_path: Path) -> None:
    manifest = write_files(tmp_path, {"dbtruth.yaml": _MANIFEST}) / "dbtruth.yaml"
    baseline = tmp_path / "baseline.json"
    args = ("workload", shop, "--manifest", str(manifest))
    assert dbtruth(*args).code == 1  # X008 on 'done orders'
    assert dbtruth(*args, "--write-baseline", str(baseline)).code == 0
    assert dbtruth(*args, "--baseline", str(baseline)).code == 0


def test_a_plan_that_moved_on_the_target_while_the_twin_was_built_is_planned_again(
    server: Any,
) -> None:
    """The target is planned before its statistics are copied; when they move in between (a
    table just filled, then analyzed), the twin's copy matches the target's later plan. The
    queries whose twin plan differs are planned on the target again, and the note says so."""
    from dbtruth.model.workload import Query
    from dbtruth.planning.compare import TOLERANCE, agreement
    from dbtruth.planning.explain import plan_query
    from dbtruth.reading import TargetOptions
    from dbtruth.workload.run import WorkloadOptions, _replan_moved

    schema = """
        CREATE TABLE event (id bigint PRIMARY KEY, kind text NOT NULL);
        INSERT INTO event SELECT g, 'a' FROM generate_series(1, 10) g;
        ANALYZE event;
    """
    with server.database_with(schema) as conninfo:
        query = Query("events of a kind", "SELECT id FROM event WHERE kind = 'a'", "declared")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            version = conn.info.server_version
            before = plan_query(conn, query, version, "5s")
            conn.execute("INSERT INTO event SELECT g, 'b' FROM generate_series(11, 50000) g")
            conn.execute("ANALYZE event")
            # What the twin sees: the statistics as they are now, copied after the change.
            on_twin = plan_query(conn, query, version, "5s")
        stale = agreement(before, on_twin)
        assert not stale.agrees(TOLERANCE)  # 10 rows then, 50,000 now
        notes: list[str] = []
        options = WorkloadOptions(target=TargetOptions(target=(conninfo,)))
        planned, agreements = _replan_moved([before], [on_twin], [stale], options, version, notes)
    assert agreements[0].agrees(TOLERANCE)
    assert planned[0].plan is not None and before.plan is not None
    assert planned[0].plan.total_cost > 10 * before.plan.total_cost
    # One query moved, and the reader is told the plan shown is the target's later one.
    assert len(notes) == 1 and notes[0].startswith("1 query plan changed on the target")
