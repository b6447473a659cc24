"""SARIF 2.1.0 for code-scanning UIs: rules[] from the rule docstrings, logical locations
(schema.table.column) for every result, a physical location when the object's CREATE statement
was found in a SQL file, and partialFingerprints that stay stable across environments."""

from __future__ import annotations

import json
from typing import Any

from dbtruth import __version__
from dbtruth.findings import Finding, Severity
from dbtruth.report.context import ReportContext

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_LOGICAL_KIND = {
    "table": "type",
    "view": "type",
    "materialized view": "type",
    "column": "member",
    "function": "function",
    "index": "object",
    "constraint": "object",
    "sequence": "object",
}


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    obj = finding.object
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "fullyQualifiedName": obj.path,
                "name": obj.detail or obj.name,
                "kind": _LOGICAL_KIND.get(obj.kind, "object"),
            }
        ]
    }
    if finding.location is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": finding.location.file},
            "region": {
                "startLine": finding.location.line,
                "startColumn": finding.location.column,
            },
        }
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index[finding.code],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"dbtruth/v1": finding.fingerprint},
        "properties": {"object": obj.path, "evidence": dict(finding.violation.evidence)},
    }
    fix = finding.violation.fix
    if fix is not None:
        result["properties"]["fix"] = fix.as_dict()
    return result


def render(ctx: ReportContext) -> str:
    rules = [
        {
            "id": spec.code,
            "name": spec.name,
            "shortDescription": {"text": spec.summary},
            "fullDescription": {"text": spec.section("Why is this bad?")},
            "help": {"text": spec.doc, "markdown": spec.doc},
            "defaultConfiguration": {"level": _LEVEL[spec.severity]},
            "properties": {"family": spec.family, "liveOnly": spec.live_only},
        }
        for spec in ctx.rules
    ]
    rule_index = {spec.code: i for i, spec in enumerate(ctx.rules)}
    run = {
        "tool": {
            "driver": {
                "name": "dbtruth",
                "version": __version__,
                "rules": rules,
            }
        },
        "results": [_result(f, rule_index) for f in ctx.findings],
        "properties": {
            "target": ctx.target,
            "source": ctx.source,
            "serverVersion": ctx.server_version,
            "loadProblems": list(ctx.load_problems),
        },
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
