"""X009 plan-cost-over-ceiling."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery
from dbtruth.rules.workload_evidence import query_ref, scans_evidence
from dbtruth.spec import Settings, workload_rule


@workload_rule("X009", "plan-cost-over-ceiling", Severity.ERROR)
def plan_cost_over_ceiling(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Reports a workload query whose planned total cost is above its contract's `max_cost`.

    ## Why is this bad?
    The planner's cost is its estimate of the work a query does, in units of sequential page
    reads. A ceiling agreed for a hot path catches a plan that got worse — a lost index, a
    join order that changed, a predicate that no longer matches — before it ships (Principle
    4, §3.5).

    ## Example
    ```yaml
    workload:
      - name: open cases of a tenant
        role: read
        sql: SELECT id FROM casework.case_file WHERE tenant_id = $1 ORDER BY opened_at LIMIT 50
        contract: {max_cost: 100}
    ```
    planned at a cost of 2,400 after the index on `(tenant_id, opened_at)` was dropped.

    ## Use instead
    An index that serves the query's predicate and order, or a ceiling set from a plan that
    was measured on realistic data.

    Costs depend on the planner's statistics: on SQL files without their data, or on a copy
    with other sizes than production, a ceiling means less than on the live target. The
    finding gives the plan's scans and estimated rows so the reader can judge.

    ## Fix safety
    No fix is produced.

    ## References
    PostgreSQL manual 14.1 Using EXPLAIN, 20.7.2 Planner Cost Constants; playbook Principle 4.
    """
    contract = planned.query.contract
    plan = planned.plan
    if contract is None or contract.max_cost is None or plan is None:
        return
    if plan.total_cost <= contract.max_cost:
        return
    yield Violation(
        query_ref(planned.query),
        f"query '{planned.query.name}' is planned at cost {plan.total_cost:,.2f}, above its "
        f"contract's ceiling of {contract.max_cost:,g}",
        evidence=(
            ("contract", f"max_cost: {contract.max_cost:g}"),
            ("plan cost", f"{plan.total_cost:,.2f} (rows {plan.rows:,.0f}, {plan.method})"),
            *scans_evidence(plan),
        ),
    )
