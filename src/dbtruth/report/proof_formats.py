"""`dbtruth prove` for CI and for people: Markdown (a pull-request comment or a file in the
repository), JUnit XML (one test case per invariant: a leak fails it, a proof that could not be
made is skipped with the reason) and SARIF 2.1.0 (a result per invariant the database does not
keep, and per one dbtruth could not prove, for code-scanning views).

Names, SQL and server messages come from the input: Markdown shows them as code or escaped
prose, XML as escaped text, SARIF as JSON strings.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dbtruth import __version__
from dbtruth.inert import code_lines, json_text, md_code, md_fence, md_line, md_text
from dbtruth.prove.data import DataFinding, DataReport
from dbtruth.prove.model import Probe, Proof, Proved, Status
from dbtruth.report.junit import attribute, text
from dbtruth.report.proofs import DATA_KINDS, data_line, summary
from dbtruth.report.sarif import SCHEMA

_ORDER = (Status.UNENFORCED, Status.NOT_PROVABLE, Status.PROVEN)
_HEADINGS = {
    Status.UNENFORCED: "Unenforced: the database accepted the illegal write",
    Status.NOT_PROVABLE: "Not provable: no conclusive probe could run",
    Status.PROVEN: "Proven: the database refused the illegal write",
}


def _failing(proof: Proof) -> Probe | None:
    """The probe that decided a proof's status: the first accepted, or the first unsure."""
    return next((p for p in proof.probes if p.status is proof.status), None)


def _why(proof: Proof) -> str:
    probe = _failing(proof)
    if proof.status is Status.NOT_PROVABLE:
        return proof.reason or (probe.reason if probe and probe.reason else "")
    if probe is None:
        return ""
    return f"{probe.name}: {probe.observed}"


def _accepted(probe: Probe) -> str | None:
    from dbtruth.prove.rows import shown

    row = probe.accepted_row
    if row is None:
        return None
    return ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in shown(row))


# -- Markdown --------------------------------------------------------------------------------


def render_markdown(proved: Proved) -> str:
    lines = [
        f"# dbtruth prove {md_text(proved.target)}",
        "",
        md_line(
            f"Probes ran on a throwaway copy: {md_text(proved.clone)}. Every write was "
            "rolled back (a race's sessions commit, each interleaving on a copy of the copy, "
            "dropped after); the target was only read."
        ),
        "",
        "| status | invariants | evidence |",
        "|---|---|---|",
        *[f"| {s.value} | {proved.count(s)} | {s.evidence} |" for s in _ORDER],
        "",
    ]
    if proved.notes:
        lines += ["Notes:", "", *[f"- {md_text(n)}" for n in proved.notes], ""]
    for status in _ORDER:
        proofs = [p for p in proved.proofs if p.status is status]
        if not proofs:
            continue
        lines += [f"## {_HEADINGS[status]} ({len(proofs)})", ""]
        if status is Status.PROVEN:
            lines += ["| invariant | kind | source |", "|---|---|---|"]
            lines += [
                f"| {md_code(p.subject.id)} | {md_text(p.subject.kind)} | "
                f"{md_text(p.subject.source)} |"
                for p in proofs
            ]
            lines.append("")
            continue
        for proof in proofs:
            lines += _markdown_proof(proof)
    if proved.data is not None:
        lines += _markdown_data(proved.data)
    lines.append(md_text(summary(proved)))
    return "\n".join(lines) + "\n"


def _markdown_data(data: DataReport) -> list[str]:
    lines = [f"## The rows ({md_text(data.source)})", ""]
    for kind, heading in DATA_KINDS:
        found = [f for f in data.findings if f.kind == kind]
        if not found:
            continue
        lines += [f"### {md_text(heading)} ({len(found)})", ""]
        for finding in found:
            lines.append(f"- {md_line(md_text(data_line(finding)))}")
            if finding.safe_form and not finding.count and not finding.error:
                lines += ["", "  ```sql", *[f"  {x}" for x in code_lines(finding.safe_form)],
                          "  ```"]  # fmt: skip
        lines.append("")
    return lines


def _markdown_proof(proof: Proof) -> list[str]:
    subject = proof.subject
    lines = [
        f"### {md_code(subject.id)}",
        "",
        md_line(
            f"{md_text(subject.statement)} ({md_text(subject.kind)}, {md_text(subject.source)})"
        ),
        "",
    ]
    if proof.reason:
        lines += [md_line(f"Why not provable: {md_text(proof.reason)}"), ""]
    for probe in proof.probes:
        if probe.status is Status.PROVEN:
            continue
        lines.append(f"- {md_text(probe.name)}: {md_text(probe.observed)}")
        if probe.reason:
            lines.append(f"  - why not provable: {md_text(probe.reason)}")
        accepted = _accepted(probe)
        if accepted is not None:
            lines.append(f"  - accepted row: {md_code(accepted)}")
        if probe.probe_sql:
            body = "\n".join(code_lines(probe.probe_sql))
            fence = md_fence(body)
            lines += ["", f"  {fence}sql", *[f"  {line}" for line in body.splitlines()],
                      f"  {fence}"]  # fmt: skip
    return [*lines, ""]


# -- JUnit -----------------------------------------------------------------------------------


def _case(proof: Proof) -> list[str]:
    subject = proof.subject
    head = f'    <testcase classname="{attribute(subject.kind)}" name="{attribute(subject.id)}"'
    details = "\n".join(
        [
            subject.statement,
            *(
                f"{p.status.value}: {p.name}: {p.observed}"
                + (f"\n{p.probe_sql}" if p.status is not Status.PROVEN and p.probe_sql else "")
                for p in proof.probes
            ),
        ]
    )
    if proof.status is Status.PROVEN:
        return [f"{head}>", f"      <system-out>{text(details)}</system-out>", "    </testcase>"]
    why = _why(proof)
    if proof.status is Status.NOT_PROVABLE:
        # The Jenkins schema gives <skipped> text, not a message attribute: the reason goes there.
        return [f"{head}>", f"      <skipped>{text(why)}</skipped>",
                f"      <system-out>{text(details)}</system-out>", "    </testcase>"]  # fmt: skip
    return [
        f"{head}>",
        f'      <failure type="unenforced" message="{attribute(why)}">{text(details)}</failure>',
        "    </testcase>",
    ]


def render_junit(proved: Proved) -> str:
    failures = proved.count(Status.UNENFORCED)
    skipped = proved.count(Status.NOT_PROVABLE)
    total = len(proved.proofs)
    name = attribute(f"dbtruth prove {proved.target}")
    data = _data_cases(proved.data) if proved.data is not None else []
    data_failures = sum(1 for case in data if "<failure" in case)
    data_skipped = sum(1 for case in data if "<skipped" in case)
    data_suite = (
        [
            f'  <testsuite name="{attribute(f"the rows ({proved.data.source})")}" '
            f'tests="{len(data)}" failures="{data_failures}" errors="0" '
            f'skipped="{data_skipped}">',
            *data,
            "  </testsuite>",
        ]
        if proved.data is not None
        else []
    )
    return (
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<testsuites name="{name}" tests="{total + len(data)}" '
                f'failures="{failures + data_failures}" errors="0">',
                f'  <testsuite name="{name}" tests="{total}" failures="{failures}" errors="0" '
                f'skipped="{skipped}">',
                *[line for proof in proved.proofs for line in _case(proof)],
                "  </testsuite>",
                *data_suite,
                "</testsuites>",
            ]
        )
        + "\n"
    )


def _data_cases(data: DataReport) -> list[str]:
    """--data in JUnit: a test case per declared invariant counted on the rows (failed by
    rows that break it) and per set of orphans or overlaps (failed); a query that could not
    run is skipped with its reason. Latent invariants are proposals, not tests."""
    cases = []
    for finding in data.findings:
        if finding.kind not in ("violation", "orphans", "overlaps"):
            continue
        head = (
            f'    <testcase classname="{attribute(finding.kind)}" '
            f'name="{attribute(finding.subject)}"'
        )
        if finding.error:
            cases.append(f"{head}><skipped>{text(data_line(finding))}</skipped></testcase>")
        elif finding.count:
            message = attribute(data_line(finding))
            cases.append(
                f'{head}><failure type="{attribute(finding.kind)}" message="{message}">'
                f"{text(finding.query)}</failure></testcase>"
            )
        else:
            cases.append(f"{head}/>")
    return cases


# -- SARIF -----------------------------------------------------------------------------------


def _rule_id(kind: str) -> str:
    return "prove/" + kind.replace(" ", "-")


def _result(proof: Proof, rule_index: dict[str, int]) -> dict[str, Any]:
    subject = proof.subject
    probe = _failing(proof)
    name = subject.object or subject.table or subject.id
    result: dict[str, Any] = {
        "ruleId": _rule_id(subject.kind),
        "ruleIndex": rule_index[_rule_id(subject.kind)],
        "level": "error" if proof.status is Status.UNENFORCED else "note",
        "message": {"text": f"{proof.status.value}: {subject.statement}: {_why(proof)}"},
        "locations": [{"logicalLocations": [_logical(name)]}],
        "partialFingerprints": {
            "dbtruth-prove/v1": hashlib.sha256(
                f"{subject.kind}\0{subject.id}".encode()
            ).hexdigest()[:32]
        },
        "properties": {
            "invariant": subject.id,
            "source": subject.source,
            "status": proof.status.value,
        },
    }
    if probe is not None and probe.probe_sql:
        result["properties"]["sql"] = probe.probe_sql
    accepted = _accepted(probe) if probe is not None else None
    if accepted is not None:
        result["properties"]["acceptedRow"] = accepted
    return result


# --data in SARIF: what the rows break; latent invariants are proposals and stay out.
_DATA_LEVELS = {"violation": "error", "orphans": "warning", "overlaps": "warning"}


def _logical(name: str) -> dict[str, str]:
    return {"fullyQualifiedName": name, "name": name, "kind": "object"}


def _data_result(finding: DataFinding, index: int, level: str) -> dict[str, Any]:
    rule = f"prove-data/{finding.kind.replace(' ', '-')}"
    return {
        "ruleId": rule,
        "ruleIndex": index,
        "level": "note" if finding.error else level,
        "message": {"text": data_line(finding)},
        "locations": [{"logicalLocations": [_logical(finding.subject)]}],
        "partialFingerprints": {
            "dbtruth-prove/v1": hashlib.sha256(
                f"{finding.kind}\0{finding.subject}".encode()
            ).hexdigest()[:32]
        },
        "properties": {
            "rows": finding.count,
            "sampleKeys": list(finding.sample),
            "sql": finding.query,
            "evidence": finding.evidence,
        },
    }


def render_sarif(proved: Proved) -> str:
    kinds = sorted({p.subject.kind for p in proved.proofs})
    rules = [
        {
            "id": _rule_id(kind),
            "name": f"{kind} not kept by the database",
            "shortDescription": {"text": f"a {kind} invariant the database does not enforce"},
            "defaultConfiguration": {"level": "error"},
        }
        for kind in kinds
    ]
    rule_index = {_rule_id(kind): i for i, kind in enumerate(kinds)}
    results = [_result(p, rule_index) for p in proved.proofs if p.status is not Status.PROVEN]
    if proved.data is not None:
        for kind, level in _DATA_LEVELS.items():
            found = [f for f in proved.data.findings if f.kind == kind and (f.count or f.error)]
            if not found:
                continue
            rules.append(
                {
                    "id": f"prove-data/{kind.replace(' ', '-')}",
                    "name": f"{kind} on the rows",
                    "shortDescription": {"text": dict(DATA_KINDS)[kind]},
                    "defaultConfiguration": {"level": level},
                }
            )
            results += [_data_result(f, len(rules) - 1, level) for f in found]
    run = {
        "tool": {"driver": {"name": "dbtruth prove", "version": __version__, "rules": rules}},
        "results": results,
        "properties": {
            "target": proved.target,
            "clone": proved.clone,
            "serverVersion": proved.server_version,
            "proven": proved.count(Status.PROVEN),
            "notes": proved.notes,
        },
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
