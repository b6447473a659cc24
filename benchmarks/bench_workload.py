"""dbtruth workload, measured: queries planned per second and the statistics twin's build time
on every public corpus, and the quality of whole-workload index advice against advice made one
query at a time (as Dexter makes it) on the same skewed workload. Prints tables; asserts
nothing.

    python benchmarks/bench_workload.py                 # corpora + advice
    python benchmarks/bench_workload.py --only advice   # the advice comparison alone

Corpora: each is loaded into a scratch PostgreSQL 18 as SQL files are, then read as a live
target would be. Its workload is generated from its schema, one query per foreign key (the
referencing rows of a parent: `SELECT * FROM child WHERE fk = $1`) and one primary-key lookup
per table: the queries an application certainly runs. The corpora carry no rows, so their
twins are as small as their schemas: the build time is the fixed cost of a twin (two pg_dump
runs, the load, the sizing).

Advice: a shop of 30,000 customers and 300,000 orders with skewed values, ten queries with
calls per minute and two write paths. "per query" is the best index for each query alone,
chosen without regard to the others or to writes; "workload" is dbtruth's choice per table over
every query, weighed against write cost. Both are then built together on the twin and the whole
workload planned: the weighted cost (Σ calls/min × planned cost), the indexes each proposes, and
the index maintenance the writes pay (rows written per minute × indexes on the table).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import corpora
from dbtruth.clone import cloned
from dbtruth.errors import DbtruthError
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery, Query
from dbtruth.planning import intake
from dbtruth.planning.compare import TOLERANCE, agreement
from dbtruth.planning.explain import plan_query
from dbtruth.planning.whatif import TwinSizer, advise, workload_cost
from dbtruth.reading import TargetOptions
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.scratch import open_scratch
from dbtruth.sources.twin import statistics_twin

TIMEOUT = "10s"


def generated_queries(catalog: Catalog) -> list[Query]:
    """The queries an application of this schema runs for certain: a lookup by primary key,
    and the referencing rows of a parent through each foreign key."""
    texts: list[str] = []
    for table in catalog.tables:
        if table.kind != "table" or table.partition_of:
            continue
        name = f'"{table.schema}"."{table.name}"'
        for constraint in catalog.constraints_of(table):
            keyed = constraint.kind == "primary key" or (
                constraint.kind == "foreign key" and not constraint.inherited
            )
            if keyed:
                where = " AND ".join(f'"{c}" = ${i}' for i, c in enumerate(constraint.columns, 1))
                texts.append(f"SELECT * FROM {name} WHERE {where}")
    return [
        Query(name=f"q{i}", sql=text, origin="file", fingerprint=str(i))
        for i, text in enumerate(dict.fromkeys(texts))
    ]


def corpus_rows() -> None:
    print("| corpus | tables | queries | planned/s (copy) | twin build s | planned/s (twin) "
          "| agree |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for corpus in corpora():
        options = TargetOptions(
            tuple(str(f) for f in corpus.files),
            scratch=corpus.scratch or "embedded",
            keep_going=True,
            replace=tuple(f"{old}={new}" for old, new in corpus.replacements),
        )
        try:
            with cloned(options) as copy, psycopg.connect(copy.conninfo, autocommit=True) as conn:
                # As a live server's would be: statistics of whatever rows the files hold,
                # taken before the twin copies them (autovacuum would take them at any moment).
                conn.execute("ANALYZE")
                catalog = read_catalog(conn, corpus.name, live=False)
                queries = generated_queries(catalog)
                started = time.perf_counter()
                on_copy = [plan_query(conn, q, catalog.server_version_num, TIMEOUT)
                           for q in queries]  # fmt: skip
                copy_rate = len(queries) / max(time.perf_counter() - started, 1e-9)
                started = time.perf_counter()
                with statistics_twin(copy.conninfo, "5s", catalog.server_version_num) as twin:
                    built = time.perf_counter() - started
                    with psycopg.connect(twin.conninfo, autocommit=True) as tconn:
                        started = time.perf_counter()
                        on_twin = [plan_query(tconn, q, twin.server_version_num, TIMEOUT)
                                   for q in queries]  # fmt: skip
                        twin_rate = len(queries) / max(time.perf_counter() - started, 1e-9)
        except DbtruthError as exc:
            print(f"| {corpus.name} | failed: {exc} |||||")
            continue
        pairs = zip(on_copy, on_twin, strict=True)
        agree = sum(agreement(a, b).agrees(TOLERANCE) for a, b in pairs)
        print(f"| {corpus.name} | {len(catalog.tables)} | {len(queries)} | {copy_rate:,.0f} "
              f"| {built:.2f} | {twin_rate:,.0f} | {agree}/{len(queries)} |",
              flush=True)  # fmt: skip


_SHOP = """
CREATE TABLE customer (id bigint PRIMARY KEY, region text NOT NULL, email text NOT NULL,
                       created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer,
                     status text NOT NULL, total numeric NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO customer SELECT g, 'region ' || (g % 12), 'c' || g || '@example.org',
       timestamptz '2024-01-01' + g * interval '17 minutes' FROM generate_series(1, 30000) g;
INSERT INTO orders
SELECT g, CASE WHEN g % 4 = 0 THEN 1 + g % 50 ELSE 1 + (g::bigint * 7919) % 30000 END,
       CASE WHEN g % 97 = 0 THEN 'pending' WHEN g % 11 = 0 THEN 'refunded' ELSE 'done' END,
       (g::bigint * 31) % 1000, timestamptz '2025-01-01' + g * interval '1 minute'
  FROM generate_series(1, 300000) g;
ANALYZE;
"""

_WORKLOAD = """
workload:
  - {name: pending orders, role: read, calls_per_minute: 300,
     sql: "SELECT id, total FROM orders WHERE status = 'pending'"}
  - {name: refunds of a customer, role: read, calls_per_minute: 120,
     sql: "SELECT id FROM orders WHERE customer_id = $1 AND status = 'refunded'"}
  - {name: recent orders of a customer, role: read, calls_per_minute: 900,
     sql: "SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20"}
  - {name: orders of a customer, role: read, calls_per_minute: 200,
     sql: "SELECT count(*) FROM orders WHERE customer_id = $1"}
  - {name: last hour, role: report, calls_per_minute: 2,
     sql: "SELECT sum(total) FROM orders WHERE created_at > $1"}
  - {name: customer by email, role: read, calls_per_minute: 400,
     sql: "SELECT id FROM customer WHERE email = $1"}
  - {name: customers of a region, role: report, calls_per_minute: 1,
     sql: "SELECT count(*) FROM customer WHERE region = $1"}
  - {name: big orders, role: report, calls_per_minute: 1,
     sql: "SELECT id FROM orders WHERE total > 990"}
  - {name: place an order, role: write, calls_per_minute: 3000,
     sql: "INSERT INTO orders VALUES ($1, $2, 'pending', $3, now())"}
  - {name: settle an order, role: write, calls_per_minute: 3000,
     sql: "UPDATE orders SET status = 'done' WHERE id = $1"}
"""


def advice_rows() -> None:
    import yaml

    manifest = Manifest.model_validate(yaml.safe_load(_WORKLOAD))
    queries = intake.declared(manifest)
    with open_scratch("embedded") as server:
        database = server.create_database()
        admin = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=database.name)
        started = time.perf_counter()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(_SHOP)
        print(f"\nshop loaded in {time.perf_counter() - started:.1f} s")
        with (
            statistics_twin(admin, "5s", server.version_num) as twin,
            psycopg.connect(twin.conninfo, autocommit=True) as conn,
        ):
            catalog = read_catalog(conn, "twin", live=False)
            planned = [plan_query(conn, q, twin.server_version_num, TIMEOUT)
                           for q in queries]  # fmt: skip
            sizer = TwinSizer(conn, twin.set_length)
            version = twin.server_version_num

            def run(chosen: list[Any], label: str, seconds: float) -> None:
                cost, _ = workload_cost(conn, planned, chosen, sizer, timeout=TIMEOUT,
                                            version=version)  # fmt: skip
                writes = _writes(planned)
                upkeep = sum(writes.get(t.qualified, 0.0) for t, _ in chosen)
                names = "; ".join(c.label.removeprefix("public.") for _, c in chosen) or "-"
                print(f"| {label} | {len(chosen)} | {cost:,.0f} | {upkeep:,.0f} "
                          f"| {seconds:.1f} | {names} |", flush=True)  # fmt: skip

            print("| advice | indexes | weighted cost (Σ calls/min × cost) | index rows "
                      "written/min | seconds | indexes |")  # fmt: skip
            print("|---|---|---|---|---|---|")
            run([], "none", 0.0)
            started = time.perf_counter()
            single: list[Any] = []
            for query in planned:
                if query.query.role == "write":
                    continue
                alone = advise(conn, [query], catalog, sizer, planned_on="twin",
                                   timeout=TIMEOUT, version=version, per_table=1)  # fmt: skip
                single += [c for c in alone.chosen if c not in single]
            run(single, "per query (Dexter-style)", time.perf_counter() - started)
            started = time.perf_counter()
            whole = advise(conn, planned, catalog, sizer, planned_on="twin",
                               timeout=TIMEOUT, version=version)  # fmt: skip
            run(whole.chosen, "workload (dbtruth)", time.perf_counter() - started)


def _writes(planned: list[PlannedQuery]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for query in planned:
        root = query.plan.root if query.plan else None
        if root is not None and root.node_type == "ModifyTable" and root.relation:
            rates[root.relation] = rates.get(root.relation, 0.0) + (
                query.query.calls_per_minute or 0.0
            )
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=("corpora", "advice"))
    args = parser.parse_args()
    if args.only != "advice":
        corpus_rows()
    if args.only != "corpora":
        advice_rows()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
