"""Markdown: a pull-request comment or a page in the docs, grouped by object."""

from __future__ import annotations

from itertools import groupby

from dbtruth.report.context import ReportContext

_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def render(ctx: ReportContext) -> str:
    lines = [
        f"# {ctx.title}",
        "",
        f"- Target: `{ctx.target}`",
        f"- Source: {ctx.source}",
        f"- PostgreSQL {ctx.server_version}",
        f"- {ctx.summary()}",
        "",
    ]
    if ctx.load_problems:
        lines += [
            "> **Incomplete:** these statements could not be loaded, so objects they "
            "create were not checked:",
            ">",
        ]
        lines += [f"> - `{p}`" for p in ctx.load_problems] + [""]
    for relation, group in groupby(ctx.findings, key=lambda f: f.object.relation):
        lines += [f"## `{relation}`", ""]
        for finding in group:
            label = finding.severity.label
            lines.append(
                f"- {_ICON[label]} **{finding.code} {finding.name}** ({label}): {finding.message}"
            )
            fix = finding.violation.fix
            if fix is not None:
                safety = "safe" if fix.safe else "unsafe"
                lines.append(
                    f"  - Fix ({safety}): {fix.description}"
                    + (f" — {fix.note}" if fix.note else "")
                )
                if fix.sql:
                    lines += ["", "    ```sql"] + [f"    {line}" for line in fix.sql.splitlines()]
                    lines += ["    ```", ""]
        lines.append("")
    if ctx.result.unused_ignores:
        lines += ["## Unused ignores", ""]
        lines += [
            f"- `{i.rule}` on `{i.object}` ({i.reason}) matched nothing"
            for i in ctx.result.unused_ignores
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
