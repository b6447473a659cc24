"""The command line. `run(argv, out, err)` returns the exit code; only `main()` exits.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration, input or
connection error (one clear line, never a traceback).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from dbtruth import __version__, engine
from dbtruth import replay as replay_mod
from dbtruth.blast import DEFAULT_SMALL_TABLE_ROWS, TableSize, table_sizes
from dbtruth.errors import DbtruthError
from dbtruth.findings import Location, Severity
from dbtruth.inert import one_line, visible
from dbtruth.inputs import UnreadableInput
from dbtruth.lint import lint
from dbtruth.manifest import find_manifest, load_manifest
from dbtruth.manifest.config import MANIFEST_NAME, Manifest
from dbtruth.manifest.draft import draft
from dbtruth.manifest.paths import ALLOW_FLAG
from dbtruth.model.migration import MigrationFile
from dbtruth.report import jsonout, markdown, review_html, review_markdown, sarif, terminal
from dbtruth.report.context import ReportContext
from dbtruth.review import build_review
from dbtruth.runtime import exit_cleanly_on_signals, without_cycle_collection
from dbtruth.sources import migrations, snapshot
from dbtruth.sources.conninfo import is_url, normalize, redact
from dbtruth.sources.scratch import open_scratch, open_scratch_for_major
from dbtruth.sources.target import LoadedTarget, LoadOptions, is_live, load_target

FORMATS = ("terminal", "json", "sarif", "markdown")
DEFAULT_PG_VERSION = 140000  # the oldest PostgreSQL still supported in 2026
_SEVERITY_CHOICES = ("info", "warning", "error", "never")


class _Streams:
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr


_streams = _Streams()


def _echo(text: str, *, err: bool = False, lines: bool = False) -> None:
    """Write a line. On standard error, where messages quote names, paths and server text,
    a message stays one line (`lines` keeps the line breaks of a traceback or a hint) and
    control characters are shown as escapes, so nothing in them acts on the terminal."""
    if err:
        text = visible(text, keep="\n\t") if lines else one_line(text)
    stream = _streams.err if err else _streams.out
    stream.write(text if text.endswith("\n") else text + "\n")


def _error(exc: DbtruthError) -> None:
    """An error as one line, its hint included, whatever the message copied: a PostgreSQL
    error with its DETAIL, a YAML snippet, a file name with a newline in it. One line is what
    CI annotations and `grep` read."""
    text = f"{exc.where}: {exc.message}" if exc.where else exc.message
    hint = f" (hint: {one_line(redact(exc.hint))})" if exc.hint else ""
    _echo(f"dbtruth: error: {one_line(redact(text))}{hint}", err=True, lines=True)


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _replacements(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        if "=" not in value:
            raise DbtruthError(f"--replace expects OLD=NEW, got '{value}'")
        old, new = value.split("=", 1)
        pairs.append((old, new))
    return tuple(pairs)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[str, int], None]] | None]:
    """A progress bar on stderr for long SQL loads, only when stderr is a terminal."""
    if not _streams.err.isatty():
        yield None
        return
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} statements"),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    ) as bar:

        def start(description: str, total: int) -> Callable[[str, int], None]:
            # The description names files: shown as text, never read as rich markup.
            task = bar.add_task(escape(visible(description)), total=None)

            def tick(file: str, n: int) -> None:
                bar.update(task, advance=n)

            return tick

        yield start


_timeout_options = (
    click.option(
        "--statement-timeout",
        default="60s",
        show_default=True,
        metavar="DURATION",
        help="statement_timeout of live sessions: how long one catalog query may run.",
    ),
    click.option(
        "--lock-timeout",
        default="1s",
        show_default=True,
        metavar="DURATION",
        help="lock_timeout of live sessions: how long a catalog read waits for a table another "
        "session holds locked (ACCESS EXCLUSIVE, as ALTER TABLE takes) before giving up.",
    ),
)


def _target_label(target: tuple[str, ...]) -> str:
    """The target as outputs print it: URLs normalised, then every password hidden."""
    return " ".join(redact(normalize(t) if is_url(t) else t) for t in target) or "(PG* environment)"


def _target_options(func: Any) -> Any:
    options = [
        click.argument("target", nargs=-1),
        click.option(
            "--scratch",
            metavar="auto|system|embedded|URL",
            default=None,
            envvar="DBTRUTH_SCRATCH",
            help="Server that loads SQL-file targets: the machine's PostgreSQL "
            "binaries (system), the embedded wheel (embedded), or a URL of a server "
            "where dbtruth may create databases. Default: system if present, else "
            "embedded.",
        ),
        click.option(
            "--keep-going",
            is_flag=True,
            help="Load the remaining statements after one fails; outputs say what "
            "could not be loaded.",
        ),
        click.option(
            "--replace",
            "replace",
            multiple=True,
            metavar="OLD=NEW",
            help="Replace text in SQL files before loading (template placeholders).",
        ),
        *_timeout_options,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _load(
    target: tuple[str, ...],
    *,
    scratch: str | None,
    keep_going: bool,
    replace: tuple[str, ...],
    statement_timeout: str,
    lock_timeout: str,
) -> LoadedTarget:
    """The options every target-reading command shares (see _target_options)."""
    options = LoadOptions(
        scratch=scratch,
        keep_going=keep_going,
        replacements=_replacements(replace),
        statement_timeout=statement_timeout,
        lock_timeout=lock_timeout,
    )
    with _progress() as progress:
        return load_target(target, options, progress)


_manifest_option = click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="dbtruth.yaml to use (default: next to the target, else ./dbtruth.yaml).",
)
_allow_outside_option = click.option(
    ALLOW_FLAG,
    "allow_outside_paths",
    is_flag=True,
    help="Let the paths dbtruth.yaml names (decisions.adr_folder, operations.runbooks and "
    "capacity_model, practices, workload files) lead outside the folder that holds it, "
    "by '..', an absolute path or a symlink. Without it such a path is an error: "
    "dbtruth.yaml arrives in pull requests, and could otherwise put any file this machine "
    "can read into the review.",
)


def _report_options(func: Any) -> Any:
    """The output, threshold, selection, manifest and baseline options of check and lint."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="terminal",
            show_default=True,
            help="Output format.",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to this file instead of standard output.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(_SEVERITY_CHOICES),
            default=None,
            help="Exit 1 when a finding is at least this severe (default: the manifest's "
            "rules.fail_on, else warning).",
        ),
        click.option(
            "--select",
            multiple=True,
            metavar="CODES",
            help="Run only these rules (codes, names or family letters; comma-separated).",
        ),
        click.option("--ignore", multiple=True, metavar="CODES", help="Do not run these rules."),
        _manifest_option,
        _allow_outside_option,
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Hide findings recorded in this baseline file.",
        ),
        click.option(
            "--write-baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Record the current findings as the baseline and exit 0.",
        ),
        click.option("--no-color", is_flag=True, help="Plain terminal output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbtruth")
def cli() -> None:
    """dbtruth: the architecture review of a PostgreSQL database, from truth, invariants,
    workload and failure.

    TARGET is a postgresql:// URL (or nothing: the PG* environment variables, as psql uses),
    SQL files or folders (loaded into a throwaway PostgreSQL), or a snapshot JSON file.
    """


@cli.command()
@_target_options
@_report_options
@click.option(
    "--timings", is_flag=True, help="Print load, introspection and rule times to standard error."
)
def check(
    target: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    manifest: Path | None,
    allow_outside_paths: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    no_color: bool,
    timings: bool,
    **load_options: Any,
) -> None:
    """Run the rule catalogue over TARGET and report findings with fixes."""
    manifest_model = _manifest(manifest, target, allow_outside_paths)
    loaded = _load(target, **load_options)
    locations = {name: Location(file, line) for name, (file, line) in loaded.locations.items()}
    result = engine.run(
        loaded.catalog,
        manifest_model,
        extra_select=_split(select) or None,
        extra_ignore=_split(ignore),
        baseline=baseline,
        locations=locations,
    )
    if timings:
        rules_total = sum(result.rule_seconds.values())
        parts = [f"{k} {v:.3f}s" for k, v in loaded.timings.items()]
        _echo(
            f"timings: {', '.join(parts)}, rules {rules_total:.3f}s ({result.rules_run} rules)",
            err=True,
        )
    _write_baseline_and_stop(write_baseline, result.findings)
    threshold = _threshold(fail_on, manifest_model)
    ctx = ReportContext(
        result=result,
        target=_target_label(target),
        source=loaded.catalog.source,
        server_version=loaded.catalog.server_version,
        rules=tuple(s for s in engine.all_specs() if s.kind == "catalog"),
        fail_on=threshold or Severity.ERROR,
        tables=len(loaded.catalog.tables),
        load_problems=loaded.catalog.load_problems,
        notes=loaded.notes,
    )
    _emit(ctx, fmt, output, no_color)
    if threshold is not None and any(f.severity >= threshold for f in result.findings):
        raise SystemExit(1)


def _write_baseline_and_stop(path: Path | None, findings: list[Any]) -> None:
    if path is None:
        return
    _write(path, engine.baseline_document(findings))
    _echo(f"wrote {len(findings)} finding(s) to baseline {path}", err=True)
    raise SystemExit(0)


def _threshold(fail_on: str | None, manifest: Manifest) -> Severity | None:
    """The severity that fails the run (--fail-on, else rules.fail_on); None for never."""
    text = fail_on or manifest.rules.fail_on
    return None if text == "never" else Severity.parse(text)


def _write(output: Path, text: str) -> None:
    try:
        # backslashreplace: a lone surrogate (an undecodable byte of a file name that reached
        # the text) is written as \udcff instead of failing the whole run.
        output.write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise DbtruthError(f"cannot write the output: {exc.strerror}", where=str(output)) from exc


def _manifest(path: Path | None, target: tuple[str, ...], allow_outside: bool) -> Manifest:
    return load_manifest(_manifest_path(path, target), allow_outside=allow_outside)


def _manifest_path(path: Path | None, target: tuple[str, ...]) -> Path | None:
    if path is not None and not path.is_file():
        raise DbtruthError("manifest not found", where=str(path))
    local = [Path(t) for t in target if Path(t).exists()]
    return path or find_manifest(tuple(local))


def _emit(ctx: ReportContext, fmt: str, output: Path | None, no_color: bool) -> None:
    if fmt == "terminal":
        try:
            stream = open(output, "w", encoding="utf-8") if output else _streams.out  # noqa: SIM115
        except OSError as exc:
            raise DbtruthError(
                f"cannot write the output: {exc.strerror}", where=str(output)
            ) from exc
        try:
            color = False if (no_color or output or "NO_COLOR" in os.environ) else None
            terminal.render_to(ctx, stream, color=color)
        finally:
            if output:
                stream.close()
        return
    renderer = {"json": jsonout.render, "sarif": sarif.render, "markdown": markdown.render}[fmt]
    text = renderer(ctx)
    if output:
        _write(output, text)
    else:
        _echo(text)


@cli.command()
@_target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Snapshot file to write (JSON).",
)
def snapshot_cmd(target: tuple[str, ...], output: Path, **load_options: Any) -> None:
    """Write TARGET's catalog (and live statistics) to a JSON snapshot for offline checks."""
    loaded = _load(target, **load_options)
    _write(output, snapshot.dumps(loaded.catalog))
    _echo(
        f"wrote snapshot of {loaded.description} ({len(loaded.catalog.tables)} tables) to {output}",
        err=True,
    )


snapshot_cmd.name = "snapshot"


@cli.command("init")
@_target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default: dbtruth.yaml next to the target, or ./dbtruth.yaml "
    "for a live target).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_cmd(
    target: tuple[str, ...], output: Path | None, force: bool, **load_options: Any
) -> None:
    """Write a first dbtruth.yaml for TARGET: what the catalog shows, guesses marked as
    guesses, and the playbook's open questions as TODOs."""
    local = [Path(t) for t in target if Path(t).exists()]
    if output is None:
        base = local[0] if local else Path.cwd()
        output = (base if base.is_dir() else base.parent) / MANIFEST_NAME
    if output.exists() and not force:
        raise DbtruthError(
            "already exists; not overwritten", where=str(output), hint="pass --force to replace it"
        )
    loaded = _load(target, **load_options)
    _write(output, draft(loaded.catalog))
    _echo(
        f"wrote {output}: {len(loaded.catalog.tables)} tables, guesses marked `guess: true`, "
        "open questions marked TODO",
        err=True,
    )


# The review's formats by output suffix; no suffix (or standard output) is Markdown.
_REVIEW_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def _review_format(output: Path | None) -> str:
    if output is None or not output.suffix:
        return "markdown"
    chosen = _REVIEW_SUFFIXES.get(output.suffix.lower())
    if chosen is None:
        # Writing Markdown into review.pdf would look like success and open as garbage.
        raise DbtruthError(
            f"cannot write a review as '{output.suffix}': use .md or .html, or pass --format",
            where=str(output),
        )
    return chosen


@cli.command("review")
@_target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review here: .html/.htm gives the HTML review, .md/.markdown (or no "
    "suffix) Markdown; another suffix is an error unless --format says which (default: "
    "Markdown on standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("markdown", "html")),
    default=None,
    help="Override the format chosen from the output file's suffix.",
)
@_manifest_option
@_allow_outside_option
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge dates (such as the last restore drill) as of this day (default: today).",
)
def review_cmd(
    target: tuple[str, ...],
    output: Path | None,
    fmt: str | None,
    manifest: Path | None,
    allow_outside_paths: bool,
    as_of: datetime | None,
    **load_options: Any,
) -> None:
    """Write the architecture review of TARGET: the playbook's 15 sections from evidence,
    the §6 checklist, the §11 maturity level and the findings of check, with fixes."""
    chosen = fmt or _review_format(output)  # before anything is loaded: a typo costs nothing
    manifest_path = _manifest_path(manifest, target)
    manifest_model = load_manifest(manifest_path, allow_outside=allow_outside_paths)
    loaded = _load(target, **load_options)
    locations = {name: Location(file, line) for name, (file, line) in loaded.locations.items()}
    result = engine.run(loaded.catalog, manifest_model, locations=locations)
    review = build_review(
        loaded.catalog,
        manifest_model,
        result,
        target=_target_label(target),
        manifest_path=manifest_path,
        target_paths=tuple(Path(t) for t in target if Path(t).exists()),
        today=(as_of.date() if as_of else date.today()),
        notes=tuple(loaded.notes),
    )
    text = review_html.render(review) if chosen == "html" else review_markdown.render(review)
    if output is None:
        _echo(text)
        return
    _write(output, text)
    _echo(
        f"wrote {output}: maturity level {review.maturity.level}, "
        f"{len(result.findings)} finding(s), {loaded.description}",
        err=True,
    )


@cli.group("migrate")
def migrate_group() -> None:
    """Migration safety: lint a migration set against the locks and rewrites it causes."""


@migrate_group.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--against",
    metavar="TARGET",
    help="The database the migrations will run on (URL, SQL files or snapshot): its tables "
    "are the existing ones and its version the server's.",
)
@click.option(
    "--pg-version",
    metavar="N",
    help="PostgreSQL major version the migrations run on (default: the --against target's, "
    f"else {DEFAULT_PG_VERSION // 10000}).",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Also run the migrations on a clone of the --against target's schema (an empty "
    "database without one) and report the locks and rewrites PostgreSQL took.",
)
@click.option(
    "--small-table-rows",
    type=click.IntRange(min=0),
    default=None,
    help="With a live --against target: lock findings on tables with fewer rows are info "
    f"(default: the manifest's rules.settings.small_table_rows, else "
    f"{DEFAULT_SMALL_TABLE_ROWS:,}).",
)
@click.option(
    "--transaction",
    type=click.Choice(("auto", "per-file", "none")),
    default="auto",
    show_default=True,
    help="Whether the runner wraps each file in a transaction (auto: yes, except Prisma; "
    "per-file markers always win).",
)
@click.option(
    "--order",
    "order_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file listing the migrations in apply order, one path per line.",
)
@click.option(
    "--replace",
    "replace",
    multiple=True,
    metavar="OLD=NEW",
    help="Replace text in the migrations before parsing (template placeholders).",
)
@_report_options
@click.option(
    "--scratch",
    metavar="auto|system|embedded|URL",
    default=None,
    envvar="DBTRUTH_SCRATCH",
    help="Server that loads an --against target given as SQL files.",
)
@_timeout_options[0]
@_timeout_options[1]
def migrate_lint_cmd(
    paths: tuple[Path, ...],
    against: str | None,
    pg_version: str | None,
    replay: bool,
    small_table_rows: int | None,
    transaction: str,
    order_file: Path | None,
    replace: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    manifest: Path | None,
    allow_outside_paths: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    no_color: bool,
    scratch: str | None,
    statement_timeout: str,
    lock_timeout: str,
) -> None:
    """Lint migration files, in the order their runner applies them: lock levels, rewrites,
    blocking validation, destructive and backward-incompatible changes, missing timeouts."""
    manifest_model = _manifest(manifest, tuple(str(p) for p in paths), allow_outside_paths)
    auto = transaction == "auto"
    skipped: list[str] = []  # FIFOs and the like named *.sql: never opened
    files = migrations.discover(paths, order_file, lexical=None if auto else False, notes=skipped)
    prisma = auto and migrations.is_prisma(files)
    existing: frozenset[str] | None = None
    existing_columns: dict[tuple[str, str], str] = {}
    existing_indexes: dict[str, str] = {}
    sizes: dict[str, TableSize] = {}
    version = _pg_version(pg_version)
    source = f"{len(files)} migration file(s)"
    if against is not None and is_url(against):
        against = normalize(against)  # replay hands it to pg_dump, which knows one spelling
    if against is not None:
        loaded = _load(
            (against,), scratch=scratch, keep_going=False, replace=(),
            statement_timeout=statement_timeout, lock_timeout=lock_timeout,
        )  # fmt: skip
        catalog = loaded.catalog
        existing = frozenset(t.qualified for t in catalog.tables) | frozenset(
            v.qualified for v in catalog.views
        )
        existing_columns = {
            (t.qualified, c.name): c.type_name for t in catalog.tables for c in t.columns
        }
        existing_indexes = {i.qualified: i.table_qualified for i in catalog.indexes}
        sizes = table_sizes(catalog)  # live targets and their snapshots only
        version = version or catalog.server_version_num
        source += f" against {loaded.description}"
    version = version or DEFAULT_PG_VERSION
    parsed: list[MigrationFile] = []  # kept for --replay only
    unreadable: list[str] = []  # a file that is not text is reported, the others still checked
    replacements = _replacements(replace)

    def read() -> Iterator[MigrationFile]:
        # Without --replay each file is parsed while it is linted and freed after it: a 50 MB
        # migration is never held as a million parse trees.
        reader = migrations.read_file if replay else migrations.stream_file
        for i, f in enumerate(files):
            try:
                migration = reader(
                    f, i, wrapped_default=not prisma, mode=transaction,  # type: ignore[arg-type]
                    replacements=replacements,
                )  # fmt: skip
            except UnreadableInput:
                raise  # a file that cannot be read at all, or is over a limit, stops the run
            except DbtruthError as exc:
                unreadable.append(str(exc))
                continue
            if migration.skipped:
                skipped.append(migration.skipped)
            if replay:
                parsed.append(migration)
            yield migration

    outcome = lint(
        read(),
        manifest_model,
        pg_version=version,
        existing=existing,
        existing_columns=existing_columns,
        existing_indexes=existing_indexes,
        sizes=sizes,
        small_table_rows=(
            small_table_rows
            if small_table_rows is not None
            else manifest_model.rules.settings.small_table_rows
        ),
        record_predictions=replay,
        select=_split(select),
        ignore=_split(ignore),
        baseline=baseline,
    )
    outcome.problems[:0] = unreadable
    if outcome.statements == 0:
        # one line: the error, with the first reason when there is one
        problems = outcome.problems
        first = f" ({len(problems)} problem(s), the first: {problems[0]})" if problems else ""
        raise DbtruthError(f"no statement could be parsed; nothing was checked{first}")
    for problem in outcome.problems:
        _echo(f"dbtruth: {problem}", err=True)
    result = outcome.result
    _write_baseline_and_stop(write_baseline, result.findings)
    notes = [
        *skipped,
        f"rules judged for PostgreSQL {version // 10000}"
        + ("" if pg_version or against else " (the default; set --pg-version)"),
        *(
            f"unused inline ignore at {s.file}:{s.line} ({', '.join(s.codes)}): {s.reason}"
            for s in outcome.unused_inline
        ),
    ]
    replay_section: dict[str, object] = {}
    replay_failed = False
    if replay:
        live_major = (
            catalog.server_version_num // 10000
            if against is not None and is_live((against,)) and catalog.server_version_num
            else None
        )
        replay_section, replay_notes, replay_failed = _replay(
            parsed, outcome, against, scratch, _replacements(replace), live_major, lock_timeout
        )
        notes += replay_notes
    counts = Counter(outcome.phases.values())
    notes.append(
        "migration phases: " + ", ".join(f"{n} {phase}" for phase, n in counts.most_common())
    )
    threshold = _threshold(fail_on, manifest_model)
    ctx = ReportContext(
        extra={
            "migrations": [
                {"file": file, "phase": phase} for file, phase in outcome.phases.items()
            ],
            **replay_section,
        },
        result=result,
        target=" ".join(str(p) for p in paths),
        source=source,
        server_version=str(version // 10000),
        rules=tuple(s for s in engine.all_specs() if s.kind == "migration"),
        fail_on=threshold or Severity.ERROR,
        tables=outcome.statements,
        load_problems=tuple(outcome.problems),
        notes=notes,
        subject="statements",
        title="dbtruth migrate lint",
    )
    _emit(ctx, fmt, output, no_color)
    if replay_failed:
        raise SystemExit(1)  # a migration that fails on a clone fails in production
    if threshold is not None and any(f.severity >= threshold for f in result.findings):
        raise SystemExit(1)


def _replay(
    parsed: list[Any],
    outcome: Any,
    against: str | None,
    scratch: str | None,
    replacements: tuple[tuple[str, str], ...],
    live_major: int | None,
    lock_timeout: str,
) -> tuple[dict[str, object], list[str], bool]:
    """Run the migrations on a clone; the notes and JSON section it adds, and whether a
    migration failed there."""
    notes: list[str] = []
    if live_major is not None:
        server, version_note = open_scratch_for_major(scratch, live_major)
        notes += [version_note] if version_note else []
    else:
        server = open_scratch(scratch)
    with server:
        if against:
            database, clone_notes = replay_mod.clone(against, server, replacements, lock_timeout)
            notes += [n for n in clone_notes if "setting unknown" in n][:5]
        else:
            database = server.create_database()
        observations, failure = replay_mod.replay(parsed, database)
    differences = replay_mod.compare(observations, outcome.predictions)
    # What the database did replaces what the static table predicted, in the findings too.
    outcome.result.findings, withdrawn = replay_mod.apply_observations(
        outcome.result.findings, differences
    )
    notes += [
        f"replay on {server.label}: {len(observations)} statement(s) run, "
        f"{len(differences)} difference(s) between predicted and observed locks/rewrites"
    ]
    notes += withdrawn
    notes += [str(d) for d in differences[:50]]
    if failure is not None:
        notes.append(str(failure))
        _echo(f"dbtruth: {failure}", err=True)
    statements = [
        {
            "file": o.file,
            "line": o.line,
            "locks": o.locks,
            "rewritten": list(o.rewritten),
            "observable": o.observable,
        }
        for o in observations
    ]
    section: dict[str, object] = {
        "replay": {
            "server": server.label,
            "statements": statements,
            "differences": [d.__dict__ for d in differences],
            "failure": None if failure is None else failure.__dict__,
        }
    }
    return section, notes, failure is not None


def _pg_version(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.strip()
    if not digits.isdigit():
        raise DbtruthError(f"--pg-version expects a major version such as 15, got '{text}'")
    number = int(digits)
    return number * 10000 if number < 100 else number


@cli.command("rules")
def rules_cmd() -> None:
    """List the rule catalogue."""
    for spec in engine.all_specs():
        live = " (live only)" if spec.live_only else ""
        _echo(f"{spec.code}  {spec.name:<44} {spec.severity.label:<8} {spec.family}{live}")


@cli.command("rule")
@click.argument("code")
def rule_cmd(code: str) -> None:
    """Show one rule's documentation (by code or name)."""
    spec = engine.find_spec(code)
    if spec is None:
        raise DbtruthError(f"unknown rule '{code}'", hint="`dbtruth rules` lists them")
    _echo(
        f"# {spec.code} {spec.name}\n\nseverity: {spec.severity.label}; family: "
        f"{spec.family}{'; live targets only' if spec.live_only else ''}\n\n{spec.doc}"
    )


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of dbtruth.yaml (for editor completion and validation)."""
    _echo(json.dumps(Manifest.model_json_schema(), indent=2))


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    _streams.out = out or sys.stdout
    _streams.err = err or sys.stderr
    try:
        with without_cycle_collection():
            cli.main(args=argv, prog_name="dbtruth", standalone_mode=False)
    except DbtruthError as exc:
        _error(exc)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        _echo(f"dbtruth: error: {redact(exc.format_message())}", err=True)
        return 2
    except click.exceptions.Abort:
        _echo("dbtruth: aborted", err=True)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:
        _echo("dbtruth: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in dbtruth: one line, the details only on request
        if os.environ.get("DBTRUTH_DEBUG"):
            _echo(redact(traceback.format_exc()), err=True, lines=True)
        _echo(
            redact(
                f"dbtruth: internal error: {type(exc).__name__}: {exc} "
                "(set DBTRUTH_DEBUG=1 for details)"
            ),
            err=True,
        )
        return 2
    return 0


def main() -> None:
    exit_cleanly_on_signals()
    sys.exit(run(sys.argv[1:]))
