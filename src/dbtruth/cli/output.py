"""Where the commands write: standard output and error as `run` was given them, files named
by -o, a progress bar for long loads, and errors as one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dbtruth.errors import DbtruthError
from dbtruth.inert import one_line, visible
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.findings import Finding
    from dbtruth.report.context import ReportContext
    from dbtruth.sources.target import ProgressFactory


class _Streams:
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr


streams = _Streams()


def echo(text: str, *, err: bool = False, lines: bool = False) -> None:
    """Write a line. On standard error, where messages quote names, paths and server text,
    a message stays one line (`lines` keeps the line breaks of a traceback or a hint) and
    control characters are shown as escapes, so nothing in them acts on the terminal."""
    if err:
        text = visible(text, keep="\n\t") if lines else one_line(text)
    stream = streams.err if err else streams.out
    stream.write(text if text.endswith("\n") else text + "\n")


def redact(text: str) -> str:
    """`text` with every password hidden, however spelled."""
    # Only messages that leave dbtruth need this: the connection-string module (and psycopg
    # with it) loads on that path, not on every start.
    from dbtruth.sources.conninfo import redact as hide_passwords

    return hide_passwords(text)


def error(exc: DbtruthError) -> None:
    """An error as one line, its hint included, whatever the message copied: a PostgreSQL
    error with its DETAIL, a YAML snippet, a file name with a newline in it. One line is what
    CI annotations and `grep` read."""
    text = f"{exc.where}: {exc.message}" if exc.where else exc.message
    hint = f" (hint: {one_line(redact(exc.hint))})" if exc.hint else ""
    echo(f"dbtruth: error: {one_line(redact(text))}{hint}", err=True, lines=True)


def write(output: Path, text: str) -> None:
    try:
        # backslashreplace: a lone surrogate (an undecodable byte of a file name that reached
        # the text) is written as \udcff instead of failing the whole run.
        output.write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise DbtruthError(f"cannot write the output: {exc.strerror}", where=str(output)) from exc


def write_baseline_to(path: Path, findings: list[Finding]) -> None:
    from dbtruth.engine import baseline_document

    write(path, baseline_document(findings))
    echo(f"wrote {counted(len(findings), 'finding')} to baseline {path}", err=True)


def emit(ctx: ReportContext, fmt: str, output: Path | None, no_color: bool) -> None:
    """The report in `fmt`, to `output` or standard output."""
    from dbtruth.report import formats

    if fmt != "terminal":
        text = formats.render(ctx, fmt)
        if output:
            write(output, text)
        else:
            echo(text)
        return
    try:
        stream = open(output, "w", encoding="utf-8") if output else streams.out  # noqa: SIM115
    except OSError as exc:
        raise DbtruthError(f"cannot write the output: {exc.strerror}", where=str(output)) from exc
    try:
        color = False if (no_color or output or "NO_COLOR" in os.environ) else None
        formats.write_terminal(ctx, stream, color=color)
    finally:
        if output:
            stream.close()


@contextmanager
def progress() -> Iterator[ProgressFactory | None]:
    """A progress bar on stderr for long SQL loads, only when stderr is a terminal."""
    if not streams.err.isatty():
        yield None
        return
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} statements"),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    ) as bar:

        def start(description: str, total: int) -> Callable[[str, int], None]:
            # The description names files: shown as text, never read as rich markup.
            task = bar.add_task(escape(visible(description)), total=None)

            def tick(file: str, n: int) -> None:
                bar.update(task, advance=n)

            return tick

        yield start
