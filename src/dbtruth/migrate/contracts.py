"""The workload re-planned around a replay: dbtruth.yaml's queries are planned on the clone
before the migrations run and again after, and what the migrations changed is reported — a
contract they break (an index dropped, a query that no longer plans) as the workload rule's
finding, a plan that merely moved as a note.

Judged by the difference, not by the plan after alone: the clone holds the target's schema
without its rows, so a contract the clone already breaks before any migration ran says
something about the clone, not about the migrations, and is set aside with a note.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbtruth import engine
from dbtruth.findings import Finding
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery, Query
from dbtruth.planning import intake
from dbtruth.planning.explain import plan_query
from dbtruth.sources.introspect import read_catalog

PLAN_TIMEOUT = "10s"


@dataclass
class Planned:
    """The declared queries as one state of the clone plans them."""

    queries: list[PlannedQuery]
    catalog: Catalog


@dataclass
class ContractReplay:
    findings: list[Finding] = field(default_factory=list)  # broken by the migrations
    notes: list[str] = field(default_factory=list)
    planned: int = 0  # queries planned on each side


def declared_queries(manifest: Manifest | None) -> list[Query]:
    """dbtruth.yaml's workload (gated as `dbtruth workload` gates it); none without one."""
    if manifest is None or not manifest.workload:
        return []
    return intake.distinct(intake.declared(manifest), [])


def plan_all(conninfo: str, queries: list[Query]) -> Planned:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog = read_catalog(conn, "replay clone", live=False)
        return Planned(
            [plan_query(conn, q, catalog.server_version_num, PLAN_TIMEOUT) for q in queries],
            catalog,
        )


def judge(
    before: Planned, after: Planned, manifest: Manifest, baseline: Path | None
) -> ContractReplay:
    """What the migrations changed between the two plannings; findings in `baseline` are
    left out, as migrate lint leaves out its own."""
    broken_before = {f.fingerprint: f for f in _findings(before, manifest, None)}
    outcome = ContractReplay(planned=len(after.queries))
    for finding in _findings(after, manifest, baseline):
        earlier = broken_before.pop(finding.fingerprint, None)
        if earlier is not None:
            outcome.notes.append(
                f"workload query '{finding.object.path}': {finding.code} already on the clone "
                "before the migrations (it holds no rows), so not judged against them: "
                f"{finding.message}"
            )
            continue
        evidence = (*finding.violation.evidence, ("replay", _before_text(before, finding)))
        violation = dataclasses.replace(finding.violation, evidence=evidence)
        outcome.findings.append(dataclasses.replace(finding, violation=violation))
    outcome.notes += [
        f"workload query '{query}': plan changed by the migrations: {change}"
        for query, change in _changes(before, after)
    ]
    return outcome


def _findings(planned: Planned, manifest: Manifest, baseline: Path | None) -> list[Finding]:
    return engine.run_workload(
        planned.queries, planned.catalog, manifest, baseline=baseline
    ).findings


def _before_text(before: Planned, finding: Finding) -> str:
    query = next((p for p in before.queries if p.query.name == finding.object.path), None)
    if query is None or query.plan is None:
        return "after the migrations (before them the query did not plan on the clone)"
    return (
        "after the migrations; before them the clone planned it at cost "
        f"{query.plan.total_cost:,.2f} using {', '.join(query.plan.indexes()) or 'no index'}"
    )


def _changes(before: Planned, after: Planned) -> list[tuple[str, str]]:
    earlier = {p.query.name: p for p in before.queries}
    changes = []
    for now in after.queries:
        then = earlier.get(now.query.name)
        if then is None or then.plan is None or now.plan is None:
            continue
        old, new = then.plan.indexes(), now.plan.indexes()
        scans = _seq(then.plan.seq_scanned()), _seq(now.plan.seq_scanned())
        if old == new and scans[0] == scans[1]:
            continue
        parts = []
        if old != new:
            parts.append(f"indexes {', '.join(old) or 'none'} → {', '.join(new) or 'none'}")
        if scans[0] != scans[1]:
            parts.append(f"seq scans {scans[0] or 'none'} → {scans[1] or 'none'}")
        parts.append(f"cost {then.plan.total_cost:,.2f} → {now.plan.total_cost:,.2f}")
        changes.append((now.query.name, "; ".join(parts)))
    return changes


def _seq(nodes: list[Any]) -> str:
    return ", ".join(sorted({n.relation for n in nodes}))
