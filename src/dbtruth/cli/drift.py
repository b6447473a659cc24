"""`dbtruth drift TARGET`: every copy of dbtruth.yaml's truth map against its sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import allow_outside_option, manifest_option, target_of, target_options
from dbtruth.cli.output import echo, write


@click.command("drift")
@target_options
@manifest_option
@allow_outside_option
@click.option(
    "--no-recheck",
    is_flag=True,
    help="Report differences without rechecking them in a second snapshot.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("terminal", "json", "markdown")),
    default="terminal",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
def drift(
    target: tuple[str, ...],
    manifest: Path | None,
    allow_outside_paths: bool,
    no_recheck: bool,
    fmt: str,
    output: Path | None,
    **load_options: Any,
) -> int:
    """Compare each copy (projection, cache, snapshot) of dbtruth.yaml's truth map with what
    its `drift_source` query computes from the sources, key by key, read-only: the keys
    missing from the copy, in excess, or with other values; run each `drift_check` query.
    Exit 1 when a copy drifted."""
    from dbtruth.drift.run import DriftOptions, drift_target
    from dbtruth.report.drift import render

    done = drift_target(
        DriftOptions(
            target=target_of(target, **load_options),
            manifest=manifest,
            allow_outside_paths=allow_outside_paths,
            recheck=not no_recheck,
        )
    )
    text = render(done, fmt)
    if output is not None:
        write(output, text)
    else:
        echo(text.rstrip("\n"))
    return 1 if done.drifted else 0
