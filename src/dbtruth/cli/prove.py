"""`dbtruth prove TARGET`: which invariants the database really enforces, by attempting each
illegal write on a throwaway copy of the schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import (
    allow_outside_option,
    manifest_option,
    positive_duration,
    target_of,
    target_options,
)
from dbtruth.cli.output import echo, streams, write
from dbtruth.errors import DbtruthError


@click.command("prove")
@target_options
@manifest_option
@allow_outside_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("terminal", "json", "markdown", "junit", "sarif")),
    default="terminal",
    show_default=True,
    help="Output format: the terminal and Markdown show the SQL of every write not refused as "
    "it should be; JSON holds every statement of every probe; JUnit fails a test case per "
    "unenforced invariant and skips one that could not be proven; SARIF has a result for each.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option("--no-color", is_flag=True, help="Plain terminal output.")
@click.option(
    "--probe-timeout",
    default="5s",
    show_default=True,
    metavar="DURATION",
    help="statement_timeout of each probe on the copy: a trigger that loops or waits longer "
    "makes its invariant not provable.",
)
@click.option(
    "--data",
    is_flag=True,
    help="Also read the rows, read-only: count the violations of each declared invariant's "
    "detective query and the orphans behind unconstrained reference columns, and propose the "
    "latent invariants every row already keeps (NOT NULL, unique, foreign keys, value sets). "
    "On a live target in dbtruth's read-only session; of SQL files, the rows they load.",
)
def prove(
    target: tuple[str, ...],
    manifest: Path | None,
    allow_outside_paths: bool,
    fmt: str,
    output: Path | None,
    no_color: bool,
    probe_timeout: str,
    data: bool,
    **load_options: Any,
) -> int:
    """Prove the invariants of TARGET: those dbtruth.yaml declares and those its constraints,
    unique indexes and guard triggers state. Each illegal write (a NULL, an orphan, a
    duplicate key, a value outside a CHECK, an UPDATE or DELETE of an append-only row) runs on
    a throwaway copy of the schema, never on TARGET, in a transaction that is rolled back.
    Exit 1 when the database accepted an illegal write."""
    positive_duration("--probe-timeout", probe_timeout, "5s")  # 0 would be no limit at all
    from dbtruth.prove.run import ProveOptions, prove_target
    from dbtruth.report import proofs

    options = ProveOptions(
        target=target_of(target, **load_options),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        probe_timeout=probe_timeout,
        data=data,
    )
    proved = prove_target(options)
    if fmt != "terminal":
        text = _rendered(proved, fmt)
        if output:
            write(output, text)
        else:
            echo(text)
    elif output:
        try:
            with open(output, "w", encoding="utf-8") as stream:
                proofs.write_terminal(proved, stream, color=False)
        except OSError as exc:
            raise DbtruthError(
                f"cannot write the output: {exc.strerror}", where=str(output)
            ) from exc
    else:
        color = False if (no_color or "NO_COLOR" in os.environ) else None
        proofs.write_terminal(proved, streams.out, color=color)
    return 1 if proved.fails() else 0


def _rendered(proved: Any, fmt: str) -> str:
    from dbtruth.report import proof_formats, proofs

    renderers = {
        "json": proofs.render_json,
        "markdown": proof_formats.render_markdown,
        "junit": proof_formats.render_junit,
        "sarif": proof_formats.render_sarif,
    }
    return renderers[fmt](proved)
