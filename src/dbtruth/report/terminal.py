"""The terminal: findings grouped by rule, severity and remedy (one design decision repeated
reads as one headline, its objects and the fix once), severity in colour, and a one-line
summary last so it is what the eye lands on.

Text from the input is never parsed as rich markup: lines are assembled from styled pieces, and
every piece has its control characters shown as escapes, so a name holding ESC ]0; or
"[link=...]" prints as those characters instead of acting on the terminal.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.text import Text

from dbtruth.findings import Finding
from dbtruth.inert import code_lines, visible
from dbtruth.report.context import ReportContext
from dbtruth.report.grouping import FindingGroup, group_findings, objects_phrase
from dbtruth.words import counted

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
# Objects listed under one headline; the rest are counted (JSON, SARIF, Markdown list them all).
_LISTED = 25

Piece = str | tuple[str, str]


def _line(*pieces: Piece) -> Text:
    """One output line from plain strings and (text, style) pairs, all made visible."""
    text = Text(no_wrap=False)
    for piece in pieces:
        if isinstance(piece, str):
            text.append(visible(piece))
        else:
            text.append(visible(piece[0]), style=piece[1])
    return text


def render_to(
    ctx: ReportContext, stream: TextIO, *, color: bool | None = None, show_sql: bool = True
) -> None:
    console = Console(
        file=stream,
        force_terminal=color,
        no_color=color is False,
        highlight=False,
        soft_wrap=True,
        emoji=False,
        markup=False,
    )
    lines = _lines(ctx, show_sql)
    if console.color_system is None:
        # No terminal to style for (a pipe, a file, --no-color): the text alone, without
        # rich's per-line rendering, which took seconds for tens of thousands of findings.
        stream.write("".join(f"{line.plain}\n" for line in lines))
    else:
        console.print(Text("\n").join(lines))


def _where(finding: Finding) -> list[Piece]:
    if finding.location is None:
        return []
    return [" ", (f"{finding.location.file}:{finding.location.line}", "dim")]


def _group_lines(group: FindingGroup, show_sql: bool) -> list[Text]:
    """One headline per rule, severity and remedy; its objects; the fix once."""
    label = group.severity.label
    head: list[Piece] = [(f"{label:<7}", _STYLE[label]), " ", (group.code, "bold"), " ",
                         (group.name, "dim")]  # fmt: skip
    lines: list[Text] = []
    if not group.repeated:
        finding = group.first
        lines.append(_line(*head, *_where(finding)))
        lines.append(_line("    ", (finding.object.path, "bold")))
        lines.append(_line(f"    {finding.message}"))
    else:
        lines.append(_line(*head, " — ", (objects_phrase(group), "bold")))
        shown = group.findings[:_LISTED]
        for finding in shown:
            lines.append(_line("    ", (finding.object.path, "bold"), *_where(finding)))
            lines.append(_line(f"        {finding.message}"))
        if len(group.findings) > len(shown):
            more = len(group.findings) - len(shown)
            lines.append(_line((f"    … and {more} more (every one is listed by --format json, "
                                "sarif or markdown)", "dim")))  # fmt: skip
    fix = group.first.violation.fix
    if fix is not None:
        safety = (fix.label, "green") if fix.safe else (fix.label, "red")
        described = f"): {fix.description}" + (f" — {fix.note}" if fix.note else "")
        lines.append(_line("    fix (", safety, described))
        if group.repeated:
            lines.append(_line((f"    shown for {group.first.object.path}; the others alike",
                                "dim")))  # fmt: skip
        if fix.sql and show_sql:
            # code_lines already made the controls visible and kept tabs.
            lines += [Text("        ").append(sql, style="dim") for sql in code_lines(fix.sql)]
    return lines


def _lines(ctx: ReportContext, show_sql: bool) -> list[Text]:
    lines = [
        _line((ctx.title, "bold"), " ", ctx.target),
        _line(
            (
                f"{ctx.source}; PostgreSQL {ctx.server_version}"
                if ctx.server_version
                else ctx.source,
                "dim",
            )
        ),
    ]
    lines += [_line((f"note: {note}", "dim")) for note in ctx.notes]
    if ctx.load_problems:
        lines.append(
            _line(
                ("incomplete:", "bold red"),
                f" {counted(len(ctx.load_problems), 'statement')} could not be loaded; objects "
                "they create were not checked:",
            )
        )
        lines += [_line("  ", (problem, "red")) for problem in ctx.load_problems]
    lines.append(Text())
    for title, block in ctx.blocks:
        lines.append(_line((title, "bold")))
        lines += [_line(f"  {text}") for text in block]
        lines.append(Text())
    for group in group_findings(ctx.findings):
        lines += _group_lines(group, show_sql)
        lines.append(Text())
    for ignore in ctx.result.unused_ignores:
        lines.append(
            _line(
                ("unused ignore:", "yellow"),
                f" {ignore.rule} on {ignore.object} matched nothing",
            )
        )
    if ctx.result.skipped_live_only:
        skipped = ", ".join(ctx.result.skipped_live_only)
        lines.append(_line((f"live-only rules not run on this target: {skipped}", "dim")))
    worst = max((f.severity for f in ctx.findings), default=None)
    style = _STYLE[worst.label] if worst else "green"
    lines.append(_line((ctx.summary(), style)))
    return lines
