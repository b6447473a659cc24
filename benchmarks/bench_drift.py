"""dbtruth drift, measured: rows compared per second on a projection of --rows rows, when it
is in step (one pass over each side) and when --differ of its rows differ (the differing
buckets read again key by key), as a whole process beside a plain full-join comparison in SQL.
Prints a table; asserts nothing.

    python benchmarks/bench_drift.py [--rows 500000] [--differ 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from dbtruth.sources.scratch import open_scratch

_MANIFEST = """truth:
  public.item_copy:
    role: projection
    sources: [public.item]
    drift_source: SELECT id, sku, price, updated_at FROM item
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--differ", type=int, default=1000)
    args = parser.parse_args()
    dbtruth = Path(sys.executable).with_name("dbtruth")
    with open_scratch("embedded") as server, tempfile.TemporaryDirectory() as tmp:
        database = server.create_database()
        conninfo = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=database.name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE item (id bigint PRIMARY KEY, sku text NOT NULL, price numeric(12,2),"
                " updated_at timestamptz NOT NULL)"
            )
            conn.execute(
                "INSERT INTO item SELECT g, 'sku-' || g, (g % 10000) / 100.0, "
                "timestamptz '2026-01-01' + g * interval '1 s' "
                f"FROM generate_series(1, {args.rows}) g"
            )
            conn.execute("CREATE TABLE item_copy AS SELECT * FROM item")
            conn.execute("ALTER TABLE item_copy ADD PRIMARY KEY (id)")
            conn.execute("VACUUM ANALYZE")
        manifest = Path(tmp) / "dbtruth.yaml"
        manifest.write_text(_MANIFEST)
        argv = [str(dbtruth), "drift", conninfo, "--manifest", str(manifest), "--format", "json"]

        def timed(command: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            return time.perf_counter() - started

        plain = (
            "SELECT count(*) FROM item i FULL JOIN item_copy c ON c.id = i.id "
            "WHERE c.id IS NULL OR i.id IS NULL OR (i.sku, i.price, i.updated_at) "
            "IS DISTINCT FROM (c.sku, c.price, c.updated_at)"
        )
        script = f"import psycopg; psycopg.connect({conninfo!r}).execute({plain!r}).fetchone()"
        psql = [sys.executable, "-c", script]
        rows = []
        rows.append(("in step", timed(argv), timed(psql)))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            step = max(1, args.rows // args.differ)
            conn.execute(f"UPDATE item_copy SET price = price + 1 WHERE id % {step} = 0")
        rows.append((f"{args.differ:,} rows differ", timed(argv), timed(psql)))
        print(f"projection of {args.rows:,} rows, whole process\n")
        print("| case | dbtruth drift s | rows/s | plain FULL JOIN count s | ratio |")
        print("|---|---|---|---|---|")
        for case, ours, theirs in rows:
            print(f"| {case} | {ours:.2f} | {args.rows / ours:,.0f} | {theirs:.2f} "
                  f"| {ours / theirs:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
