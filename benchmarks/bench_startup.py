"""Start-up, whole process, side by side with squawk (a compiled binary): `dbtruth --help`
against `squawk --help`, and `dbtruth migrate lint` against `squawk` on every migration corpus
(the same files, order, PostgreSQL version and transaction model as bench_migrations.py).

    python benchmarks/bench_startup.py               # 7 paired rounds
    python benchmarks/bench_startup.py --rounds 15

Each round runs every command once, in an order that alternates between rounds, so that a
machine busy with other work slows both tools alike; the table gives medians of the rounds:
each tool's wall time, the median of the per-round ratios, and dbtruth's CPU time (user +
system), which other work on a shared machine changes less than the wall time. dbtruth runs as
its console script, writing JSON as squawk does (`terminal_s`: dbtruth's default terminal
report, which pre-commit shows). Targets: `dbtruth --help` at most 0.10 s; `migrate lint` at
most twice squawk's time on corpora of 300 files or more, and at most 0.25 s on smaller ones.
"""

from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbtruth
from bench_migrations import dbtruth_argv, migration_corpora, replaced_copies, squawk_argv
from corpora import CORPORA

Times = dict[str, list[float]]
DBTRUTH = Path(sys.executable).with_name("dbtruth")  # the console script, as users run it
LARGE_CORPUS_FILES = 300


def seconds(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(commands: dict[str, list[str]], rounds: int) -> tuple[Times, Times]:
    """Each command's wall and CPU times, one per round; the order turns every round."""
    names = list(commands)
    wall: Times = {name: [] for name in names}
    cpu: Times = {name: [] for name in names}
    for name in names:
        seconds(commands[name])  # once unmeasured: files and binaries in the page cache
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            spent = seconds(commands[name])
            wall[name].append(spent[0])
            cpu[name].append(spent[1])
    return wall, cpu


def median_ratio(ours: list[float], theirs: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def as_console_script(argv: list[str]) -> list[str]:
    """bench_migrations runs `python -m dbtruth`; here it is the `dbtruth` script."""
    assert argv[:3] == [sys.executable, "-m", "dbtruth"], argv
    return [str(DBTRUTH), *argv[3:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="paired rounds per command")
    args = parser.parse_args()
    if shutil.which("squawk") is None:
        sys.exit("squawk not found: pip install squawk-cli")
    if not DBTRUTH.exists():
        sys.exit(f"{DBTRUTH} not found: pip install -e .")
    corpora = migration_corpora()
    if not corpora:
        sys.exit(f"corpora not found at {CORPORA} (set DBTRUTH_CORPORA)")
    # A user's first run writes dbtruth's bytecode and later runs read it; a checkout whose
    # files changed since (or an environment with PYTHONDONTWRITEBYTECODE) would otherwise
    # time the compilation of every changed module, on every run.
    compileall.compile_dir(str(Path(dbtruth.__file__).parent), quiet=1)
    print(
        "| command | files | squawk_s | dbtruth_s | ratio | dbtruth_cpu_s | terminal_s | target "
        "| met |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    times, cpu = paired(
        {"squawk": ["squawk", "--help"], "dbtruth": [str(DBTRUTH), "--help"]}, args.rounds
    )
    ours = statistics.median(times["dbtruth"])
    print(
        f"| --help | | {statistics.median(times['squawk']):.3f} | {ours:.3f} | "
        f"{median_ratio(times['dbtruth'], times['squawk']):.1f} | "
        f"{statistics.median(cpu['dbtruth']):.3f} | | ≤ 0.10 s | "
        f"{'yes' if ours <= 0.10 else 'no'} |",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for corpus in corpora:
            order = tmp / f"{corpus.name}.order"
            order.write_text("\n".join(str(f) for f in corpus.files) + "\n")
            (tmp / corpus.name).mkdir(exist_ok=True)
            squawk_files = replaced_copies(corpus, tmp / corpus.name)
            times, cpu = paired(
                {
                    "squawk": squawk_argv(corpus, squawk_files),
                    "dbtruth": as_console_script(dbtruth_argv(corpus, order)),
                    "terminal": as_console_script(dbtruth_argv(corpus, order, "terminal")),
                },
                args.rounds,
            )
            theirs, ours = statistics.median(times["squawk"]), statistics.median(times["dbtruth"])
            ratio = median_ratio(times["dbtruth"], times["squawk"])
            large = len(corpus.files) >= LARGE_CORPUS_FILES
            target, met = ("≤ 2× squawk", ratio <= 2) if large else ("≤ 0.25 s", ours <= 0.25)
            print(
                f"| migrate lint {corpus.name} | {len(corpus.files)} | {theirs:.3f} | "
                f"{ours:.3f} | {ratio:.1f} | {statistics.median(cpu['dbtruth']):.3f} | "
                f"{statistics.median(times['terminal']):.3f} | "
                f"{target} | {'yes' if met else 'no'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
