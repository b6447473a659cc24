"""How long the sandboxed scratch server takes: start (initdb, postmaster, dbtruth's roles),
one scratch database, and stop with its folder removed — for each kind of server the machine
has, and the whole `dbtruth check examples/legacy` process on it. Prints medians (and min–max)
over several runs.

    python benchmarks/bench_scratch.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dbtruth.sources.scratch import open_scratch, system_bindir

ROOT = Path(__file__).resolve().parent.parent


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def bench(kind: str, runs: int) -> dict[str, str]:
    start, database, stop, whole = [], [], [], []
    for _ in range(runs):
        began = time.perf_counter()
        server = open_scratch(kind)
        started = time.perf_counter()
        made = server.create_database()
        server.drop_database(made.name)
        created = time.perf_counter()
        server.close()
        stopped = time.perf_counter()
        start.append(started - began)
        database.append(created - started)
        stop.append(stopped - created)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dbtruth", "check", str(ROOT / "examples" / "legacy"),
             "--scratch", kind, "--fail-on", "never"],
            check=True, capture_output=True,
        )  # fmt: skip
        whole.append(time.perf_counter() - began)
    return {
        "server": server.label,
        "start_s": _spread(start),
        "database_s": _spread(database),
        "stop_s": _spread(stop),
        "check_legacy_process_s": _spread(whole),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kinds = ["embedded"] + (["system"] if system_bindir() else [])
    rows = [bench(kind, args.runs) for kind in kinds]
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


if __name__ == "__main__":
    main()
