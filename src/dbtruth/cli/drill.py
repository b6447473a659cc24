"""`dbtruth drill restore URL` (dump, restore elsewhere, prove the restore equal, and time it)
and `dbtruth drill verify URL --restored URL` (the same proof of a restore made by any means)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dbtruth.cli.output import echo, write

F = TypeVar("F", bound=Callable[..., Any])


def _checks(func: F) -> F:
    """The options both commands share: how the restore is compared, bounded and reported."""
    options = [
        click.option("--full-bytes", default=1 << 30, show_default=True,
                     type=click.IntRange(min=0), metavar="BYTES",
                     help="Tables up to this size are compared row by row in full; larger "
                     "ones by a sample keyed on their primary key."),
        click.option("--sample-share", default=0.1, show_default=True,
                     type=click.FloatRange(0.001, 1.0),
                     help="Share of a large table's rows compared."),
        click.option("--statement-timeout", default="10min", show_default=True,
                     metavar="DURATION",
                     help="Bound on each statement of dbtruth's read-only session on TARGET."),
        click.option("--format", "fmt", type=click.Choice(("terminal", "json", "markdown")),
                     default="terminal", show_default=True, help="Output format."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report to this file instead of standard output."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _phase_printer() -> Callable[[str], None] | None:
    """Each phase of a long drill on the terminal; nothing when stderr is a file or a pipe."""
    from dbtruth.cli.output import streams

    if not streams.err.isatty():
        return None
    return lambda text: echo(text, err=True)


def _emit(done: Any, fmt: str, output: Path | None) -> int:
    from dbtruth.report.drill import render

    text = render(done, fmt)
    if output is not None:
        write(output, text)
    else:
        echo(text.rstrip("\n"))
    return 0 if done.passed else 1


@click.group("drill")
def drill() -> None:
    """Recovery drills, measured: restore a live database elsewhere and prove it equal."""


@drill.command("restore")
@click.argument("target", nargs=-1)
@click.option("--to", "to", metavar="URL",
              help="An empty database to restore into (default: a fresh database on a scratch "
              "PostgreSQL of the target's major version, removed afterwards).")  # fmt: skip
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Parallel jobs of pg_dump and pg_restore.")  # fmt: skip
@click.option(
    "--scratch",
    default=None,
    metavar="KIND|URL",
    help="The scratch server to restore on: auto, system, embedded or a URL.",
)
@click.option(
    "--lock-timeout",
    default="1s",
    show_default=True,
    metavar="DURATION",
    help="How long pg_dump waits for each table's lock.",
)
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Append the drill (date, outcome, RTO) to this JSON-lines history; point "
              "dbtruth.yaml's operations.restore_drill_history at it and the review reads "
              "it.")  # fmt: skip
@_checks
def restore(
    target: tuple[str, ...],
    to: str | None,
    jobs: int,
    scratch: str | None,
    lock_timeout: str,
    record: Path | None,
    full_bytes: int,
    sample_share: float,
    statement_timeout: str,
    fmt: str,
    output: Path | None,
) -> int:
    """Dump TARGET (a live database, read-only: one snapshot shared by pg_dump and dbtruth's
    checks), restore it elsewhere, and prove the restore equal: schema object by object, rows
    and checksums per table, constraints validated, amcheck on btree indexes. Prints the dump
    size and the dump, restore and verify times (the measured RTO). Exit 1 when the restore
    differs."""
    from dbtruth.ops.drill import DrillOptions, drill_restore
    from dbtruth.reading import TargetOptions

    options = DrillOptions(
        target=TargetOptions(target, scratch, False, (), statement_timeout, lock_timeout),
        to=to,
        jobs=jobs,
        full_bytes=full_bytes,
        sample_share=sample_share,
        phase=_phase_printer(),
    )
    done = drill_restore(options)
    if record is not None:
        from dbtruth.ops.drill_history import record as append

        append(done, record)
        echo(f"drill recorded in {record}", err=True)
    return _emit(done, fmt, output)


@drill.command("verify")
@click.argument("target", nargs=-1)
@click.option(
    "--restored",
    required=True,
    metavar="URL",
    help="The restored database to compare with TARGET (only read).",
)
@_checks
def verify(
    target: tuple[str, ...],
    restored: str,
    full_bytes: int,
    sample_share: float,
    statement_timeout: str,
    fmt: str,
    output: Path | None,
) -> int:
    """Prove a restore made by any means (a backup tool's, a managed service's, an earlier
    `drill restore --to`) equal to the live TARGET: schema, rows and checksums per table,
    constraints validated, amcheck where the restored database has it. Both are only read;
    TARGET must not have changed since the backup. Exit 1 when they differ."""
    from dbtruth.ops.drill import DrillOptions, verify_restore
    from dbtruth.reading import TargetOptions

    options = DrillOptions(
        target=TargetOptions(target, None, False, (), statement_timeout, "1s"),
        full_bytes=full_bytes,
        sample_share=sample_share,
    )
    return _emit(verify_restore(options, restored), fmt, output)
