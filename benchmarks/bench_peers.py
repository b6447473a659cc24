"""dbtruth check next to schemalint (the catalog linter peer), side by side on the same
databases: each corpus and synthetic schema is loaded once into a scratch PostgreSQL, then both
tools read it as a live database, each as its own process.

    python benchmarks/bench_peers.py [--sizes 1000 10000]

Prints wall time and findings of each tool, and for the four concerns both cover — table
without primary key, foreign key without index, timestamp without time zone, row-level
security — the count each reports. schemalint is installed with npm into benchmarks/peers on
first use (needs node and the npm registry).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import Corpus, corpora
from dbtruth.sources import sqlfiles
from dbtruth.sources.scratch import ScratchServer, open_scratch
from synthetic import schema_sql

PEERS = Path(__file__).resolve().parent / "peers"
SCHEMALINT = PEERS / "node_modules" / ".bin" / "schemalint"
# schemalint rule -> the dbtruth rules that cover the same concern
OVERLAP = {
    "require-primary-key": ("I001",),
    "index-referencing-column": ("I002",),
    "prefer-timestamptz-to-timestamp": ("H001",),
    "row-level-security": ("S001", "S002", "S003"),
}


def _schemalint_ready() -> bool:
    if SCHEMALINT.exists():
        return True
    if shutil.which("npm") is None:
        return False
    subprocess.run(
        ["npm", "install", "--silent", "--prefix", str(PEERS)], check=False, capture_output=True
    )
    return SCHEMALINT.exists()


def _run_dbtruth(conninfo: str) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbtruth",
            "check",
            conninfo,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    counts: dict[str, int] = {}
    for finding in json.loads(done.stdout)["findings"]:
        counts[finding["code"]] = counts.get(finding["code"], 0) + 1
    return elapsed, counts


def _run_schemalint(conninfo: str, schemas: list[str]) -> tuple[float, dict[str, int]]:
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    config = {
        "connection": {
            "host": params["host"],
            "user": params.get("user", "postgres"),
            "database": params["dbname"],
            "port": int(params.get("port") or 5432),
        },
        "schemas": [{"name": s} for s in schemas],
        "rules": {
            "require-primary-key": ["error"],
            "index-referencing-column": ["error"],
            "prefer-timestamptz-to-timestamp": ["error"],
            "row-level-security": ["error", {"enforced": True}],
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        rc = Path(tmp) / ".schemalintrc.js"
        rc.write_text("module.exports = " + json.dumps(config) + ";\n")
        started = time.perf_counter()
        # schemalint reads .schemalintrc.js from its working directory (its -c option joins
        # an absolute path to the working directory once more)
        done = subprocess.run(
            [str(SCHEMALINT)], capture_output=True, text=True, check=False, cwd=tmp
        )
        elapsed = time.perf_counter() - started
    if "Connecting to" not in done.stdout:
        raise RuntimeError(f"schemalint did not run: {done.stdout}{done.stderr}")
    counts: dict[str, int] = {}
    if done.returncode not in (0, 1) or (
        done.returncode == 1 and ": error " not in done.stdout + done.stderr
    ):
        lines = done.stderr.strip().splitlines()
        last = next((line for line in lines if "Error" in line), lines[-1] if lines else "?")
        counts[f"FAILED (exit {done.returncode}: {last[:80]})"] = 0
    for line in (done.stdout + done.stderr).splitlines():  # issues go to stderr
        if ": error " in line:
            rule = line.split(": error ", 1)[1].split(" :", 1)[0].strip()
            counts[rule] = counts.get(rule, 0) + 1
    return elapsed, counts


def _load(server: ScratchServer, corpus: Corpus) -> tuple[str, str]:
    database = server.create_database()
    sqlfiles.load(
        database.conninfo,
        list(corpus.files),
        scratch_label=server.label,
        keep_going=corpus.keep_going,
        replacements=corpus.replacements,
        sandbox=database.sandbox,
    )
    return database.name, database.conninfo


def _schemas(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--no-corpora", action="store_true", help="synthetic schemas only")
    args = parser.parse_args()
    if not _schemalint_ready():
        print("schemalint is not available (needs npm); nothing to compare", file=sys.stderr)
        return
    targets: list[Corpus] = [] if args.no_corpora else [c for c in corpora() if c.scratch is None]
    tmp = Path(tempfile.mkdtemp())
    for size in args.sizes:
        path = tmp / f"synthetic_{size}.sql"
        path.write_text(schema_sql(size))
        targets.append(Corpus(f"synthetic-{size}", (path,)))
    print(
        "| target | dbtruth s | schemalint s | dbtruth findings | schemalint findings | "
        + " | ".join(f"{rule} (schemalint/dbtruth)" for rule in OVERLAP)
        + " |"
    )
    print("|---|---|---|---|---|" + "---|" * len(OVERLAP))
    with open_scratch("embedded") as server:
        for target in targets:
            print(f"… {target.name}", file=sys.stderr, flush=True)
            name, conninfo = _load(server, target)
            try:
                ours_s, ours = _run_dbtruth(conninfo)
                theirs_s, theirs = _run_schemalint(conninfo, _schemas(conninfo))
            finally:
                server.drop_database(name)
            overlap = [
                f"{theirs.get(rule, 0)}/{sum(ours.get(c, 0) for c in codes)}"
                for rule, codes in OVERLAP.items()
            ]
            failed = [k for k in theirs if k.startswith("FAILED")]
            their_total = failed[0] if failed else str(sum(theirs.values()))
            print(
                f"| {target.name} | {ours_s:.2f} | {theirs_s:.2f} | {sum(ours.values())} | "
                f"{their_total} | " + " | ".join(overlap) + " |",
                flush=True,
            )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
