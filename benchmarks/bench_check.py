"""Time `dbtruth check` on the public corpora and on synthetic schemas, and count what every
rule says on each corpus.

    python benchmarks/bench_check.py                 # corpora + synthetic 1,000 and 10,000
    python benchmarks/bench_check.py --only synthetic --sizes 1000 5000 10000

Prints load, introspection, rule and review time separately (seconds), peak memory of this
process, and a findings-per-rule table: a rule that fires on most tables of a well-run corpus is
noise. The review time is `dbtruth review` after the rules: the 15 sections, checklist and
maturity built from the catalog and the findings, then rendered as Markdown and as HTML.
`--reviews DIR` keeps each corpus's review.md and review.html there for reading.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import Corpus, corpora
from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.manifest import Manifest
from dbtruth.report import review_html, review_markdown
from dbtruth.review import build_review
from dbtruth.runtime import without_cycle_collection
from dbtruth.sources import sqlfiles
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.scratch import open_scratch
from dbtruth.sources.target import LoadOptions, load_target
from synthetic import schema_sql


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _review(
    catalog: object, result: engine.Result, name: str, keep: Path | None
) -> tuple[float, int]:
    """Seconds to build and render the review in both formats, and the maturity level."""
    started = time.perf_counter()
    review = build_review(
        catalog,  # type: ignore[arg-type]
        Manifest(),
        result,
        target=name,
        manifest_path=None,
        target_paths=(),
        today=date.today(),
    )
    markdown = review_markdown.render(review)
    html = review_html.render(review)
    seconds = time.perf_counter() - started
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / f"{name}.md").write_text(markdown, encoding="utf-8")
        (keep / f"{name}.html").write_text(html, encoding="utf-8")
    return seconds, review.maturity.level


def bench_corpus(
    corpus: Corpus, keep: Path | None = None
) -> tuple[dict[str, object], Counter[str]]:
    options = LoadOptions(
        scratch=corpus.scratch, keep_going=corpus.keep_going, replacements=corpus.replacements
    )
    started = time.perf_counter()
    loaded = load_target(tuple(str(f) for f in corpus.files), options)
    total_load = time.perf_counter() - started
    started = time.perf_counter()
    result = engine.run(loaded.catalog, Manifest())
    rules = time.perf_counter() - started
    review_s, level = _review(loaded.catalog, result, corpus.name, keep)
    counts = Counter(f.code for f in result.findings)
    row = {
        "corpus": corpus.name,
        "files": len(corpus.files),
        "tables": len(loaded.catalog.tables),
        "load_s": loaded.timings.get("load", 0.0),
        "introspect_s": loaded.timings.get("introspect", 0.0),
        "rules_s": rules,
        "end_to_end_s": total_load + rules,
        "review_s": review_s,
        "level": level,
        "findings": len(result.findings),
        "warn+err": sum(1 for f in result.findings if f.severity >= Severity.WARNING),
        "not_loaded": len(loaded.catalog.load_problems),
        "server": loaded.catalog.server_version.split()[0],
    }
    return row, counts


def bench_synthetic(size: int, scratch: str) -> dict[str, object]:
    with open_scratch(scratch) as server, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"synthetic_{size}.sql"
        path.write_text(schema_sql(size))
        database = server.create_database()
        name, conninfo = database.name, database.conninfo
        started = time.perf_counter()
        sqlfiles.load(conninfo, [path], scratch_label=server.label, sandbox=database.sandbox)
        load = time.perf_counter() - started
        with psycopg.connect(conninfo, autocommit=True) as conn:
            started, cpu = time.perf_counter(), time.process_time()
            catalog = read_catalog(conn, "synthetic", live=False)
            introspect = time.perf_counter() - started
        started = time.perf_counter()
        result = engine.run(catalog, Manifest())
        rules = time.perf_counter() - started
        cpu = time.process_time() - cpu
        review_s, level = _review(catalog, result, f"synthetic-{size}", None)
        server.drop_database(name)
    return {
        "corpus": f"synthetic-{size}",
        "files": 1,
        "tables": len(catalog.tables),
        "load_s": load,
        "introspect_s": introspect,
        "rules_s": rules,
        "end_to_end_s": load + introspect + rules,
        "review_s": review_s,
        "level": level,
        "findings": len(result.findings),
        "warn+err": sum(1 for f in result.findings if f.severity >= Severity.WARNING),
        "not_loaded": 0,
        "server": catalog.server_version.split()[0],
        "dbtruth_cpu_s": cpu,
    }


def _table(rows: list[dict[str, object]]) -> str:
    columns = [
        "corpus",
        "server",
        "files",
        "tables",
        "load_s",
        "introspect_s",
        "rules_s",
        "end_to_end_s",
        "review_s",
        "level",
        "findings",
        "warn+err",
        "not_loaded",
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    # As the CLI runs: see dbtruth.runtime.
    with without_cycle_collection():
        _main()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["corpora", "synthetic"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument(
        "--scratch",
        default="embedded",
        help="scratch server for synthetic schemas (default: embedded)",
    )
    parser.add_argument("--reviews", type=Path, help="keep each corpus's review here")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    per_rule: dict[str, Counter[str]] = {}
    if args.only != "synthetic":
        available = corpora()
        if not available:
            print("corpora not found (set DBTRUTH_CORPORA); skipping them", file=sys.stderr)
        for corpus in available:
            print(f"… {corpus.name}", file=sys.stderr, flush=True)
            try:
                row, counts = bench_corpus(corpus, args.reviews)
            except Exception as exc:  # report and go on: one broken corpus is a finding too
                print(f"{corpus.name}: FAILED: {exc}", file=sys.stderr)
                continue
            rows.append(row)
            per_rule[corpus.name] = counts
    if args.only != "corpora":
        for size in args.sizes:
            print(f"… synthetic {size}", file=sys.stderr, flush=True)
            row = bench_synthetic(size, args.scratch)
            rows.append(row)
            print(
                f"synthetic-{size}: introspection + rules "
                f"{float(row['introspect_s']) + float(row['rules_s']):.2f} s wall, "
                f"dbtruth process CPU {float(row['dbtruth_cpu_s']):.2f} s",
                file=sys.stderr,
            )
    print(_table(rows))
    if per_rule:
        codes = sorted({c for counts in per_rule.values() for c in counts})
        print()
        print("| rule | " + " | ".join(per_rule) + " |")
        print("|---|" + "---|" * len(per_rule))
        for code in codes:
            print(
                f"| {code} | " + " | ".join(str(per_rule[n].get(code, 0)) for n in per_rule) + " |"
            )
    print(f"\npeak memory of the benchmark process: {_peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
