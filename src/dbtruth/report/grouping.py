"""Findings that are one design decision repeated, read as one.

Two hundred tables without FORCE ROW LEVEL SECURITY are one decision, not two hundred problems:
the terminal and Markdown show one headline per rule, severity and remedy, the objects under it
(each with its own message and place), and the fix once, for the first object. JSON and SARIF
keep one result per object, so baselines and code-scanning still track each one.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbtruth.findings import Finding, Severity
from dbtruth.words import counted


@dataclass(frozen=True, slots=True)
class FindingGroup:
    code: str
    name: str
    severity: Severity
    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def repeated(self) -> bool:
        return len(self.findings) > 1


def group_findings(findings: list[Finding]) -> list[FindingGroup]:
    """Findings with the same rule, severity and remedy (fix description and note) together;
    worst severity first, then by rule, objects in the order they came."""
    groups: dict[tuple[str, Severity, str, str], list[Finding]] = {}
    for finding in findings:
        fix = finding.violation.fix
        key = (
            finding.code,
            finding.severity,
            fix.description if fix else "",
            (fix.note or "") if fix else "",
        )
        groups.setdefault(key, []).append(finding)
    ordered = sorted(groups.items(), key=lambda item: (-item[0][1], item[0][0]))
    return [
        FindingGroup(key[0], members[0].name, key[1], tuple(members)) for key, members in ordered
    ]


def objects_phrase(group: FindingGroup) -> str:
    """'7 objects' / '1 object' with the kind when they share one: '7 tables'; '4 findings on
    2 tables' when some object is found more than once."""
    kinds = {f.object.kind for f in group.findings}
    kind = next(iter(kinds)) if len(kinds) == 1 else "object"
    count = len({f.object.path for f in group.findings})
    findings = len(group.findings)
    objects = counted(count, kind)
    # one object found by several statements (M011 once per migration file): say both
    return objects if findings == count else f"{findings} findings on {objects}"
