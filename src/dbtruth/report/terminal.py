"""The terminal: findings grouped by object, severity in colour, the fix under each finding,
and a one-line summary last so it is what the eye lands on."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from dbtruth.report.context import ReportContext

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_to(
    ctx: ReportContext, stream: TextIO, *, color: bool | None = None, show_sql: bool = True
) -> None:
    console = Console(
        file=stream, force_terminal=color, no_color=color is False, highlight=False, soft_wrap=True
    )
    console.print(f"[bold]{escape(ctx.title)}[/] {escape(ctx.target)}")
    console.print(f"[dim]{escape(ctx.source)}; PostgreSQL {escape(ctx.server_version)}[/]")
    for note in ctx.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    if ctx.load_problems:
        console.print(
            f"[bold red]incomplete:[/] {len(ctx.load_problems)} statement(s) could "
            "not be loaded; objects they create were not checked:"
        )
        for problem in ctx.load_problems:
            console.print(f"  [red]{escape(problem)}[/]")
    console.print()
    for relation, group in groupby(ctx.findings, key=lambda f: f.object.relation):
        console.print(f"[bold]{escape(relation)}[/]")
        for finding in group:
            label = finding.severity.label
            where = (
                f" [dim]{escape(finding.location.file)}:{finding.location.line}[/]"
                if finding.location
                else ""
            )
            console.print(
                f"  [{_STYLE[label]}]{label:<7}[/] [bold]{finding.code}[/] "
                f"[dim]{finding.name}[/]{where}"
            )
            console.print(f"          {escape(finding.message)}")
            fix = finding.violation.fix
            if fix is not None:
                safety = "[green]safe[/]" if fix.safe else "[red]unsafe[/]"
                console.print(f"          fix ({safety}): {escape(fix.description)}")
                if fix.sql and show_sql:
                    for line in fix.sql.splitlines():
                        console.print(f"            [dim]{escape(line)}[/]")
        console.print()
    for ignore in ctx.result.unused_ignores:
        console.print(
            f"[yellow]unused ignore:[/] {escape(ignore.rule)} on "
            f"{escape(ignore.object)} matched nothing"
        )
    if ctx.result.skipped_live_only:
        console.print(
            f"[dim]live-only rules not run on this target: "
            f"{', '.join(ctx.result.skipped_live_only)}[/]"
        )
    worst = max((f.severity for f in ctx.findings), default=None)
    style = _STYLE[worst.label] if worst else "green"
    console.print(f"[{style}]{escape(ctx.summary())}[/]")
