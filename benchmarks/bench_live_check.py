"""Time `dbtruth check` of a large live database as a whole process, next to the catalog-query
floor: synthetic schemas of 1,000, 5,000 and 10,000 tables are loaded into a scratch
PostgreSQL, then read as a LIVE target by a separate `dbtruth check postgresql://…` process.

    python benchmarks/bench_live_check.py [--sizes 1000 5000 10000] [--runs 3]
    python benchmarks/bench_live_check.py --before ../previous/src   # paired with another tree

Prints, per size, the whole-process wall time of `dbtruth check` (connection, catalog, live
statistics, every default rule and the terminal report; median and range of --runs runs), the
catalog-query floor, their ratio, and the peak resident memory of the dbtruth process.

The floor is what any tool that reads this catalog pays: a fresh connection that fetches the
user schemas' rows of pg_class, pg_attribute, pg_index and pg_constraint with plain SELECTs,
and nothing else (median of the same number of runs, each in a new session, so that no run
profits from another's caches).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dbtruth.sources.scratch import ScratchServer, open_scratch
from synthetic import schema_sql

# Statements per transaction while loading: one transaction for 10,000 tables runs out of lock
# slots (every created relation stays locked until commit).
_LOAD_BATCH = 400

_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"
)
FLOOR_QUERIES = (
    "SELECT c.* FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    f" WHERE {_USER_SCHEMAS}",
    "SELECT a.* FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}",
    "SELECT i.* FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
    f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}",
    "SELECT con.* FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace"
    f" WHERE {_USER_SCHEMAS}",
)

# Runs dbtruth as a child of a small Python process and reports its wall time and peak RSS: a
# child forked from this benchmark would inherit the benchmark's own peak (Linux keeps
# ru_maxrss across fork and exec).
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "seconds = time.perf_counter() - started\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({'seconds': seconds, 'peak_kib': peak, 'code': done.returncode,\n"
    "                  'stderr': done.stderr.decode(errors='replace')[-2000:]}))\n"
)


def load_synthetic(server: ScratchServer, tables: int) -> str:
    """A new database on `server` holding the synthetic schema of `tables` tables, created by
    its unprivileged owner, then vacuumed and analyzed as a live database long in service is
    (otherwise autovacuum works through the freshly written catalogs during the first runs);
    returns the owner's connection string."""
    database = server.create_database()
    statements = schema_sql(tables).split(";\n")
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        for start in range(0, len(statements), _LOAD_BATCH):
            conn.execute(";\n".join(statements[start : start + _LOAD_BATCH]).encode())
    admin = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=database.name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return database.conninfo


def floor_seconds(conninfo: str) -> float:
    """Connect and fetch the four plain catalog reads, in a new session."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for query in FLOOR_QUERIES:
            conn.execute(query.encode()).fetchall()
    return time.perf_counter() - started


def dbtruth_check(conninfo: str, source: Path | None = None) -> tuple[float, float]:
    """Whole-process wall seconds and peak RSS (MiB) of `dbtruth check` on a live target, run
    from the `source` folder (another checkout's src/) when given."""
    url = psycopg.conninfo.conninfo_to_dict(conninfo)
    # The URL form users type; the socket folder goes in the host parameter.
    target = f"postgresql:///{url['dbname']}?host={url['host']}&user={url['user']}"
    argv = [sys.executable, "-m", "dbtruth", "check", target, "--fail-on", "never"]
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True, env=env
    )
    measured = json.loads(done.stdout)
    if measured["code"] != 0:
        raise RuntimeError(f"dbtruth check failed: {measured['stderr']}")
    return float(measured["seconds"]), measured["peak_kib"] / 1024


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scratch", default="embedded", help="scratch server (default: embedded)")
    parser.add_argument(
        "--before",
        type=Path,
        help="the src/ folder of another checkout: its dbtruth check runs alternately with "
        "this one's, on the same databases",
    )
    args = parser.parse_args()
    sources: dict[str, Path | None] = {"this": None}
    if args.before:
        sources = {"before": args.before.resolve(), **sources}
    rows = []
    with open_scratch(args.scratch) as server:
        label = server.label
        for size in args.sizes:
            print(f"… loading {size} tables", file=sys.stderr, flush=True)
            conninfo = load_synthetic(server, size)
            floor: list[float] = []
            check: dict[str, list[float]] = {name: [] for name in sources}
            peaks: dict[str, list[float]] = {name: [] for name in sources}
            for run in range(args.runs):
                floor.append(floor_seconds(conninfo))
                for name, source in sources.items():
                    seconds, peak = dbtruth_check(conninfo, source)
                    check[name].append(seconds)
                    peaks[name].append(peak)
                    print(
                        f"  run {run + 1} ({name}): check {seconds:.2f} s, "
                        f"floor {floor[-1]:.2f} s, peak {peak:.0f} MiB",
                        file=sys.stderr,
                        flush=True,
                    )
            for name in sources:
                ratio = statistics.median(check[name]) / statistics.median(floor)
                rows.append(
                    (size, name, _spread(check[name]), _spread(floor), ratio, max(peaks[name]))
                )
    print(f"server: {label}")
    print("| tables | dbtruth | check_s | floor_s | ratio | peak_rss_mib |")
    print("|---|---|---|---|---|---|")
    for size, name, check_s, floor_s, ratio, peak in rows:
        print(f"| {size} | {name} | {check_s} | {floor_s} | {ratio:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
