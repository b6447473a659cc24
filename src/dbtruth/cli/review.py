"""`dbtruth review TARGET`: the architecture review, as Markdown or one HTML file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import allow_outside_option, manifest_option, target_of, target_options
from dbtruth.cli.output import echo, progress, write
from dbtruth.errors import DbtruthError
from dbtruth.words import counted

# The review's formats by output suffix; no suffix (or standard output) is Markdown.
_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def _format_of(output: Path | None) -> str:
    if output is None or not output.suffix:
        return "markdown"
    chosen = _SUFFIXES.get(output.suffix.lower())
    if chosen is None:
        # Writing Markdown into review.pdf would look like success and open as garbage.
        raise DbtruthError(
            f"cannot write a review as '{output.suffix}': use .md or .html, or pass --format",
            where=str(output),
        )
    return chosen


@click.command("review")
@target_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review here: .html/.htm gives the HTML review, .md/.markdown (or no "
    "suffix) Markdown; another suffix is an error unless --format says which (default: "
    "Markdown on standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("markdown", "html")),
    default=None,
    help="Override the format chosen from the output file's suffix.",
)
@manifest_option
@allow_outside_option
@click.option(
    "--prove/--no-prove",
    "prove",
    default=None,
    help="Prove the invariants dbtruth.yaml declares on a throwaway copy of the schema, so the "
    "review can say which hold (default: on for SQL files, off for a live server, whose schema "
    "--prove copies with pg_dump; a snapshot cannot be proven).",
)
@click.option(
    "--data",
    is_flag=True,
    help="Also read the rows, as `dbtruth prove --data` does (read-only on a live target): "
    "rows that break a declared invariant, orphans, overlaps, and the latent invariants the "
    "rows keep; implies --prove.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge dates (such as the last restore drill) as of this day (default: today).",
)
def review(
    target: tuple[str, ...],
    output: Path | None,
    fmt: str | None,
    manifest: Path | None,
    allow_outside_paths: bool,
    as_of: datetime | None,
    prove: bool | None,
    data: bool,
    **load_options: Any,
) -> int:
    """Write the architecture review of TARGET: the playbook's 15 sections from evidence,
    the §6 checklist, the §11 maturity level and the findings of check, with fixes."""
    chosen = fmt or _format_of(output)  # before anything is loaded: a typo costs nothing
    if data and prove is False:
        raise DbtruthError("--data reads the rows on the copy prove makes: drop --no-prove")
    from dbtruth.review.run import ReviewOptions, review_target

    options = ReviewOptions(
        target=target_of(target, **load_options),
        manifest=manifest,
        allow_outside_paths=allow_outside_paths,
        today=as_of.date() if as_of else None,
        prove=True if data else prove,
        data=data,
    )
    with progress() as bar:
        reviewed = review_target(options, bar)
    if chosen == "html":
        from dbtruth.report import review_html  # Jinja2: only when HTML is written

        text = review_html.render(reviewed.review)
    else:
        from dbtruth.report import review_markdown

        text = review_markdown.render(reviewed.review)
    if output is None:
        echo(text)
        return 0
    write(output, text)
    echo(
        f"wrote {output}: maturity level {reviewed.review.maturity.level}, "
        f"{counted(reviewed.findings, 'finding')}, {reviewed.description}",
        err=True,
    )
    return 0
