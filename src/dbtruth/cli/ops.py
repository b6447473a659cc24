"""`dbtruth ops URL`: can this database be operated and recovered — its readiness and health,
read from the live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import report_options, split_codes, target_of, target_options
from dbtruth.cli.output import emit, write_baseline_to


@click.command("ops")
@target_options
@report_options
@click.option(
    "--replica",
    "replicas",
    multiple=True,
    metavar="URL",
    help="A replica of TARGET (repeat for each): read for how far its replay trails, whether "
    "it is paused, whether it is a standby at all (O020).",
)
@click.option(
    "--precise",
    is_flag=True,
    help="Measure dead rows with pgstattuple_approx (where the extension is installed) for "
    "the tables the statistics point at, instead of estimating them; it reads their pages "
    "that are not all-visible.",
)
def ops(
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
    replicas: tuple[str, ...],
    precise: bool,
    **load_options: Any,
) -> int:
    """Judge whether the live server TARGET can be operated and recovered: statement
    statistics, slow-query and lock-wait logging, timeouts of the application roles, data
    checksums, WAL archiving and its failures, replication slots holding WAL, transaction-ID
    wraparound, sessions blocked or idle in a transaction, dead rows, tables never analysed,
    connection headroom, sequences near their end. Read-only; exit 1 on findings at --fail-on."""
    from dbtruth.ops.run import OpsOptions, ops_target
    from dbtruth.report.ops import ops_context

    options = OpsOptions(
        target=target_of(target, **load_options),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        select=split_codes(select),
        ignore=split_codes(ignore),
        baseline=baseline,
        fail_on=fail_on,
        replicas=replicas,
        precise=precise,
    )
    done = ops_target(options)
    if write_baseline is not None:
        write_baseline_to(write_baseline, done.result.findings)
        return 0
    emit(ops_context(done), fmt, output, no_color)
    return 1 if done.fails() else 0
