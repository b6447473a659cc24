"""What every workload finding carries: the query as an object, and the plan facts it rests on."""

from __future__ import annotations

from dbtruth.findings import ObjectRef
from dbtruth.model.workload import Plan, Query

# Scans listed in a finding's evidence; a plan of a hundred joins says the rest in JSON.
_SCANS_SHOWN = 8


def query_ref(query: Query) -> ObjectRef:
    """A query is named by its name in dbtruth.yaml (or its file and line): the same on every
    environment, so baselines and code scanning follow it."""
    return ObjectRef("query", "", query.name)


def scans_evidence(plan: Plan) -> tuple[tuple[str, str], ...]:
    scans = plan.scans()
    if not scans:
        return ()
    shown = [f"{node.label} (rows {node.rows:,.0f})" for node in scans[:_SCANS_SHOWN]]
    if len(scans) > _SCANS_SHOWN:
        shown.append(f"… {len(scans) - _SCANS_SHOWN} more")
    return (("scans (planner's estimates)", "; ".join(shown)),)


def cost_evidence(plan: Plan) -> tuple[tuple[str, str], ...]:
    return (("plan cost", f"{plan.total_cost:,.2f} (rows {plan.rows:,.0f}, {plan.method})"),)
