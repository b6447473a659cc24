"""`dbtruth backfill`: chunked backfills with a checkpoint on the target.

A kill -9 in the middle of a 1M-row backfill resumes after the last committed chunk, and every
row is changed exactly once (the statement adds 1, so a chunk applied twice would leave 2); the
rate limit is kept; writers running on the same table see the backfill finish and their lock
waits are reported; pause, resume, abort and a changed spec behave as said; `plan` and
`status` write nothing; and bad specs are one line with file:line and exit 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import dbtruth, table_writes, write_files

_ORDERS = """
CREATE TABLE orders (region text NOT NULL, id bigint NOT NULL, currency text,
                     n int NOT NULL DEFAULT 0, touched int NOT NULL DEFAULT 0,
                     PRIMARY KEY (region, id));
INSERT INTO orders (region, id) SELECT 'r' || (g % 7), g FROM generate_series(1, {rows}) g;
ANALYZE orders;
"""

_SPEC = """
table: orders
statement: |
  UPDATE orders o SET currency = 'EUR', n = n + 1
   WHERE currency IS NULL
validate: SELECT region, id FROM orders WHERE n <> 1 OR currency IS NULL
"""


def _spec(tmp_path: Path, text: str = _SPEC, name: str = "spec.yaml") -> Path:
    return write_files(tmp_path, {name: text}) / name


def _json(*argv: str) -> tuple[int, Any]:
    outcome = dbtruth(*argv, "--format", "json")
    return outcome.code, json.loads(outcome.out) if outcome.out else outcome.err


@pytest.fixture
def orders(server: Any) -> Any:
    with server.database_with(_ORDERS.format(rows=20000)) as conninfo:
        yield conninfo


def _scalar(conninfo: str, query: str) -> Any:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]


def _chunks_done(conninfo: str) -> int:
    if _scalar(conninfo, "SELECT to_regclass('dbtruth_backfill.backfill') IS NULL"):
        return 0
    return int(_scalar(conninfo, "SELECT coalesce(max(chunks), 0) FROM dbtruth_backfill.backfill"))


def test_plan_reads_and_writes_nothing(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 1500}\nrate: 10000\n")
    before = table_writes(orders)
    code, plan = _json("backfill", "plan", str(spec), "--target", orders)
    assert code == 0, plan
    steps = {s["label"]: s for s in plan["steps"]}
    assert steps["index the chunks walk"]["value"] == "public.orders_pkey"
    assert steps["key"]["value"].startswith("(region text, id bigint)")
    assert steps["chunks"]["value"] == "about 14"  # 20,000 rows / 1,500
    assert "ROW EXCLUSIVE on public.orders" in steps["lock each chunk takes"]["value"]
    assert plan["validation"]["rows"] == 20000
    assert "(o.region, o.id) <=" in plan["first_chunk"]
    assert not any("Seq Scan" in line for line in plan["chunk_plan"])
    assert plan["problems"] == []
    assert table_writes(orders) == before
    assert _scalar(orders, "SELECT to_regnamespace('dbtruth_backfill') IS NULL")


def test_plan_names_a_key_no_index_leads_with(server: Any, tmp_path: Path) -> None:
    schema = _ORDERS.format(rows=5000) + "ALTER TABLE orders ADD COLUMN seq int;" \
        "UPDATE orders SET seq = id; ALTER TABLE orders ALTER seq SET NOT NULL; ANALYZE orders;"
    spec = _spec(tmp_path, _SPEC + "key: seq\n")
    with server.database_with(schema) as conninfo:
        code, plan = _json("backfill", "plan", str(spec), "--target", conninfo)
    assert code == 1
    assert any("no index leads with the key (seq)" in p for p in plan["problems"])


def test_run_resumes_a_million_rows_after_kill_9(pg18: Any, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 20000}\n")
    with pg18.database_with(_ORDERS.format(rows=1_000_000)) as conninfo:
        child = subprocess.Popen(
            [sys.executable, "-m", "dbtruth", "backfill", "run", str(spec), "--target", conninfo],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            chunks = 0
            while chunks < 5 and time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.05)
                chunks = _chunks_done(conninfo)
            assert child.poll() is None, "the run ended before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
        done_before = _scalar(conninfo, "SELECT chunks FROM dbtruth_backfill.backfill")
        assert 5 <= done_before < 50
        # The killed client's server session ends its chunk, finds no client, rolls back and
        # lets go of the backfill: status then says it was interrupted.
        deadline = time.monotonic() + 60
        state = ""
        while not state.startswith("interrupted") and time.monotonic() < deadline:
            code, status = _json("backfill", "status", str(spec), "--target", conninfo)
            state = status["state"]
            time.sleep(0.2)
        assert state.startswith("interrupted")

        code, result = _json("backfill", "run", str(spec), "--target", conninfo)
        assert code == 0, result
        assert result["status"] == "done"
        assert result["chunks_before"] == done_before
        assert result["validation"]["rows"] == 0  # every row changed, none twice (n = 1)
        assert _scalar(conninfo, "SELECT count(*) FROM orders WHERE n = 1") == 1_000_000
        with psycopg.connect(conninfo) as conn:
            chunks = conn.execute(
                "SELECT chunk, low_key, high_key, rows_visited FROM dbtruth_backfill.chunk "
                "ORDER BY chunk"
            ).fetchall()
        # one committed record per chunk, each starting where the one before ended
        assert [c[0] for c in chunks] == list(range(1, len(chunks) + 1))
        assert chunks[0][1] is None
        assert all(chunks[i][1] == chunks[i - 1][2] for i in range(1, len(chunks)))
        assert sum(c[3] for c in chunks) == 1_000_000


def test_rate_limit_is_not_exceeded(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 500}\nrate: 8000\n")
    code, result = _json("backfill", "run", str(spec), "--target", orders)
    assert code == 0, result
    assert result["rows_visited"] == 20000 and result["chunks"] == 40
    # From above only: a loaded machine may be slower than the limit, never faster.
    assert result["rows_visited"] / result["seconds"] <= 8000 * 1.10


def _writer(conninfo: str, stop: threading.Event, counts: dict[str, int], seed: int) -> None:
    """A pgbench-style client: short transactions updating a random order, and new orders."""
    rng = random.Random(seed)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not stop.is_set():
            key = rng.randint(1, 40000)
            conn.execute(
                "UPDATE orders SET touched = touched + 1 WHERE region = %s AND id = %s",
                (f"r{key % 7}", key),
            )
            counts["updates"] += 1
            if rng.random() < 0.1:
                conn.execute(
                    "INSERT INTO orders (region, id) VALUES ('r9', nextval('new_orders'))"
                )
                counts["inserts"] += 1


def test_writers_on_the_table_finish_and_their_waits_are_reported(
    pg18: Any, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, """
table: orders
statement: UPDATE orders SET currency = 'EUR', n = n + 1 WHERE currency IS NULL
chunk: {rows: 8000}
health: {lock_wait: 20ms}
validate: SELECT id FROM orders WHERE region <> 'r9' AND (n <> 1 OR currency IS NULL)
""")  # fmt: skip
    # The backfill's own updates take a little longer (a trigger sleeps 2 ms on one row in a
    # hundred it fills: 160 ms a chunk of 8,000), so every chunk holds its rows' locks long
    # enough for the writers to queue on them and for the 50 ms watcher to see it, however
    # loaded the machine.
    slow_fill = """
        CREATE FUNCTION slow_fill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.currency IS NULL AND NEW.currency IS NOT NULL AND NEW.id % 100 = 0 THEN
                PERFORM pg_sleep(0.002);
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER slow_fill BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION slow_fill();
    """
    schema = (
        _ORDERS.format(rows=40000) + "CREATE SEQUENCE new_orders START 1000000;" + slow_fill
    )
    with pg18.database_with(schema) as conninfo:
        stop = threading.Event()
        counts = {"updates": 0, "inserts": 0}
        writers = [
            threading.Thread(target=_writer, args=(conninfo, stop, counts, seed))
            for seed in range(4)
        ]
        for writer in writers:
            writer.start()
        try:
            time.sleep(0.3)
            code, result = _json("backfill", "run", str(spec), "--target", conninfo)
        finally:
            stop.set()
            for writer in writers:
                writer.join()
        assert code == 0, result
        assert result["status"] == "done"
        assert result["validation"]["rows"] == 0
        assert counts["updates"] > 100
        waits = result["waits"]
        assert waits["chunks_waited_on"] >= 1 and waits["longest_wait"] > 0
        smaller = [e for e in result["events"] if e["kind"] == "smaller"]
        assert smaller and all(e["signal"] == "lock_wait" for e in smaller)
        # rows the writers inserted after the start lie past the walked range, and are said so
        assert 0 < result["beyond"] <= counts["inserts"]


def _background_run(spec: Path, conninfo: str, *more: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dbtruth", "backfill", "run", str(spec), "--target", conninfo,
         "--format", "json", *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_chunks(conninfo: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _chunks_done(conninfo) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the backfill did not start")


def test_pause_resume_abort_and_a_changed_statement(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 500}\nrate: 2000\n")
    child = _background_run(spec, orders)
    _wait_for_chunks(orders, 2)
    code, status = _json("backfill", "pause", str(spec), "--target", orders)
    assert code == 0 and status["checkpoint"]["status"] == "paused"
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err  # paused as asked: not a failure
    assert json.loads(out)["status"] == "paused"

    refused = dbtruth("backfill", "run", str(spec), "--target", orders)
    assert refused.code == 2 and "is paused" in refused.err and "resume" in refused.err

    changed = _spec(tmp_path, "name: spec" + _SPEC.replace("'EUR'", "'USD'"), "changed.yaml")
    refused = dbtruth("backfill", "run", str(changed), "--target", orders)
    assert refused.code == 2
    assert f"{changed}:3: backfill spec started with another statement: UPDATE orders AS o " \
        "SET currency = 'EUR'" in refused.err
    # spacing and case are not a change: the parser reads the same statement
    respaced_sql = _SPEC.replace("UPDATE orders o SET", "update   orders o\n    set")
    respaced = _spec(tmp_path, "name: spec\n" + respaced_sql, "respaced.yaml")
    paused = dbtruth("backfill", "run", str(respaced), "--target", orders)
    assert paused.code == 2 and "is paused" in paused.err

    code, result = _json("backfill", "resume", str(spec), "--target", orders)
    assert code == 0, result
    assert result["status"] == "done" and result["validation"]["rows"] == 0
    assert result["chunks_before"] >= 2
    assert _scalar(orders, "SELECT count(*) FROM orders WHERE n = 1") == 20000

    again = dbtruth("backfill", "abort", str(spec), "--target", orders)
    assert again.code == 2 and "is done" in again.err
    # started over, the statement's own WHERE skips what is done: idempotent
    code, result = _json("backfill", "run", str(spec), "--target", orders, "--restart")
    assert code == 0, result
    assert result["rows_visited"] == 20000 and result["rows_changed"] == 0


def test_abort_stops_a_run_and_run_refuses_it(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 500}\nrate: 2000\n")
    child = _background_run(spec, orders)
    _wait_for_chunks(orders, 2)
    assert dbtruth("backfill", "abort", str(spec), "--target", orders).code == 0
    out, _ = child.communicate(timeout=60)
    assert json.loads(out)["status"] == "aborted"
    refused = dbtruth("backfill", "run", str(spec), "--target", orders)
    assert refused.code == 2 and "was aborted" in refused.err and "--restart" in refused.err
    changed_before = _scalar(orders, "SELECT count(*) FROM orders WHERE n = 1")
    assert 1000 <= changed_before < 20000
    code, result = _json("backfill", "run", str(spec), "--target", orders, "--restart")
    assert code == 0, result
    assert result["rows_changed"] == 20000 - changed_before
    assert result["validation"]["rows"] == 0


_BAD_SPECS = [
    # (spec text, line, what the error says)
    ("table: orders\nstatement: UPDATE orders SET n = 1\nchunk: {rowz: 5}\n", 3,
     "unknown key 'chunk.rowz'"),
    ("table: orders\nstatement: UPDATE orders SET n = 1\nchunk:\n  lock_timeout: soon\n", 4,
     "expected a duration"),
    ("table: orders\nstatement: SELECT * FROM orders\n", 2, "one UPDATE, DELETE or INSERT"),
    ("table: orders\nstatement: UPDATE orders SET n = 1; DELETE FROM orders\n", 2, "several"),
    ("table: orders\nstatement: UPDATE other SET n = 1\n", 2,
     "does not read the backfill's table"),
    ("table: orders\nstatement: |\n  UPDATE orders SET n = 1\n   WHERE pg_terminate_backend(1)\n",
     2, "pg_terminate_backend"),
    ("table: orders\nstatement: |\n  WITH gone AS (DELETE FROM other RETURNING 1)\n"
     "  UPDATE orders SET n = 1\n", 2, "writes too"),
    ("table: orders\nstatement: UPDATE orders SET n = 1\nvalidate: DELETE FROM orders\n", 3,
     "validate: it must be one SELECT"),
    ("table: orders\nstatement: UPDATE orders SET n = 1\nhealth:\n  probe:\n"
     "    query: SELECT pg_sleep(1)\n    p95: 1ms\n", 5, "pg_sleep"),
    ("table: nowhere\nstatement: UPDATE nowhere SET n = 1\n", 1, "no table nowhere"),
    ("table: orders\nkey: currency\nstatement: UPDATE orders SET n = 1\n", 2, "may be NULL"),
    ("table: orders\nkey: [region, nope]\nstatement: UPDATE orders SET n = 1\n", 2,
     "no column nope"),
    ("table: orders\nstatement: UPDATE orders SET n = (\n", 2, "cannot parse"),
    ("table: orders\nkey: [region, id, region]\nstatement: UPDATE orders SET n = 1\n", 2,
     "key column region is named twice"),
    ("- table: orders\n", 1, "a backfill spec is a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), _BAD_SPECS)
def test_a_bad_spec_is_one_line_at_its_place(
    orders: str, tmp_path: Path, text: str, line: int, message: str
) -> None:
    spec = _spec(tmp_path, text)
    with psycopg.connect(orders, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS other (n int)")
    for command in ("plan", "run"):
        outcome = dbtruth("backfill", command, str(spec), "--target", orders)
        assert outcome.code == 2, outcome.err
        assert outcome.err.count("\n") == 1 and "Traceback" not in outcome.err
        assert f"{spec}:{line}" in outcome.err and message in outcome.err
    # nothing was written: not even the checkpoint schema
    assert _scalar(orders, "SELECT to_regnamespace('dbtruth_backfill') IS NULL")
    assert _scalar(orders, "SELECT count(*) FROM orders WHERE n <> 0") == 0


def test_insert_select_fills_a_projection_and_delete_purges_in_chunks(
    server: Any, tmp_path: Path
) -> None:
    schema = _ORDERS.format(rows=12000) + """
CREATE TABLE order_index (region text, id bigint, PRIMARY KEY (region, id));
CREATE TABLE event (id bigint PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO event SELECT g, timestamptz '2020-01-01' + g * interval '1 hour'
  FROM generate_series(1, 30000) g;
"""
    project = _spec(tmp_path, """
table: orders
statement: |
  INSERT INTO order_index (region, id)
  SELECT o.region, o.id FROM orders AS o JOIN (SELECT 1) AS one ON true
  ON CONFLICT DO NOTHING
chunk: {rows: 1000}
validate: |
  SELECT region, id FROM orders o
   WHERE NOT EXISTS (SELECT FROM order_index i WHERE (i.region, i.id) = (o.region, o.id))
""", "project.yaml")  # fmt: skip
    purge = _spec(tmp_path, """
table: event
statement: DELETE FROM event WHERE at < timestamptz '2021-01-01'
chunk: {rows: 2500, target_duration: 50ms}
validate: SELECT id FROM event WHERE at < timestamptz '2021-01-01'
""", "purge.yaml")  # fmt: skip
    with server.database_with(schema) as conninfo:
        code, plan = _json("backfill", "plan", str(project), "--target", conninfo)
        assert code == 0, plan
        assert "INSERT on public.order_index" not in json.dumps(plan["steps"])
        assert "ROW EXCLUSIVE on public.order_index" in json.dumps(plan["steps"])
        code, result = _json("backfill", "run", str(project), "--target", conninfo)
        assert code == 0, result
        assert result["rows_changed"] == 12000 and result["validation"]["rows"] == 0
        code, result = _json("backfill", "run", str(purge), "--target", conninfo)
        assert code == 0, result
        assert result["rows_changed"] == 8783  # hours of 2020 before 2021-01-01 (a leap year)
        assert _scalar(conninfo, "SELECT count(*) FROM event") == 30000 - 8783


def test_an_unhealthy_signal_backs_off_and_then_pauses(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + """
chunk: {rows: 100}
health:
  probe: {query: "SELECT count(*) FROM generate_series(1, 300000)", p95: 1ms}
  backoff: 200ms
  give_up_after: 2s
""")  # fmt: skip
    code, result = _json("backfill", "run", str(spec), "--target", orders)
    assert code == 1
    assert result["status"] == "paused" and "probe_p95" in result["reason"]
    back_offs = [e for e in result["events"] if e["kind"] == "back-off"]
    assert back_offs and {e["signal"] for e in back_offs} == {"probe_p95"}
    assert result["rows_visited"] == 0  # it never ran a chunk while the probe was slow
    status = dbtruth("backfill", "status", str(spec), "--target", orders)
    assert "paused" in status.out and "back-off" in status.out and "probe_p95" in status.out


def test_status_of_a_backfill_never_run(orders: str, tmp_path: Path) -> None:
    before = table_writes(orders)
    outcome = dbtruth("backfill", "status", str(_spec(tmp_path)), "--target", orders)
    assert outcome.code == 0
    assert "not started" in outcome.out
    assert table_writes(orders) == before


def test_replica_lag_and_archive_backlog_are_read_from_the_server(tmp_path: Path) -> None:
    from dbtruth.sources.scratch import embedded_bindir, open_scratch_from, open_standby

    bindir = embedded_bindir()
    spec = _spec(tmp_path, _SPEC + """
health:
  replica_lag: 1s
  archive_backlog: 1
  backoff: 100ms
  give_up_after: 1s
""")  # fmt: skip
    settings = ("archive_mode=on", "archive_command=false")
    with open_scratch_from(bindir, settings) as primary:
        database = primary.create_database()
        conninfo = psycopg.conninfo.make_conninfo(primary.admin_conninfo, dbname=database.name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(_ORDERS.format(rows=2000).encode())
            for _ in range(3):  # segments the failing archiver leaves waiting
                conn.execute("SELECT pg_switch_wal()")
        with open_standby(primary, bindir) as standby:
            with psycopg.connect(standby.admin_conninfo, autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_pause()")
            with psycopg.connect(conninfo, autocommit=True) as conn:
                for n in range(30):  # WAL the paused standby does not replay
                    conn.execute("UPDATE orders SET touched = %s", (n,))
            time.sleep(1.5)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                # The standby replies when WAL arrives; with its replay stuck, the primary
                # reports the lag as growing from the oldest unreplayed write (PostgreSQL
                # interpolates it), so this reply carries the loop's time and the sleep.
                conn.execute("UPDATE orders SET touched = 0 WHERE id = 1")
            time.sleep(0.5)
            code, plan = _json("backfill", "plan", str(spec), "--target", conninfo)
            signals = {s["name"]: s for s in plan["signals"]}
            assert signals["archive_backlog"]["over"], signals
            assert signals["replica_lag"]["over"], signals
            code, result = _json("backfill", "run", str(spec), "--target", conninfo)
    assert code == 1 and result["status"] == "paused"
    assert {e["signal"] for e in result["events"] if e["kind"] == "back-off"} <= {
        "replica_lag", "archive_backlog"}  # fmt: skip
    assert result["rows_visited"] == 0


def test_a_vacuum_working_on_the_table_is_a_signal(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    with psycopg.connect(orders, autocommit=True) as vacuum:
        pid = vacuum.info.backend_pid
        vacuum.execute("UPDATE orders SET touched = 1")  # pages for VACUUM to work through
        vacuum.execute("SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1")
        worker = threading.Thread(target=_quiet, args=(vacuum, "VACUUM orders"))
        worker.start()
        try:
            deadline = time.monotonic() + 20
            while not _scalar(orders, "SELECT count(*) FROM pg_stat_progress_vacuum"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            _, plan = _json("backfill", "plan", str(spec), "--target", orders)
        finally:
            _scalar(orders, f"SELECT pg_cancel_backend({pid})")
            worker.join()
    signals = {s["name"]: s for s in plan["signals"]}
    assert signals["autovacuum"]["over"]
    assert signals["autovacuum"]["value"] == "a VACUUM is working on the table"


def _quiet(conn: psycopg.Connection[Any], statement: str) -> None:
    with contextlib.suppress(psycopg.errors.QueryCanceled):
        conn.execute(statement.encode())


def test_a_chunk_that_cannot_get_its_locks_is_retried(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + """
chunk: {rows: 20000, lock_timeout: 100ms, retries: 20}
health: {backoff: 200ms, max_backoff: 200ms}
""")  # fmt: skip
    with psycopg.connect(orders) as holder:
        holder.execute("SELECT * FROM orders WHERE id = 7 FOR UPDATE")  # an open transaction
        child = _background_run(spec, orders)
        # Until the backfill's chunk waits on the held row, then long enough for its 100 ms
        # lock_timeout to end that wait at least once (a loaded machine starts it late).
        holder_pid = holder.info.backend_pid
        deadline = time.monotonic() + 60
        while not _scalar(orders, "SELECT count(*) FROM pg_stat_activity WHERE "
                                  f"{holder_pid} = ANY (pg_blocking_pids(pid))"):  # fmt: skip
            assert time.monotonic() < deadline and child.poll() is None, "no chunk waited"
            time.sleep(0.05)
        time.sleep(0.5)
        holder.rollback()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    result = json.loads(out)
    retries = [e for e in result["events"] if e["kind"] == "retry"]
    assert retries and {e["signal"] for e in retries} == {"lock_timeout"}
    assert "lock timeout" in retries[0]["detail"]
    assert result["status"] == "done" and result["validation"]["rows"] == 0


def test_plan_in_markdown_is_a_table_and_fenced_sql(orders: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path, _SPEC + "chunk: {rows: 1500}\n")
    outcome = dbtruth("backfill", "plan", str(spec), "--target", orders, "--format", "markdown")
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert "| step | value | how known |" in lines
    assert "| index the chunks walk | public.orders_pkey | observed |" in lines
    assert "| rows changed per chunk (planner's estimate) | up to 1,500 | guessed |" in lines
    start = lines.index("```sql")
    assert lines[start + 1].startswith("UPDATE orders AS o SET") and lines[start + 2] == "```"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("table: orders\nkey: region\nstatement: UPDATE orders SET n = n + 1\n", 2,
         "the key (region) is not unique"),
        ("table: orders\nstatement: UPDATE orders SET n = nope + 1\n", 2,
         "the chunk's statement does not plan: column \"nope\" does not exist"),
    ],
)  # fmt: skip
def test_run_refuses_what_plan_calls_a_problem(
    orders: str, tmp_path: Path, text: str, line: int, problem: str
) -> None:
    spec = _spec(tmp_path, text)
    code, plan = _json("backfill", "plan", str(spec), "--target", orders)
    assert code == 1 and any(problem in p for p in plan["problems"])
    refused = dbtruth("backfill", "run", str(spec), "--target", orders)
    assert refused.code == 2
    assert f"{spec}:{line}: run refused: {problem}" in refused.err
    assert _scalar(orders, "SELECT to_regnamespace('dbtruth_backfill') IS NULL")
    resumed = dbtruth("backfill", "resume", str(spec), "--target", orders)
    assert resumed.code == 2 and "has never run" in resumed.err
