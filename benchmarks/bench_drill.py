"""dbtruth drill restore, measured against plain pg_dump and pg_restore on the same data: a
seeded database of about --mb megabytes on a scratch PostgreSQL 18, dumped and restored by hand
(directory format, the same --jobs), then drilled by dbtruth as a whole process (dump, restore
into a fresh scratch server, verification). Prints MB/s of each step and what verification
adds; asserts nothing.

    python benchmarks/bench_drill.py [--mb 300] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from dbtruth.sources.scratch import embedded_bindir, open_scratch

# About 190 bytes a row on disk, with its indexes.
_SEED = """
CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE entry (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES account,
                    amount numeric(12, 2) NOT NULL, memo text, at timestamptz NOT NULL);
CREATE INDEX entry_account_idx ON entry (account_id);
INSERT INTO account SELECT g, 'a' || g || '@example.org', now() - g * interval '1 s'
  FROM generate_series(1, %(accounts)s) g;
INSERT INTO entry SELECT g, 1 + g %% %(accounts)s, (g %% 100000) / 100.0, md5(g::text),
       now() - g * interval '1 s'
  FROM generate_series(1, %(entries)s) g;
"""


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    entries = args.mb * 1024 * 1024 // 190
    bindir = embedded_bindir()
    with open_scratch("embedded") as server, tempfile.TemporaryDirectory() as tmp:
        source = server.create_database()
        admin = psycopg.conninfo.make_conninfo(server.admin_conninfo, dbname=source.name)
        started = time.perf_counter()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(_SEED % {"accounts": max(1000, entries // 50), "entries": entries})
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        assert size is not None
        mb = size[0] / 1024 / 1024
        print(f"seeded {mb:,.0f} MB ({entries:,} entries) in {time.perf_counter() - started:.1f} s")
        dump = Path(tmp) / "dump"
        dump_s = timed([str(bindir / "pg_dump"), "-Fd", f"-j{args.jobs}", "-f", str(dump),
                        "-d", admin])  # fmt: skip
        dump_mb = sum(p.stat().st_size for p in dump.rglob("*") if p.is_file()) / 1024 / 1024
        target = server.create_database()
        restore_s = timed([str(bindir / "pg_restore"), f"-j{args.jobs}", "--no-owner",
                           "--no-privileges", "-d", target.conninfo, str(dump)])  # fmt: skip
        shutil.rmtree(dump)
        dbtruth = Path(sys.executable).with_name("dbtruth")
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([str(dbtruth), "drill", "restore", admin, "--jobs", str(args.jobs),
                               "--format", "json"], capture_output=True, text=True)  # fmt: skip
        whole = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        del before
        report = json.loads(done.stdout)
        seconds = report["seconds"]
        print(f"database {mb:,.0f} MB, dump {dump_mb:,.0f} MB, --jobs {args.jobs}\n")
        print("| step | plain pg_dump / pg_restore | dbtruth drill | dbtruth MB/s of database |")
        print("|---|---|---|---|")
        print(f"| dump | {dump_s:.2f} s ({mb / dump_s:,.1f} MB/s) | {seconds['dump']:.2f} s "
              f"| {mb / seconds['dump']:,.1f} |")  # fmt: skip
        print(f"| restore | {restore_s:.2f} s ({mb / restore_s:,.1f} MB/s) "
              f"| {seconds['restore']:.2f} s | {mb / seconds['restore']:,.1f} |")  # fmt: skip
        print(f"| verify (schema, counts, checksums, amcheck) | — | {seconds['verify']:.2f} s "
              f"| {mb / seconds['verify']:,.1f} |")  # fmt: skip
        print(f"| whole process | {dump_s + restore_s:.2f} s | {whole:.2f} s | |")
        print(f"\ndrill passed: {report['passed']}; measured RTO {seconds['rto']:.2f} s; "
              f"peak memory of the largest child process {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
