"""`dbtruth workload TARGET`: the workload's queries planned on the target's schema, each
checked against its index contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import (
    positive_duration,
    report_options,
    split_codes,
    target_of,
    target_options,
)
from dbtruth.cli.output import emit, write_baseline_to


@click.command("workload")
@target_options
@report_options
@click.option(
    "--queries",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="A SQL file of queries to plan beside dbtruth.yaml's workload: one statement each "
    "($1 parameters allowed), named by a `-- name:` comment above it or by its line.",
)
@click.option(
    "--top",
    default=20,
    show_default=True,
    type=click.IntRange(min=0, max=10_000),
    metavar="N",
    help="On a live target, also plan the N statements of pg_stat_statements with the most "
    "total execution time (0: none), with their calls and mean time.",
)
@click.option(
    "--twin",
    is_flag=True,
    help="On a live target, also plan every query on its statistics twin (its schema and "
    "planner statistics copied into a throwaway PostgreSQL 18, relations sized to match) and "
    "show how far each plan agrees with the target's.",
)
@click.option(
    "--suggest",
    is_flag=True,
    help="Index advice for the whole workload: candidate indexes built and the queries planned "
    "again on the statistics twin (live targets; implies --twin) or on the SQL files' copy, "
    "chosen per table by calls × cost saved against write cost. Never touches the target.",
)
@click.option(
    "--replica",
    "replicas",
    multiple=True,
    metavar="URL",
    help="A replica of the live target (repeat for each): its index scan counters are added to "
    "the target's in the index map, so an index only a replica reads is not called unused.",
)
@click.option(
    "--plan-timeout",
    default="10s",
    show_default=True,
    metavar="DURATION",
    help="statement_timeout of each EXPLAIN: a query whose planning takes longer is reported "
    "as not planned.",
)
def workload(
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
    queries: tuple[Path, ...],
    top: int,
    twin: bool,
    suggest: bool,
    replicas: tuple[str, ...],
    plan_timeout: str,
    **load_options: Any,
) -> int:
    """Plan the workload of TARGET with EXPLAIN (never ANALYZE: nothing runs) and check each
    plan against its index contract in dbtruth.yaml (uses_index, no_seq_scan_on, max_cost,
    plan_nodes, join_order). A live target is planned in a read-only session with its own
    statistics; SQL files on a throwaway copy holding their rows. Exit 1 when a contract is
    broken or a query no longer plans."""
    positive_duration("--plan-timeout", plan_timeout, "10s")  # 0 would be no limit at all
    from dbtruth.report.workload import workload_context
    from dbtruth.workload.run import WorkloadOptions, workload_target

    options = WorkloadOptions(
        target=target_of(target, **load_options),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        queries=queries,
        select=split_codes(select),
        ignore=split_codes(ignore),
        baseline=baseline,
        fail_on=fail_on,
        plan_timeout=plan_timeout,
        top=top,
        twin=twin,
        suggest=suggest,
        replicas=replicas,
    )
    done = workload_target(options)
    if write_baseline is not None:
        write_baseline_to(write_baseline, done.result.findings)
        return 0
    emit(workload_context(done), fmt, output, no_color)
    return 1 if done.fails() else 0
