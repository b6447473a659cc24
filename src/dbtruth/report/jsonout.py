"""JSON: every finding with its fix and evidence, plus the run's facts, for scripts."""

from __future__ import annotations

import json
from typing import Any

from dbtruth import __version__
from dbtruth.findings import Finding
from dbtruth.inert import json_text
from dbtruth.report.context import ReportContext


def finding_dict(finding: Finding) -> dict[str, Any]:
    fix = finding.violation.fix
    return {
        "code": finding.code,
        "name": finding.name,
        "family": finding.family,
        "severity": finding.severity.label,
        "object": {"kind": finding.object.kind, "path": finding.object.path},
        "message": finding.message,
        "fix": None if fix is None else fix.as_dict(),
        "evidence": dict(finding.violation.evidence),
        "fingerprint": finding.fingerprint,
        "location": None
        if finding.location is None
        else {
            "file": finding.location.file,
            "line": finding.location.line,
            "column": finding.location.column,
        },
    }


def render(ctx: ReportContext) -> str:
    document = {
        "tool": {"name": "dbtruth", "version": __version__},
        "target": ctx.target,
        "source": ctx.source,
        "server_version": ctx.server_version,
        "summary": ctx.counts(),
        "findings": [finding_dict(f) for f in ctx.findings],
        "suppressed": [
            {**finding_dict(s.finding), "reason": s.reason} for s in ctx.result.suppressed
        ],
        "unused_ignores": [i.model_dump() for i in ctx.result.unused_ignores],
        "baselined": ctx.result.baselined,
        "skipped_live_only_rules": ctx.result.skipped_live_only,
        "load_problems": list(ctx.load_problems),
        "notes": ctx.notes,
        **ctx.extra,
    }
    # Names stay exact (they are data); json_text only writes C1 controls and bidi overrides
    # as \u escapes so that the document is safe to print on a terminal.
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
