"""`dbtruth workload`'s report: each query's plan as a reader follows it (terminal, Markdown)
and as data (JSON), beside the contract findings every format carries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbtruth import engine
from dbtruth.findings import Finding, Severity
from dbtruth.model.workload import Agreement, Contract, PlannedQuery, PlanNode
from dbtruth.planning.compare import TOLERANCE
from dbtruth.planning.indexmap import IndexUse
from dbtruth.planning.plans import tree_lines
from dbtruth.report.context import ReportContext
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.workload.run import WorkloadResult

# Plan nodes shown per query: deeper plans are cut, and JSON holds them whole.
_NODES_SHOWN = 40
_MAP_SHOWN = 30  # index map lines of each kind


def workload_context(done: WorkloadResult) -> ReportContext:
    by_query: dict[str, list[Finding]] = {}
    for finding in done.result.findings:
        by_query.setdefault(finding.object.name, []).append(finding)
    return ReportContext(
        result=done.result,
        target=done.label,
        source=done.planned_on,
        server_version=done.server_version,
        rules=engine.workload_specs(),
        fail_on=done.threshold or Severity.ERROR,
        tables=len(done.planned),
        notes=done.notes,
        subject="query",
        title="dbtruth workload",
        extra={
            "queries": [
                _query_dict(p, by_query.get(p.query.name, []), _twin_of(done, i))
                for i, p in enumerate(done.planned)
            ],
            "index_map": [_use_dict(use) for use in done.index_map],
        },
        blocks=[
            *(
                _block(p, by_query.get(p.query.name, []), _twin_of(done, i))
                for i, p in enumerate(done.planned)
            ),
            *([_map_block(done.index_map)] if done.index_map else []),
        ],
    )


def _map_block(uses: list[IndexUse]) -> tuple[str, list[str]]:
    """Indexes a query uses, and those kept for no reason seen; the others are counted."""
    serving = [u for u in uses if u.queries]
    unused = [u for u in uses if u.unused]
    enforcing = [u for u in uses if not u.queries and u.enforces]
    rest = [u for u in uses if not u.queries and not u.enforces and not u.unused]
    lines = [
        f"{counted(len(uses), 'index')}: {len(serving)} serve a planned query, {len(enforcing)} "
        f"enforce a constraint or serve foreign key checks, {len(unused)} unused, "
        f"{len(rest)} serve no planned query"
    ]
    lines += [f"{u.index}: {', '.join(u.queries)}" for u in serving[:_MAP_SHOWN]]
    for use in [*unused, *rest][:_MAP_SHOWN]:
        size = f", {use.size_bytes / 1048576:,.1f} MiB" if use.size_bytes is not None else ""
        lines.append(f"{use.index}{size}: {use.verdict}")
    if len(serving) > _MAP_SHOWN or len(unused) + len(rest) > _MAP_SHOWN:
        lines.append("… --format json lists every index")
    return "index map", lines


def _use_dict(use: IndexUse) -> dict[str, Any]:
    return {
        "index": use.index,
        "table": use.table,
        "queries": list(use.queries),
        "enforces": use.enforces,
        "scans": use.scans,
        "size_bytes": use.size_bytes,
        "unused": use.unused,
        "writes_per_minute": use.writes_per_minute,
        "verdict": use.verdict,
    }


def _twin_of(done: WorkloadResult, index: int) -> Agreement | None:
    return None if done.twin is None else done.twin[index]


def _block(
    planned: PlannedQuery, findings: list[Finding], twin: Agreement | None
) -> tuple[str, list[str]]:
    query = planned.query
    where = f" ({query.file}:{query.line})" if query.file and query.line else ""
    facts = [
        fact
        for fact in (
            query.role,
            f"{query.calls_per_minute:g} calls/min" if query.calls_per_minute is not None else "",
            f"target {query.latency_ms:g} ms" if query.latency_ms is not None else "",
            f"{query.calls:,} calls observed" if query.calls is not None else "",
            f"mean {query.mean_ms:,.2f} ms" if query.mean_ms is not None else "",
        )
        if fact
    ]
    title = f"query: {query.name}{where}" + (f" — {', '.join(facts)}" if facts else "")
    lines = [line for line in query.sql.splitlines() if line.strip()]
    lines = [f"sql: {lines[0].strip()}", *(f"     {line.strip()}" for line in lines[1:])]
    if planned.plan is None:
        return title, [*lines, f"not planned: {planned.error}"]
    plan = planned.plan
    lines.append(f"plan: cost {plan.total_cost:,.2f}, rows {plan.rows:,.0f} ({plan.method})")
    if query.contract is not None:
        codes = sorted({f.code for f in findings})
        verdict = "kept by this plan" if not codes else f"broken by this plan ({', '.join(codes)})"
        lines.append(f"contract: {_contract_text(query.contract)} — {verdict}")
    if twin is not None:
        lines.append(f"twin: {_twin_text(twin)}")
    for advice in planned.advice:
        lines.append(
            f"advice ({advice.planned_on}): {advice.sql} — cost {advice.before:,.2f} → "
            f"{advice.after:,.2f} ({advice.scan_before or '?'} → {advice.scan_after or '?'})"
        )
    lines += tree_lines(plan.root, _NODES_SHOWN)
    return title, lines


def _twin_text(twin: Agreement) -> str:
    if twin.twin is None:
        return f"not planned ({twin.error})"
    ratio = f", {twin.cost_ratio:.2f}× the target's" if twin.cost_ratio is not None else ""
    verdict = (
        f"agrees (the same shape, cost within {TOLERANCE:.0%})"
        if twin.agrees(TOLERANCE)
        else ("the same shape" if twin.same_shape else "another shape")
        + ": the twin's advice on this query may not hold on the target"
    )
    return f"cost {twin.twin.total_cost:,.2f}{ratio} — {verdict}"


def _contract_text(contract: Contract) -> str:
    parts = []
    if contract.uses_index:
        parts.append(f"uses {contract.uses_index}")
    if contract.no_seq_scan_on:
        parts.append(f"no seq scan on {', '.join(contract.no_seq_scan_on)}")
    if contract.max_cost is not None:
        parts.append(f"cost at most {contract.max_cost:g}")
    if contract.plan_nodes:
        parts.append(f"plan holds {', '.join(contract.plan_nodes)}")
    if contract.join_order:
        parts.append(f"join order {' → '.join(contract.join_order)}")
    return "; ".join(parts) or "(empty)"


def _query_dict(
    planned: PlannedQuery, findings: list[Finding], twin: Agreement | None
) -> dict[str, Any]:
    query = planned.query
    return {
        "twin": None
        if twin is None
        else {
            "error": twin.error,
            "total_cost": twin.twin.total_cost if twin.twin else None,
            "rows": twin.twin.rows if twin.twin else None,
            "same_shape": twin.same_shape,
            "cost_ratio": twin.cost_ratio,
            "agrees": twin.agrees(TOLERANCE),
        },
        "name": query.name,
        "origin": query.origin,
        "file": query.file,
        "line": query.line,
        "sql": query.sql,
        "fingerprint": query.fingerprint,
        "role": query.role,
        "calls_per_minute": query.calls_per_minute,
        "latency_ms": query.latency_ms,
        "observed": None
        if query.calls is None
        else {
            "calls": query.calls,
            "total_ms": query.total_ms,
            "mean_ms": query.mean_ms,
            "rows": query.rows,
        },
        "contract": None if query.contract is None else _contract_dict(query.contract),
        "contract_kept": None if query.contract is None or planned.plan is None else not findings,
        "findings": [f.fingerprint for f in findings],
        "advice": [
            {
                "index": a.index,
                "sql": a.sql,
                "before": a.before,
                "after": a.after,
                "scan_before": a.scan_before,
                "scan_after": a.scan_after,
                "serves": list(a.queries),
                "planned_on": a.planned_on,
                "writes": a.write_note,
            }
            for a in planned.advice
        ],
        "error": planned.error,
        "plan": None
        if planned.plan is None
        else {
            "method": planned.plan.method,
            "total_cost": planned.plan.total_cost,
            "rows": planned.plan.rows,
            "indexes": planned.plan.indexes(),
            "relations": planned.plan.relations(),
            "root": _node_dict(planned.plan.root),
        },
    }


def _contract_dict(contract: Contract) -> dict[str, Any]:
    return {
        "uses_index": contract.uses_index,
        "no_seq_scan_on": list(contract.no_seq_scan_on),
        "max_cost": contract.max_cost,
        "plan_nodes": list(contract.plan_nodes),
        "join_order": list(contract.join_order),
    }


def _node_dict(node: PlanNode) -> dict[str, Any]:
    return {
        "node_type": node.node_type,
        "relation": node.relation,
        "alias": node.alias,
        "index": node.index,
        "operation": node.operation,
        "join_type": node.join_type,
        "strategy": node.strategy,
        "startup_cost": node.startup_cost,
        "total_cost": node.total_cost,
        "rows": node.rows,
        "width": node.width,
        "details": dict(node.details),
        "children": [_node_dict(child) for child in node.children],
    }
