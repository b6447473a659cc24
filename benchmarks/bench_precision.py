"""What dbtruth says about schemas nobody here wrote, laid out for a person to judge.

For every corpus in ../shared/corpora: the findings of `check` per rule and severity, and those
of `migrate lint` for the migration corpora; then a seeded random sample of warnings and errors
with their message, evidence and fix, numbered so a judge can write down which are worth acting
on. The sample is the same for the same seed and the same findings.

    python benchmarks/bench_precision.py                   # counts + 50 sampled per corpus
    python benchmarks/bench_precision.py --sample 20 --seed 7 --corpus langfuse
    python benchmarks/bench_precision.py --json out.json   # the sample as data, for judging
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_migrations import PG_VERSION, migration_corpora
from corpora import corpora
from dbtruth import engine
from dbtruth.findings import Finding, Location, Severity
from dbtruth.manifest import Manifest
from dbtruth.migrate.lint import lint
from dbtruth.sources.migrations import read_file
from dbtruth.sources.target import LoadOptions, load_target


def _check(name: str) -> list[Finding]:
    corpus = next(c for c in corpora() if c.name == name)
    options = LoadOptions(
        scratch=corpus.scratch, keep_going=corpus.keep_going, replacements=corpus.replacements
    )
    loaded = load_target(tuple(str(f) for f in corpus.files), options)
    locations = {n: Location(f, line) for n, (f, line) in loaded.locations.items()}
    return engine.run(loaded.catalog, Manifest(), locations=locations).findings


def _lint(name: str) -> list[Finding]:
    corpus = next(c for c in migration_corpora() if c.name == name)
    parsed = [
        read_file(f, i, wrapped_default=corpus.wrapped, mode="auto",
                  replacements=corpus.replacements, one_query_runner=corpus.one_query)
        for i, f in enumerate(corpus.files)
    ]  # fmt: skip
    return lint(parsed, Manifest(), pg_version=PG_VERSION * 10000).result.findings


def _record(finding: Finding) -> dict[str, object]:
    fix = finding.violation.fix
    where = finding.location
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.name.lower(),
        "object": finding.object.path,
        "location": f"{where.file}:{where.line}" if where else None,
        "message": finding.message,
        "evidence": dict(finding.violation.evidence),
        "fix": None
        if fix is None
        else {f.name: getattr(fix, f.name) for f in dataclasses.fields(fix)},
    }


def _report(label: str, findings: list[Finding], size: int, seed: int) -> list[dict[str, object]]:
    print(f"\n## {label}: {len(findings)} finding(s)\n")
    counts = Counter((f.code, f.name, f.severity.name.lower()) for f in findings)
    print("| rule | name | severity | findings |\n|---|---|---|---|")
    for (code, name, severity), n in sorted(counts.items()):
        print(f"| {code} | {name} | {severity} | {n} |")
    actionable = [f for f in findings if f.severity >= Severity.WARNING]
    sample = random.Random(f"{seed}:{label}").sample(actionable, min(size, len(actionable)))
    print(f"\nsample: {len(sample)} of {len(actionable)} warnings and errors (seed {seed})\n")
    records = []
    for i, finding in enumerate(sample, 1):
        record = _record(finding)
        records.append({"corpus": label, "n": i, **record})
        print(f"{i}. [{record['code']} {record['severity']}] {record['object']}"
              f" ({record['location'] or 'no location'})")  # fmt: skip
        print(f"   {record['message']}")
        for key, value in (record["evidence"] or {}).items():  # type: ignore[attr-defined]
            print(f"   - {key}: {value}")
        if record["fix"]:
            print(f"   fix: {json.dumps(record['fix'])[:400]}")
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--corpus", action="append", help="only these corpora (repeatable)")
    parser.add_argument("--json", type=Path, help="write the samples here")
    args = parser.parse_args()
    wanted = set(args.corpus or [])
    samples: list[dict[str, object]] = []
    for corpus in corpora():
        if wanted and corpus.name not in wanted:
            continue
        samples += _report(f"check {corpus.name}", _check(corpus.name), args.sample, args.seed)
    for migration in migration_corpora():
        if wanted and migration.name not in wanted:
            continue
        samples += _report(
            f"migrate lint {migration.name}", _lint(migration.name), args.sample, args.seed
        )
    if args.json:
        args.json.write_text(json.dumps(samples, indent=1, default=str))


if __name__ == "__main__":
    main()
