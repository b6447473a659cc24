"""`dbtruth check TARGET`: the rule catalogue over a target, reported with fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import report_options, split_codes, target_of, target_options
from dbtruth.cli.output import echo, emit, progress, write_baseline_to


@click.command()
@target_options
@report_options
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
) -> int:
    """Run the rule catalogue over TARGET and report findings with fixes."""
    from dbtruth.check import CheckOptions, check_target
    from dbtruth.report.results import check_context

    options = CheckOptions(
        target=target_of(target, **load_options),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        select=split_codes(select),
        ignore=split_codes(ignore),
        baseline=baseline,
        fail_on=fail_on,
    )
    with progress() as bar:
        checked = check_target(options, bar)
    if timings:
        result = checked.result
        rules_total = sum(result.rule_seconds.values())
        parts = [f"{k} {v:.3f}s" for k, v in checked.load_seconds.items()]
        echo(
            f"timings: {', '.join(parts)}, rules {rules_total:.3f}s ({result.rules_run} rules)",
            err=True,
        )
    if write_baseline is not None:
        write_baseline_to(write_baseline, checked.result.findings)
        return 0
    emit(check_context(checked), fmt, output, no_color)
    return 1 if checked.fails() else 0
