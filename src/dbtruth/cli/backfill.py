"""`dbtruth backfill plan|run|status|pause|resume|abort SPEC.yaml --target URL`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dbtruth.cli.output import echo, streams, write

if TYPE_CHECKING:
    from dbtruth.backfill.checkpoint import Event
    from dbtruth.backfill.results import BackfillPlan, BackfillRun, BackfillStatus, Progress
    from dbtruth.backfill.run import BackfillOptions

F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    func = click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to this file instead of standard output.",
    )(func)  # fmt: skip
    func = click.option(
        "--format", "fmt", type=click.Choice(("terminal", "json", "markdown")),
        default="terminal", show_default=True, help="Output format.",
    )(func)  # fmt: skip
    func = click.option(
        "--target", metavar="URL",
        help="The database: a postgresql:// URL or key=value string (default: the PG* "
        "environment variables, as psql uses).",
    )(func)  # fmt: skip
    return click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))(func)


def _options(spec: Path, target: str | None, **more: Any) -> BackfillOptions:
    from dbtruth.backfill.run import BackfillOptions

    return BackfillOptions(spec=spec, target=target, **more)


def _emit(
    result: BackfillPlan | BackfillRun | BackfillStatus, fmt: str, output: Path | None
) -> None:
    from dbtruth.report.backfill import render

    text = render(result, fmt)
    if output is not None:
        write(output, text)
    else:
        echo(text.rstrip("\n"))


@click.group("backfill")
def backfill() -> None:
    """Chunked backfills with a checkpoint on the target: plan one (read-only), run it (resumes
    where it stopped, after a crash too), watch it, pause, resume or abort it.

    SPEC.yaml names the table, the key the chunks walk (default: the primary key), the UPDATE,
    DELETE or INSERT … SELECT each chunk runs, the chunk size or a target chunk duration, a
    rate limit, a validation query, and the health limits that make a run back off."""


@backfill.command("plan")
@_common
def plan(spec: Path, target: str | None, fmt: str, output: Path | None) -> int:
    """What a run would do, read-only: chunks, the index they walk and the first chunk's plan
    (EXPLAIN), rows and WAL per chunk, ETA, the lock each chunk takes, health now, and the
    rows the validation query still returns. Exit 1 when the plan finds a problem."""
    from dbtruth.backfill.plan import plan_backfill

    result = plan_backfill(_options(spec, target))
    _emit(result, fmt, output)
    return 1 if result.problems else 0


def _run(options: BackfillOptions, fmt: str, output: Path | None) -> int:
    from dbtruth.backfill.run import run_backfill

    result = run_backfill(options)
    _emit(result, fmt, output)
    return 1 if result.failed else 0


@backfill.command("run")
@_common
@click.option(
    "--restart",
    is_flag=True,
    help="Forget the checkpoint and start over from the first key (a new key range).",
)
def run(spec: Path, target: str | None, fmt: str, output: Path | None, restart: bool) -> int:
    """Run the backfill chunk by chunk — writes on the target: the spec's statement, and the
    checkpoint in schema dbtruth_backfill (created on the first run). Resumes after the last
    committed chunk. Exit 0 when done and validated (or paused/aborted as asked), 1 when
    validation fails, a chunk fails, or bad health made it pause."""
    on_progress, on_event = _watchers()
    return _run(_options(spec, target, restart=restart, on_progress=on_progress,
                         on_event=on_event), fmt, output)  # fmt: skip


@backfill.command("resume")
@_common
def resume(spec: Path, target: str | None, fmt: str, output: Path | None) -> int:
    """Continue a paused backfill (as `run` does, from its last committed chunk)."""
    on_progress, on_event = _watchers()
    return _run(_options(spec, target, resume=True, on_progress=on_progress,
                         on_event=on_event), fmt, output)  # fmt: skip


@backfill.command("status")
@_common
@click.option("--validate", is_flag=True, help="Run the validation query too (read-only).")
def status(spec: Path, target: str | None, fmt: str, output: Path | None, validate: bool) -> int:
    """The backfill's checkpoint, read-only: status, position, rate, ETA, lock waits, and the
    latest decisions (back-offs, retries, pauses) with the signal behind each."""
    from dbtruth.backfill.run import backfill_status

    result = backfill_status(_options(spec, target, validate=validate))
    _emit(result, fmt, output)
    return 1 if result.validation is not None and not result.validation.passes else 0


@backfill.command("pause")
@_common
def pause(spec: Path, target: str | None, fmt: str, output: Path | None) -> int:
    """Pause the backfill: a running `run` stops after its chunk; `resume` continues."""
    from dbtruth.backfill.run import change_status

    _emit(change_status(_options(spec, target), "pause"), fmt, output)
    return 0


@backfill.command("abort")
@_common
def abort(spec: Path, target: str | None, fmt: str, output: Path | None) -> int:
    """Abort the backfill: a running `run` stops after its chunk, and `run` refuses it until
    `run --restart`. Chunks already committed stay applied."""
    from dbtruth.backfill.run import change_status

    _emit(change_status(_options(spec, target), "abort"), fmt, output)
    return 0


def _watchers() -> tuple[Callable[[Progress], None], Callable[[Event], None]]:
    """Progress and decisions on standard error: a line per decision, and the progress every
    ten seconds (on a terminal, on one line rewritten in place)."""
    tty = streams.err.isatty()
    last = [0.0]

    def on_progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < (0.5 if tty else 10.0):
            return
        last[0] = now
        eta = p.eta_seconds
        total = p.rows_estimate or 0.0
        share = f" {min(p.rows_visited / total, 1):.0%}" if total > 0 else ""
        text = (f"dbtruth: chunk {p.chunks:,}: {p.rows_visited:,} rows{share}, "
                f"{p.rows_per_second:,.0f} rows/s, chunk {p.chunk_rows:,} rows"
                + (f", ETA {eta:,.0f} s" if eta is not None else ""))  # fmt: skip
        if tty:
            streams.err.write(f"\r\x1b[K{text}")
            streams.err.flush()
        else:
            echo(text, err=True)

    def on_event(e: Event) -> None:
        if tty:
            streams.err.write("\r\x1b[K")
        echo(f"dbtruth: {e.at:%H:%M:%S} {e.kind}: {e.detail}", err=True)

    return on_progress, on_event
