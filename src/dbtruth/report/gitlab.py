"""GitLab Code Quality: a JSON array of issues, which a merge request compares with its target
branch's report by fingerprint to show what it adds and what it resolves.

A fingerprint is made of the rule, the object's kind and path and the file it is in: never a
line, an OID or a statement's position, so a finding that moves within its file (lines or
statements added above it) keeps it, and the merge request does not show it as resolved and
added again. GitLab needs fingerprints unique within a report: the same rule on the same object
more than once in one file (a table altered by two statements) is told apart by its rank among
those, in file order. GitLab wants a path for every issue: a finding whose object was not found
in a file is reported at line 1 of the target checked.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from dbtruth.findings import Finding, Severity
from dbtruth.inert import json_text

if TYPE_CHECKING:
    from dbtruth.report.context import ReportContext

# GitLab's names, lowest to highest: info, minor, major, critical, blocker.
SEVERITY = {Severity.INFO: "info", Severity.WARNING: "major", Severity.ERROR: "critical"}


def _path(finding: Finding, target: str) -> tuple[str, int]:
    if finding.location is None:
        return target.removeprefix("./"), 1
    return finding.location.file.removeprefix("./"), finding.location.line


def _key(finding: Finding, path: str) -> tuple[str, ...]:
    return (finding.code, finding.object.kind, finding.object.path, path)


def fingerprint(key: tuple[str, ...], rank: int) -> str:
    text = "\x1f".join(("dbtruth-gitlab-v1", *key, str(rank)))
    # surrogatepass: a file name may hold bytes that are not UTF-8 (lone surrogates here).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _description(finding: Finding) -> str:
    fix = finding.violation.fix
    if fix is None:
        return finding.message
    return f"{finding.message.rstrip('.')}. Fix: {fix.description}"


def render(ctx: ReportContext) -> str:
    seen: dict[tuple[str, ...], int] = {}
    issues: list[dict[str, Any]] = []
    for finding in ctx.findings:
        path, line = _path(finding, ctx.target)
        key = _key(finding, path)
        rank = seen[key] = seen.get(key, -1) + 1
        issues.append(
            {
                "type": "issue",
                "engine_name": "dbtruth",
                "check_name": f"{finding.code} {finding.name}",
                "description": _description(finding),
                "severity": SEVERITY[finding.severity],
                "fingerprint": fingerprint(key, rank),
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    # Names stay exact (they are data); json_text writes what a terminal would act on as \u
    # escapes, as the JSON format does.
    return json_text(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n"
