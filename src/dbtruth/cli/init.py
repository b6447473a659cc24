"""`dbtruth init TARGET`: a first dbtruth.yaml, guesses marked, open questions as TODOs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import target_of, target_options
from dbtruth.cli.output import echo, progress, write
from dbtruth.errors import DbtruthError


@click.command("init")
@target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default: dbtruth.yaml next to the target, or ./dbtruth.yaml "
    "for a live target).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(target: tuple[str, ...], output: Path | None, force: bool, **load_options: Any) -> int:
    """Write a first dbtruth.yaml for TARGET: what the catalog shows, guesses marked as
    guesses, and the playbook's open questions as TODOs."""
    from dbtruth.capture import draft_manifest, manifest_destination

    output = output or manifest_destination(target)
    if output.exists() and not force:  # before anything is loaded
        raise DbtruthError(
            "already exists; not overwritten", where=str(output), hint="pass --force to replace it"
        )
    with progress() as bar:
        drafted = draft_manifest(target_of(target, **load_options), bar)
    write(output, drafted.text)
    echo(
        f"wrote {output}: {drafted.tables} tables, guesses marked `guess: true`, "
        "open questions marked TODO",
        err=True,
    )
    return 0
