"""The report formats of `check` and `migrate lint`, by name. Each renderer is imported when its
format is asked for: a terminal report does not pay for the others."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the command line reads FORMATS for its help; the context costs the engine
    from dbtruth.report.context import ReportContext

FORMATS = ("terminal", "json", "sarif", "markdown", "github", "junit", "gitlab")


def render(ctx: ReportContext, fmt: str) -> str:
    """The report as text, in any format but the terminal's (see write_terminal)."""
    if fmt == "json":
        from dbtruth.report import jsonout

        return jsonout.render(ctx)
    if fmt == "sarif":
        from dbtruth.report import sarif

        return sarif.render(ctx)
    if fmt == "markdown":
        from dbtruth.report import markdown

        return markdown.render(ctx)
    if fmt == "github":
        from dbtruth.report import github

        return github.render(ctx)
    if fmt == "junit":
        from dbtruth.report import junit

        return junit.render(ctx)
    if fmt == "gitlab":
        from dbtruth.report import gitlab

        return gitlab.render(ctx)
    raise ValueError(f"no renderer for format {fmt!r}")


def write_terminal(ctx: ReportContext, stream: TextIO, *, color: bool | None) -> None:
    """The report for people at a terminal (rich: colour when `color` is None and the stream
    is one)."""
    from dbtruth.report import terminal

    terminal.render_to(ctx, stream, color=color)
