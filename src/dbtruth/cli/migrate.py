"""`dbtruth migrate lint PATHS`: migration safety, statement by statement in apply order."""

from __future__ import annotations

from pathlib import Path

import click

from dbtruth.cli.options import (
    lock_timeout_option,
    report_options,
    split_codes,
    statement_timeout_option,
)
from dbtruth.cli.output import echo, emit, write_baseline_to
from dbtruth.migrate import DEFAULT_PG_VERSION, DEFAULT_SMALL_TABLE_ROWS


@click.group("migrate")
def migrate() -> None:
    """Migration safety: lint a migration set against the locks and rewrites it causes."""


@migrate.command("lint")
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
@report_options
@click.option(
    "--scratch",
    metavar="auto|system|embedded|URL",
    default=None,
    envvar="DBTRUTH_SCRATCH",
    help="Server that loads an --against target given as SQL files.",
)
@statement_timeout_option
@lock_timeout_option
def lint(
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
) -> int:
    """Lint migration files, in the order their runner applies them: lock levels, rewrites,
    blocking validation, destructive and backward-incompatible changes, missing timeouts."""
    from dbtruth.migrate.run import LintOptions, lint_migrations
    from dbtruth.report.results import migration_context

    options = LintOptions(
        paths=paths,
        against=against,
        pg_version=pg_version,
        # A baseline records the static findings and stops: nothing is replayed for it.
        replay=replay and write_baseline is None,
        small_table_rows=small_table_rows,
        transaction=transaction,  # type: ignore[arg-type]  # click.Choice above
        order_file=order_file,
        replace=replace,
        select=split_codes(select),
        ignore=split_codes(ignore),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        baseline=baseline,
        fail_on=fail_on,
        scratch=scratch,
        statement_timeout=statement_timeout,
        lock_timeout=lock_timeout,
    )
    linted = lint_migrations(options)
    for problem in linted.problems:
        echo(f"dbtruth: {problem}", err=True)
    if write_baseline is not None:
        write_baseline_to(write_baseline, linted.result.findings)
        return 0
    if linted.replayed is not None and linted.replayed.failure is not None:
        echo(f"dbtruth: {linted.replayed.failure}", err=True)
    emit(migration_context(linted, " ".join(str(p) for p in paths)), fmt, output, no_color)
    return 1 if linted.fails() else 0
