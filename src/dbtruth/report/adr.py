"""`dbtruth adr check`'s report: the findings, and for people each ADR with its status, its
confirmations and what dbtruth saw of each, and its revisit thresholds as read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.report.context import ReportContext
from dbtruth.sources.adrs import confirmations

if TYPE_CHECKING:
    from dbtruth.adr.run import AdrCheck


def adr_context(done: AdrCheck) -> ReportContext:
    facts = done.facts
    lines: list[str] = []
    for adr in facts.adrs:
        lines.append(f"{adr.label}: {adr.title} ({adr.status}; {adr.shape} shape)")
        results = facts.confirmations.get(adr.path, [])
        for result in results:
            pending = adr.proposed and result.verdict == "fails"
            verdict = result.verdict + (" (proposed: not expected yet)" if pending else "")
            lines.append(f"  confirmation {result.confirmation.text}: {verdict} — "
                         f"{result.evidence}")  # fmt: skip
        for text, _ in confirmations(adr)[1]:
            lines.append(f"  confirmation (declared, not run by dbtruth): {text}")
        if not results and not confirmations(adr)[1]:
            lines.append("  no confirmation: nothing dbtruth can run says the decision holds")
        for watch in facts.watches.get(adr.path, []):
            lines.append(f"  revisit trigger {watch.watch.trigger}: {watch.evidence}")
    specs = [s for s in engine.all_specs() if s.kind == "decision"]
    return ReportContext(
        result=done.result,
        target=done.label,
        source=f"ADR folder {facts.folder}",
        server_version="",
        rules=tuple(specs),
        fail_on=done.threshold or Severity.ERROR,
        tables=len(facts.adrs),
        subject="ADR",
        notes=done.notes,
        title="dbtruth adr check",
        extra={"adrs": [_adr_dict(done, adr) for adr in facts.adrs]},
        blocks=[("decisions", lines)] if lines else [],
    )


def _adr_dict(done: AdrCheck, adr: Any) -> dict[str, Any]:
    facts = done.facts
    return {
        "file": str(adr.path),
        "number": adr.number,
        "title": adr.title,
        "status": adr.status,
        "shape": adr.shape,
        "confirmations": [
            {"text": r.confirmation.text, "kind": r.confirmation.kind,
             "reference": r.confirmation.reference, "scope": r.confirmation.scope,
             "line": r.confirmation.line, "verdict": r.verdict, "evidence": r.evidence}
            for r in facts.confirmations.get(adr.path, [])
        ],
        "revisit_watches": [
            {"trigger": w.watch.trigger, "query": w.watch.query, "operator": w.watch.operator,
             "threshold": w.watch.threshold, "value": w.value, "fired": w.fired,
             "evidence": w.evidence}
            for w in facts.watches.get(adr.path, [])
        ],
    }  # fmt: skip
