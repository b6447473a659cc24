"""`dbtruth snapshot TARGET -o FILE`: the catalog and live statistics as JSON, for offline
checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import target_of, target_options
from dbtruth.cli.output import echo, progress, write


@click.command("snapshot")
@target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Snapshot file to write (JSON).",
)
def snapshot(target: tuple[str, ...], output: Path, **load_options: Any) -> int:
    """Write TARGET's catalog (and live statistics) to a JSON snapshot for offline checks."""
    from dbtruth.capture import take_snapshot

    with progress() as bar:
        captured = take_snapshot(target_of(target, **load_options), bar)
    write(output, captured.text)
    echo(
        f"wrote snapshot of {captured.description} ({captured.tables} tables) to {output}",
        err=True,
    )
    return 0
