"""A finding as plain lines, for the formats that carry text without markup (GitHub
annotations, JUnit failures): its sentence, its object, its fix and the fix's SQL."""

from __future__ import annotations

from dbtruth.findings import Finding


def finding_lines(finding: Finding) -> list[str]:
    lines = [finding.message, f"{finding.object.kind} {finding.object.path}"]
    fix = finding.violation.fix
    if fix is not None:
        note = f" ({fix.note})" if fix.note else ""
        lines.append(f"Fix ({fix.label}): {fix.description}{note}")
        if fix.sql:
            lines.append(fix.sql)
    return lines
