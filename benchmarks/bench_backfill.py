"""dbtruth backfill, measured as whole processes on a table of --rows rows:

1. speed: `dbtruth backfill run` (chunks sized to --target-ms, no rate limit) against one
   plain UPDATE of the same rows, in rows per second — the price of chunks, checkpoints and
   health checks, paid for never holding every row's lock at once;
2. throttling: runs under several rate limits over --rated-rows rows, the rate kept against
   the limit asked for (rows visited / wall time of the chunks).

Each case runs --repeat times on a table reset between runs; medians are printed. Asserts
nothing.

    python benchmarks/bench_backfill.py [--rows 1000000] [--rated-rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from dbtruth.sources.scratch import open_scratch

_SPEC = """name: {name}
table: orders
statement: UPDATE orders SET currency = 'EUR' WHERE currency IS NULL
chunk: {chunk}
{rate}
validate: SELECT id FROM orders WHERE currency IS NULL AND id <= {rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rated-rows", type=int, default=200_000)
    parser.add_argument("--target-ms", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dbtruth = Path(sys.executable).with_name("dbtruth")
    with open_scratch("embedded") as server, tempfile.TemporaryDirectory() as tmp:
        database = server.create_database()
        conninfo = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=database.name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, "
                "total numeric(12,2) NOT NULL, currency text)"
            )
            conn.execute(
                "INSERT INTO orders SELECT g, g % 5000, (g % 997) / 10.0, NULL "
                f"FROM generate_series(1, {args.rows}) g"
            )
            conn.execute("CREATE INDEX ON orders (customer)")
            conn.execute("VACUUM ANALYZE orders")

        def reset() -> None:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("UPDATE orders SET currency = NULL")
                conn.execute("VACUUM orders")
                conn.execute("DROP SCHEMA IF EXISTS dbtruth_backfill CASCADE")

        def run(name: str, chunk: str, rate: str, rows: int) -> dict[str, object]:
            spec = Path(tmp) / f"{name}.yaml"
            spec.write_text(_SPEC.format(name=name, chunk=chunk, rate=rate, rows=rows))
            started = time.perf_counter()
            done = subprocess.run(
                [str(dbtruth), "backfill", "run", str(spec), "--target", conninfo, "--format",
                 "json", "--restart"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - started
            result: dict[str, object] = json.loads(done.stdout)
            result["wall"] = wall
            return result

        plain_times, ours, chunk_sizes = [], [], []
        for _ in range(args.repeat):
            reset()
            started = time.perf_counter()
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("UPDATE orders SET currency = 'EUR' WHERE currency IS NULL")
            plain_times.append(time.perf_counter() - started)
            reset()
            chunk = f"{{rows: 5000, target_duration: {args.target_ms}ms, max_rows: 200000}}"
            result = run("speed", chunk, "", args.rows)
            assert result["status"] == "done", result
            ours.append(float(result["wall"]))  # type: ignore[arg-type]
            chunk_sizes.append(int(result["chunk_rows"]))  # type: ignore[call-overload]
        plain, mine = statistics.median(plain_times), statistics.median(ours)
        print(f"## speed: {args.rows:,} rows, whole process, median of {args.repeat}\n")
        print("| how | s | rows/s |")
        print("|---|---|---|")
        print(f"| one plain UPDATE | {plain:.2f} | {args.rows / plain:,.0f} |")
        print(f"| dbtruth backfill run (chunks of ~{args.target_ms} ms, ended at "
              f"{statistics.median(chunk_sizes):,.0f} rows) | {mine:.2f} | "
              f"{args.rows / mine:,.0f} |")  # fmt: skip
        print(f"\nratio: {mine / plain:.2f}x the plain UPDATE's time\n")

        print(f"## throttling: {args.rated_rows:,} rows under a rate limit, median of "
              f"{args.repeat}\n")  # fmt: skip
        print("| limit rows/s | chunk rows | kept rows/s | off by |")
        print("|---|---|---|---|")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DELETE FROM orders WHERE id > {args.rated_rows}")
            conn.execute("VACUUM orders")
        for limit, chunk_rows in ((5_000, 250), (20_000, 1000), (50_000, 2500)):
            kept = []
            for _ in range(args.repeat):
                reset()
                result = run("rated", f"{{rows: {chunk_rows}}}", f"rate: {limit}",
                             args.rated_rows)  # fmt: skip
                kept.append(float(result["rows_visited"]) / float(result["seconds"]))  # type: ignore[arg-type]
            rate = statistics.median(kept)
            print(f"| {limit:,} | {chunk_rows:,} | {rate:,.0f} | {(rate - limit) / limit:+.1%} |")


if __name__ == "__main__":
    main()
