"""`dbtruth migrate lint` as one call: find the migrations in apply order, read what the
--against target holds, lint statement by statement, and with --replay run the set on a clone
and let what PostgreSQL did correct what the static table predicted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbtruth.engine import Result
from dbtruth.errors import DbtruthError
from dbtruth.findings import Severity
from dbtruth.inputs import UnreadableInput
from dbtruth.migrate import DEFAULT_PG_VERSION, DEFAULT_SMALL_TABLE_ROWS
from dbtruth.migrate.blast import TableSize, table_sizes
from dbtruth.migrate.lint import LintResult, lint
from dbtruth.model.migration import MigrationFile
from dbtruth.reading import (
    TargetOptions,
    fail_threshold,
    parse_replacements,
    read_manifest_if_any,
)
from dbtruth.rules.migration_locks import declared_typmods
from dbtruth.sources import migrations
from dbtruth.sources.migrations import TransactionMode
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest
    from dbtruth.migrate.replay import Difference, Failure, Observation


@dataclass(frozen=True, slots=True)
class LintOptions:
    paths: tuple[Path, ...]
    against: str | None = None  # the database the migrations will run on: URL, files, snapshot
    pg_version: str | None = None  # a major version as typed; else the target's, else 14
    replay: bool = False
    small_table_rows: int | None = None  # else the manifest's rules.settings.small_table_rows
    transaction: TransactionMode = "auto"
    order_file: Path | None = None
    replace: tuple[str, ...] = ()  # OLD=NEW in the migrations
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    manifest: Path | None = None
    allow_outside_paths: bool = False
    baseline: Path | None = None
    fail_on: str | None = None
    scratch: str | None = None  # the server that loads --against SQL files and the replay
    statement_timeout: str = "60s"
    lock_timeout: str = "1s"


@dataclass(frozen=True, slots=True)
class Replayed:
    """What the clone showed: every statement's locks and rewrites, where they differ from
    the prediction, and the first failure (which stops the replay)."""

    server: str
    observations: list[Observation]
    differences: list[Difference]
    failure: Failure | None
    notes: list[str]  # how the clone was made, what replay withdrew, the differences
    workload_planned: bool = False  # dbtruth.yaml's queries were re-planned after it


@dataclass
class MigrationLint:
    result: Result
    statements: int
    problems: list[str]  # unparseable statements and unreadable files, one line each
    notes: list[str]
    phases: dict[str, str]  # file -> expand, backfill, contract, … or mixed
    source: str  # what was linted, and against what
    pg_major: int
    threshold: Severity | None  # the severity that fails the run; None: never
    replayed: Replayed | None = None

    def fails(self) -> bool:
        if self.replayed is not None and self.replayed.failure is not None:
            return True  # a migration that fails on a clone fails in production
        if self.problems and self.threshold is not None:
            return True  # a statement PostgreSQL cannot parse fails on deploy too
        return self.threshold is not None and any(
            f.severity >= self.threshold for f in self.result.findings
        )


@dataclass
class _Target:
    """What the --against target says about the database the migrations run on."""

    existing: frozenset[str] | None = None  # None: unknown, every table may exist
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    typmods: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, TableSize] = field(default_factory=dict)
    version: int | None = None
    description: str = ""
    live_major: int | None = None  # a live target's major version: replay matches it


def lint_migrations(options: LintOptions) -> MigrationLint:
    paths = tuple(str(p) for p in options.paths)
    manifest = read_manifest_if_any(options.manifest, paths, options.allow_outside_paths)
    auto = options.transaction == "auto"
    skipped: list[str] = []  # FIFOs and the like named *.sql: never opened
    files = migrations.discover(
        options.paths, options.order_file, lexical=None if auto else False, notes=skipped
    )
    prisma = auto and migrations.is_prisma(files)
    version = _pg_version(options.pg_version)
    against = options.against
    target = _Target()
    if against is not None:
        from dbtruth.sources.conninfo import is_url, normalize  # psycopg: only with --against

        if is_url(against):
            against = normalize(against)  # replay hands it to pg_dump, which knows one spelling
        target = _read_target(against, options)
    version = version or target.version or DEFAULT_PG_VERSION
    source = f"{counted(len(files), 'migration file')}"
    if against is not None:
        source += f" against {target.description}"
    replacements = parse_replacements(options.replace)
    parsed: list[MigrationFile] = []  # kept for --replay only
    unreadable: list[str] = []  # a file that is not text is reported, the others still checked

    def read() -> Iterator[MigrationFile]:
        # Without --replay each file is parsed while it is linted and freed after it: a 50 MB
        # migration is never held as a million parse trees.
        reader = migrations.read_file if options.replay else migrations.stream_file
        for i, f in enumerate(files):
            try:
                migration = reader(
                    f, i, wrapped_default=not prisma, mode=options.transaction,
                    replacements=replacements, one_query_runner=prisma,
                )  # fmt: skip
            except UnreadableInput:
                raise  # a file that cannot be read at all, or is over a limit, stops the run
            except DbtruthError as exc:
                unreadable.append(str(exc))
                continue
            if migration.skipped:
                skipped.append(migration.skipped)
            if options.replay:
                parsed.append(migration)
            yield migration

    outcome = lint(
        read(),
        manifest,
        pg_version=version,
        existing=target.existing,
        existing_columns=target.columns,
        existing_typmods=target.typmods,
        existing_indexes=target.indexes,
        sizes=target.sizes,
        small_table_rows=_small_table_rows(options, manifest),
        record_predictions=options.replay,
        select=list(options.select),
        ignore=list(options.ignore),
        baseline=options.baseline,
    )
    outcome.problems[:0] = unreadable
    if outcome.statements == 0:
        # one line: the error, with the first reason when there is one
        problems = outcome.problems
        first = (
            f" ({counted(len(problems), 'problem')}, the first: {problems[0]})" if problems else ""
        )
        raise DbtruthError(f"no statement could be parsed; nothing was checked{first}")
    notes = [
        *skipped,
        f"rules judged for PostgreSQL {version // 10000}"
        + ("" if options.pg_version or against else " (the default; set --pg-version)"),
        *(
            f"unused inline ignore at {s.file}:{s.line} ({', '.join(s.codes)}): {s.reason}"
            for s in outcome.unused_inline
        ),
    ]
    replayed = None
    if options.replay:
        replayed = _replay(
            parsed, outcome, against, target.live_major, replacements, options, manifest
        )
        notes += replayed.notes
    counts = Counter(outcome.phases.values())
    notes.append(
        "migration phases: " + ", ".join(f"{n} {phase}" for phase, n in counts.most_common())
    )
    return MigrationLint(
        result=outcome.result,
        statements=outcome.statements,
        problems=_shown(outcome.problems),
        notes=notes,
        phases=outcome.phases,
        source=source,
        pg_major=version // 10000,
        threshold=fail_threshold(options.fail_on, manifest),
        replayed=replayed,
    )


def _read_target(against: str, options: LintOptions) -> _Target:
    from dbtruth.reading import load
    from dbtruth.sources.target import is_live

    loaded = load(
        TargetOptions(
            (against,),
            scratch=options.scratch,
            statement_timeout=options.statement_timeout,
            lock_timeout=options.lock_timeout,
        )
    )
    catalog = loaded.catalog
    live = is_live((against,)) and catalog.server_version_num
    return _Target(
        existing=frozenset(t.qualified for t in catalog.tables)
        | frozenset(v.qualified for v in catalog.views),
        columns={(t.qualified, c.name): c.type_name for t in catalog.tables for c in t.columns},
        typmods={
            (t.qualified, c.name): declared_typmods(c.type)
            for t in catalog.tables
            for c in t.columns
            if c.domain is None and not c.type.endswith("]")
        },
        indexes={i.qualified: i.table_qualified for i in catalog.indexes},
        sizes=table_sizes(catalog),  # live targets and their snapshots only
        version=catalog.server_version_num or None,
        description=loaded.description,
        live_major=catalog.server_version_num // 10000 if live else None,
    )


def _small_table_rows(options: LintOptions, manifest: Manifest | None) -> int:
    if options.small_table_rows is not None:
        return options.small_table_rows
    if manifest is None:
        return DEFAULT_SMALL_TABLE_ROWS
    return manifest.rules.settings.small_table_rows


def _pg_version(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.strip()
    if not digits.isdigit():
        raise DbtruthError(f"--pg-version expects a major version such as 15, got '{text}'")
    number = int(digits)
    return number * 10000 if number < 100 else number


def _replay(
    parsed: list[MigrationFile],
    outcome: LintResult,
    against: str | None,
    live_major: int | None,
    replacements: tuple[tuple[str, str], ...],
    options: LintOptions,
    manifest: Manifest | None,
) -> Replayed:
    """Run the migrations on a clone of the target (an empty database without one), with
    dbtruth.yaml's workload planned before and after them."""
    from dbtruth.migrate import contracts, replay
    from dbtruth.sources.scratch import open_scratch, open_scratch_for_major

    queries = contracts.declared_queries(manifest)  # a bad query stops the run before a server

    notes: list[str] = []
    if live_major is not None:
        server, version_note = open_scratch_for_major(options.scratch, live_major)
        notes += [version_note] if version_note else []
    else:
        server = open_scratch(options.scratch)
    with server:
        if against:
            database, clone_notes = replay.clone(
                against, server, replacements, options.lock_timeout
            )
            notes += [n for n in clone_notes if "setting unknown" in n][:5]
        else:
            database = server.create_database()
        before = contracts.plan_all(database.conninfo, queries) if queries else None
        observations, failure = replay.replay(parsed, database, options.statement_timeout)
        after = (
            contracts.plan_all(database.conninfo, queries)
            if before is not None and failure is None
            else None
        )
    judged = None
    if before is not None and after is not None and manifest is not None:
        judged = contracts.judge(before, after, manifest, options.baseline)
        outcome.result.findings += judged.findings
        notes += [
            f"workload: {counted(judged.planned, 'declared query')} planned on the clone before "
            f"and after the migrations; {counted(len(judged.findings), 'contract')} broken by them"
        ]
        notes += judged.notes
    differences = replay.compare(observations, outcome.predictions)
    # What the database did replaces what the static table predicted, in the findings too.
    outcome.result.findings, withdrawn = replay.apply_observations(
        outcome.result.findings, differences
    )
    notes += [
        f"replay on {server.label}: {counted(len(observations), 'statement')} run, "
        f"{counted(len(differences), 'difference')} between predicted and observed locks/rewrites"
    ]
    notes += withdrawn
    notes += [str(d) for d in differences[:50]]
    if failure is not None:
        notes.append(str(failure))
    return Replayed(server.label, observations, differences, failure, notes, judged is not None)


# Problems listed one by one at most; a folder of garbage (a megabyte of statements that do
# not parse) would otherwise print hundreds of thousands of lines in every format.
MAX_PROBLEMS_SHOWN = 200


def _shown(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_SHOWN:
        return problems
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    return [
        *problems[:MAX_PROBLEMS_SHOWN],
        f"{counted(hidden, 'more problem')} not listed (the first {MAX_PROBLEMS_SHOWN} of "
        f"{len(problems)} are)",
    ]
