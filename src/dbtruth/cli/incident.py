"""`dbtruth incident URL -o DIR`: preserve the evidence of a running incident, read-only."""

from __future__ import annotations

from pathlib import Path

import click

from dbtruth.cli.output import echo


@click.command("incident")
@click.argument("target", nargs=-1)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which a timestamped incident-… folder of evidence is created.",
)
@click.option("--sample-seconds", default=5.0, show_default=True,
              type=click.FloatRange(0.0, 600.0),
              help="How long wait events are sampled.")  # fmt: skip
@click.option(
    "--top",
    default=20,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Statements of pg_stat_statements kept, by total time.",
)
@click.option(
    "--statement-timeout",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="Bound on each statement of dbtruth's read-only session.",
)
def incident(
    target: tuple[str, ...],
    output: Path,
    sample_seconds: float,
    top: int,
    statement_timeout: str,
) -> int:
    """Preserve the evidence of an incident on the live server TARGET, read-only: sessions,
    locks and blocking chains, wait events sampled, top statements, replication, prepared
    transactions, changed settings, the server log's tail where readable, and a summary ordered
    as the playbook's incident steps with the commands a responder may run next (dbtruth runs
    none of them)."""
    from dbtruth.ops.incident import IncidentOptions, capture_incident
    from dbtruth.reading import TargetOptions

    done = capture_incident(
        IncidentOptions(
            target=TargetOptions(target, None, False, (), statement_timeout, "1s"),
            output=output,
            sample_seconds=sample_seconds,
            top=top,
        )
    )
    echo(done.summary.rstrip("\n"))
    echo(f"evidence written to {done.folder}", err=True)
    return 0
