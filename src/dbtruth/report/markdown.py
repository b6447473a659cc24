"""Markdown: a pull-request comment or a page in the docs; findings that repeat one design
decision are one section (rule, severity and remedy), their objects listed, the fix once.

Names, messages and manifest text come from the input: each goes out as a code span or as
escaped prose (dbtruth.inert), so a viewer that renders HTML shows them and runs nothing. The
messages and fixes rules write may quote `code`: those spans stay code spans.
"""

from __future__ import annotations

from dbtruth.findings import Finding
from dbtruth.inert import code_lines, md_code, md_fence, md_prose, md_text
from dbtruth.report.context import ReportContext
from dbtruth.report.grouping import group_findings, objects_phrase

_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def fix_lines(finding: Finding, *, note: bool = True) -> list[str]:
    """A finding's fix as a nested bullet and an indented SQL block (shared with the review)."""
    fix = finding.violation.fix
    if fix is None:
        return []
    safety = fix.label
    line = f"  - Fix ({safety}): {md_prose(fix.description)}"
    if note and fix.note:
        line += f" — {md_prose(fix.note)}"
    lines = [line]
    if fix.sql:
        fence = md_fence(fix.sql)
        lines += ["", f"    {fence}sql"] + [f"    {text}" for text in code_lines(fix.sql)]
        lines += [f"    {fence}", ""]
    return lines


def _where(finding: Finding) -> str:
    where = finding.location
    return f" ({md_code(f'{where.file}:{where.line}')})" if where else ""


def render(ctx: ReportContext) -> str:
    lines = [
        f"# {md_text(ctx.title)}",
        "",
        f"- Target: {md_code(ctx.target)}",
        f"- Source: {md_text(ctx.source)}",
        f"- PostgreSQL {md_text(ctx.server_version or 'not read')}",
        f"- {md_text(ctx.summary())}",
        "",
    ]
    if ctx.load_problems:
        lines += [
            "> **Incomplete:** these statements could not be loaded, so objects they "
            "create were not checked:",
            ">",
        ]
        lines += [f"> - {md_code(p)}" for p in ctx.load_problems] + [""]
    for title, block in ctx.blocks:
        fence = md_fence("\n".join(block))
        lines += [f"## {md_text(title)}", "", f"{fence}text", *code_lines("\n".join(block)),
                  fence, ""]  # fmt: skip
    for group in group_findings(ctx.findings):
        label = group.severity.label
        first = group.first
        if not group.repeated:
            lines += [
                f"## {_ICON[label]} {group.code} {group.name} ({label}): "
                f"{md_code(first.object.path)}",
                "",
                f"- {md_prose(first.message)}{_where(first)}",
            ]
        else:
            lines += [
                f"## {_ICON[label]} {group.code} {group.name} ({label}): {objects_phrase(group)}",
                "",
            ]
            lines += [f"- {md_prose(f.message)}{_where(f)}" for f in group.findings]
        fixed = fix_lines(first)
        if fixed and group.repeated:
            fixed[0] += f" (shown for {md_code(first.object.path)}; the others alike)"
        lines += ["", *[line.removeprefix("  ") for line in fixed]] if fixed else []
        lines.append("")
    if ctx.result.unused_ignores:
        lines += ["## Unused ignores", ""]
        lines += [
            f"- {md_code(i.rule)} on {md_code(i.object)} ({md_prose(i.reason)}) matched nothing"
            for i in ctx.result.unused_ignores
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
