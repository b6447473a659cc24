"""`dbtruth migrate lint` next to squawk on the migration corpora, side by side in one run.

    python benchmarks/bench_migrations.py            # table + disagreements
    python benchmarks/bench_migrations.py --show 5   # up to 5 example statements per class

For each corpus: files, wall time of each tool as its own process (best of three), dbtruth's
static pass in this process (read, parse, lint; best of three), findings of each tool, and —
for the lock- and rewrite-related concerns both tools cover — the statements where they
disagree, grouped by class. squawk gets the same files in the same order, the same PostgreSQL
version, and `--assume-in-transaction` where the project's runner wraps each file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pglast import ast
from pglast.enums import ConstrType

from corpora import CORPORA
from dbtruth.manifest import Manifest
from dbtruth.migrate.lint import advance, lint
from dbtruth.model.migration import MigrationState
from dbtruth.rules.migration_locks import (
    added_columns,
    blocks_writes,
    migration_name,
    new_column_fk_scans,
    phase_of,
    predict,
)
from dbtruth.rules.migration_state import after_statement
from dbtruth.sources.migrations import discover, read_file

PG_VERSION = 15
# squawk rule -> the dbtruth rule covering the same hazard (lock-, rewrite- and
# compatibility-related rules only; style rules such as prefer-robust-stmts are left out).
SQUAWK_TO_DBTRUTH = {
    "require-concurrent-index-creation": "M001",
    "disallowed-unique-constraint": "M001",
    "ban-concurrent-index-creation-in-transaction": "M002",
    "constraint-missing-not-valid": "M003",
    "adding-foreign-key-constraint": "M003",
    "adding-not-nullable-field": "M004",
    "changing-column-type": "M005",
    "adding-field-with-default": "M006",
    # squawk reports ALTER TABLE … ADD PRIMARY KEY under this name: the index is built under
    # ACCESS EXCLUSIVE, which dbtruth reports as M001.
    "adding-serial-primary-key-field": "M001",
    "ban-drop-column": "M008",
    "ban-drop-table": "M008",
    "renaming-column": "M009",
    "renaming-table": "M009",
    "require-lock-timeout": "M011",
}


@dataclass
class MigrationCorpus:
    name: str
    files: list[Path]
    wrapped: bool  # the project's runner runs each file in a transaction
    lexical: bool = False
    one_query: bool = False  # the runner sends each file as one query (Prisma)
    replacements: tuple[tuple[str, str], ...] = ()


def _synapse() -> list[Path]:
    """Synapse applies deltas one version at a time across common/main/state, by file name."""
    root = CORPORA / "synapse/synapse/storage/schema"
    found = []
    for part in ("common", "main", "state"):
        for path in (root / part / "delta").glob("*/*"):
            version = path.parent.name
            if not version.isdigit() or int(version) < 73:
                continue  # below 73 is covered by full schema 72
            if path.name.endswith((".sql", ".sql.postgres")):
                found.append(path)
    return sorted(found, key=lambda p: (int(p.parent.name), p.name))


def migration_corpora() -> list[MigrationCorpus]:
    if not CORPORA.is_dir():
        return []
    # Supabase's migrations write the schema placeholder both ways: three files omit a space
    auth_ns = (
        ('{{ index .Options "Namespace" }}', "auth"),
        ('{{index .Options "Namespace" }}', "auth"),
    )
    temporal = CORPORA / "temporal/schema/postgresql/v12"
    return [
        MigrationCorpus(
            "langfuse",
            discover([CORPORA / "langfuse/packages/shared/prisma/migrations"], lexical=True),
            wrapped=False,
            lexical=True,
            one_query=True,
        ),
        MigrationCorpus(
            "ory-kratos", discover([CORPORA / "ory-kratos/persistence/sql/migrations/sql"]), True
        ),
        MigrationCorpus("synapse-deltas", _synapse(), True),
        MigrationCorpus(
            "supabase-auth",
            discover([CORPORA / "supabase-auth/migrations"]),
            True,
            replacements=auth_ns,
        ),
        MigrationCorpus(
            "supabase-storage", discover([CORPORA / "supabase-storage/migrations/tenant"]), True
        ),
        MigrationCorpus(
            "temporal",
            discover([temporal / "temporal/versioned"])
            + discover([temporal / "visibility/versioned"]),
            False,  # Temporal's schema tool sends each statement alone, in autocommit
        ),
    ]


def _static_pass(corpus: MigrationCorpus) -> tuple[float, list[dict[str, object]]]:
    best = float("inf")
    findings: list[dict[str, object]] = []
    for _ in range(3):
        migration_name.cache_clear()  # each run starts cold, as a dbtruth process does
        started = time.perf_counter()
        parsed = [
            read_file(f, i, wrapped_default=corpus.wrapped, mode="auto",
                      replacements=corpus.replacements, one_query_runner=corpus.one_query)
            for i, f in enumerate(corpus.files)
        ]  # fmt: skip
        outcome = lint(parsed, Manifest(), pg_version=PG_VERSION * 10000)
        best = min(best, time.perf_counter() - started)
        findings = [
            {"code": f.code, "file": f.location.file, "line": f.location.line}  # type: ignore[union-attr]
            for f in outcome.result.findings
        ]
    spans.clear()
    state = MigrationState(pg_version=PG_VERSION * 10000)
    on_new_tables.clear()
    no_rewrite.clear()
    for migration in parsed:
        spans[migration.path] = [
            (st.line, st.line + st.sql.count("\n")) for st in migration.statements
        ]
        # Replay the file's state to tell, per statement, whether every table it locks was
        # created earlier in the same file (new and empty); column types carry over.
        state.created_here = set()
        blocking_on_existing = False
        for ordinal, statement in enumerate(migration.statements):
            locks = predict(statement.node, state, statement.sql)
            # the statement's own table (a foreign key's referenced table is locked too, but
            # that is the lock-queue hazard of M011, reported for the file)
            new = bool(locks) and state.is_new(locks[0].relation)
            on_new_tables[(migration.path, ordinal)] = new
            no_rewrite[(migration.path, ordinal)] = bool(locks) and not any(
                lock.rewrite for lock in locks
            )
            unchecked_fk[(migration.path, ordinal)] = _unchecked_foreign_key(statement.node)
            blocking_on_existing |= any(
                blocks_writes(lock.mode) and not state.is_new(lock.relation) for lock in locks
            )
            state.phase = phase_of(statement.node, state)
            advance(state, statement.node)
            after_statement(state, statement)
        on_new_tables[(migration.path, -1)] = not blocking_on_existing
    return best, findings


# (file, statement ordinal) -> the statement locks only tables created earlier in its file;
# (file, -1) -> no statement of the file blocks writes on a table that existed before it.
on_new_tables: dict[tuple[str, int], bool] = {}
# (file, statement ordinal) -> the lock table predicts no rewrite (same or coercible type)
no_rewrite: dict[tuple[str, int], bool] = {}
# (file, statement ordinal) -> ADD COLUMN … REFERENCES without a default: PostgreSQL checks
# no row (the new column is NULL everywhere)
unchecked_fk: dict[tuple[str, int], bool] = {}


def _unchecked_foreign_key(node: object) -> bool:
    if not isinstance(node, ast.AlterTableStmt):
        return False
    columns = [
        c for c in added_columns(tuple(node.cmds or ()))
        if any(k.contype == ConstrType.CONSTR_FOREIGN for k in c.constraints or ())
    ]  # fmt: skip
    return bool(columns) and not any(new_column_fk_scans(c) for c in columns)


# file -> (first line, last line) of each statement, to match the two tools' findings by
# statement: squawk reports 0-based lines, sometimes at a comment or a token inside it.
spans: dict[str, list[tuple[int, int]]] = {}


def statement_of(file: str, line: int) -> int:
    for ordinal, (_first, last) in enumerate(spans.get(file, [])):
        if line <= last:
            return ordinal  # a line in the comment above a statement belongs to it
    return len(spans.get(file, []))


def _key(file: str, line: int, code: str) -> tuple[str, int, str]:
    """Findings match by statement; a missing lock_timeout is a property of the file (dbtruth
    reports it once per file, squawk on each statement), so it matches by file. squawk's
    adding-field-with-default also covers stored generated columns, dbtruth's M007."""
    code = "M006" if code == "M007" else code
    return (file, -1 if code == "M011" else statement_of(file, line), code)


def _process(argv: list[str], stdin_files: Path | None = None) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - started)
        out = done.stdout
    return best, out


def squawk_argv(corpus: MigrationCorpus, files: list[Path]) -> list[str]:
    """squawk on the files (see replaced_copies), as the project's runner runs them."""
    argv = ["squawk", "--reporter", "json", f"--pg-version={PG_VERSION}.0"]
    if corpus.wrapped:
        argv.append("--assume-in-transaction")
    return [*argv, *map(str, files)]


def _squawk(corpus: MigrationCorpus, files: list[Path]) -> tuple[float, list[dict[str, object]]]:
    seconds, out = _process(squawk_argv(corpus, files))
    return seconds, json.loads(out or "[]")


def dbtruth_argv(corpus: MigrationCorpus, order: Path, fmt: str = "json") -> list[str]:
    """dbtruth migrate lint on the files listed in `order`, as the project's runner runs them."""
    argv = [
        sys.executable, "-m", "dbtruth", "migrate", "lint", str(order.parent), "--order",
        str(order), "--format", fmt, "--pg-version", str(PG_VERSION), "--fail-on", "never",
    ]  # fmt: skip
    if not corpus.wrapped:
        argv += ["--transaction", "none"]
    for old, new in corpus.replacements:
        argv += ["--replace", f"{old}={new}"]
    return argv


def _dbtruth_process(corpus: MigrationCorpus, order: Path) -> float:
    seconds, _ = _process(dbtruth_argv(corpus, order))
    return seconds


def replaced_copies(corpus: MigrationCorpus, tmp: Path) -> list[Path]:
    """squawk has no --replace: give it copies with the placeholders filled, as a user would."""
    if not corpus.replacements:
        return corpus.files
    copies = []
    for i, path in enumerate(corpus.files):
        text = path.read_text(encoding="utf-8")
        for old, new in corpus.replacements:
            text = text.replace(old, new)
        copy = tmp / f"{i:04}_{path.name}"
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


def _where(key: tuple[str, int, str]) -> str:
    short = key[0].replace(str(CORPORA) + "/", "")
    return short if key[1] < 0 else f"{short} statement {key[1] + 1}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", type=int, default=2, help="examples per disagreement class")
    args = parser.parse_args()
    if shutil.which("squawk") is None:
        sys.exit("squawk not found: pip install squawk-cli")
    corpora = migration_corpora()
    if not corpora:
        sys.exit(f"corpora not found at {CORPORA} (set DBTRUTH_CORPORA)")
    rows = []
    classes: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for corpus in corpora:
            print(f"… {corpus.name}", file=sys.stderr, flush=True)
            order = tmp / f"{corpus.name}.order"
            order.write_text("\n".join(str(f) for f in corpus.files) + "\n")
            static_s, ours = _static_pass(corpus)
            process_s = _dbtruth_process(corpus, order)
            (tmp / corpus.name).mkdir(exist_ok=True)
            squawk_files = replaced_copies(corpus, tmp / corpus.name)
            squawk_s, theirs = _squawk(corpus, squawk_files)
            back = {str(c): str(o) for c, o in zip(squawk_files, corpus.files, strict=True)}
            ours_keys = {
                _key(str(f["file"]), int(f["line"]), str(f["code"]))  # type: ignore[call-overload]
                for f in ours
            }
            theirs_keys = set()
            for f in theirs:
                if f["rule_name"] not in SQUAWK_TO_DBTRUTH:
                    continue
                file = back.get(str(f["file"]), str(f["file"]))
                line = int(f["line"]) + 1  # type: ignore[call-overload]
                theirs_keys.add(_key(file, line, SQUAWK_TO_DBTRUTH[str(f["rule_name"])]))
            lock_ours = {k for k in ours_keys if k[2] in set(SQUAWK_TO_DBTRUTH.values())}
            ours_at: dict[tuple[str, int], set[str]] = defaultdict(set)
            for file, ordinal, code in ours_keys:
                ours_at[(file, ordinal)].add(code)
            for key in sorted(theirs_keys - lock_ours):
                new = on_new_tables.get((key[0], key[1]), False)
                label = "squawk only, new tables" if new else "squawk only"
                if key[2] == "M005" and no_rewrite.get((key[0], key[1])):
                    label = "squawk only, no rewrite (same or binary-coercible type)"
                if key[2] == "M003" and unchecked_fk.get((key[0], key[1])):
                    label = "squawk only, new column without a default (no row checked)"
                other = sorted(ours_at.get((key[0], key[1]), set()) - {key[2]})
                if other:
                    label = f"squawk only, dbtruth reports the statement as {'/'.join(other)}"
                if key[2] == "M011" and new:
                    label = "squawk only, no lock on an existing table"
                classes[corpus.name][f"{key[2]} {label}"] += 1
                examples[(key[2], label)].append(_where(key))
            for key in sorted(lock_ours - theirs_keys):
                classes[corpus.name][f"{key[2]} dbtruth only"] += 1
                examples[(key[2], "dbtruth only")].append(_where(key))
            rows.append(
                {
                    "corpus": corpus.name,
                    "files": len(corpus.files),
                    "squawk_s": squawk_s,
                    "dbtruth_s": process_s,
                    "dbtruth_static_s": static_s,
                    "static_vs_squawk": static_s / squawk_s if squawk_s else float("nan"),
                    "squawk_findings": len(theirs),
                    "squawk_lock_findings": len(theirs_keys),
                    "dbtruth_findings": len(ours),
                }
            )
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                 for v in row.values()) + " |")  # fmt: skip
    print("\nDisagreements on the shared concerns (statement-level, per corpus):\n")
    names = sorted({c for counts in classes.values() for c in counts})
    print("| class | " + " | ".join(r["corpus"] for r in rows) + " |")  # type: ignore[misc]
    print("|---|" + "---|" * len(rows))
    for name in names:
        print(f"| {name} | " + " | ".join(str(classes[r["corpus"]][name]) for r in rows) + " |")  # type: ignore[index]
    if args.show:
        print()
        for (code, side), where in sorted(examples.items()):
            print(f"{code} {side}: " + ", ".join(where[: args.show]))


if __name__ == "__main__":
    main()
