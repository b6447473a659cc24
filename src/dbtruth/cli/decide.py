"""`dbtruth decide REQUIREMENTS.yaml`: the playbook's engine decision matrix, weighted."""

from __future__ import annotations

from pathlib import Path

import click

from dbtruth.cli.options import allow_outside_option, manifest_option
from dbtruth.cli.output import echo, write


@click.command("decide")
@click.argument("requirements", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--adr",
    "write_adr",
    is_flag=True,
    help="Write an ADR draft of the decision into the ADR folder (status Proposed).",
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The ADR folder for --adr (default: dbtruth.yaml's decisions.adr_folder, "
    "else .adr-dir, else docs/adr).",
)
@manifest_option
@allow_outside_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("terminal", "json", "markdown")),
    default="terminal",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")  # fmt: skip
def decide(
    requirements: Path, write_adr: bool, folder: Path | None, manifest: Path | None,
    allow_outside_paths: bool, fmt: str, output: Path | None,
) -> int:  # fmt: skip
    """Rank the engine families of the playbook's decision matrix (relational OLTP,
    distributed SQL, document, wide-column, key-value, graph, search, warehouse) for the
    weighted requirements of REQUIREMENTS.yaml, each family's points shown requirement by
    requirement; choose the smallest set of stores that satisfies them — one system of
    record, any other store a projection of it; with --adr, draft the ADR."""
    from dbtruth.decide.run import DecideOptions, decide
    from dbtruth.report.decide import render

    adr_folder = None
    if write_adr:
        from dbtruth.adr.run import adr_folder as folder_of
        from dbtruth.reading import read_manifest

        adr_folder = folder_of(read_manifest(manifest, (), allow_outside_paths), folder)
    text = render(decide(DecideOptions(requirements, adr_folder)), fmt)
    if output is not None:
        write(output, text)
    else:
        echo(text.rstrip("\n"))
    return 0
