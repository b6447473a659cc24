"""X010 plan-shape-against-contract."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import Plan, PlannedQuery
from dbtruth.rules.workload_evidence import cost_evidence, query_ref
from dbtruth.spec import Settings, workload_rule


@workload_rule("X010", "plan-shape-against-contract", Severity.ERROR)
def plan_shape_against_contract(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Reports a workload query whose plan lacks a node type its contract expects (`plan_nodes`,
    such as `Index Only Scan` or `Nested Loop`), or reaches its tables in another order than
    the contract's `join_order`.

    ## Why is this bad?
    Some queries are fast only in one shape: an index-only scan that stops being one after a
    column is added to the select list, a nested loop from the small side that turns into a
    hash join over the large one. The shape is part of the contract the schema keeps with the
    query (Principle 4, §3.5).

    ## Example
    ```yaml
    workload:
      - name: count open cases
        role: report
        sql: SELECT count(*) FROM casework.case_file WHERE tenant_id = $1
        contract: {plan_nodes: [Index Only Scan]}
    ```
    planned as a Bitmap Heap Scan.

    ## Use instead
    A covering index (`INCLUDE`) for an index-only scan, or a contract that states the shape
    the query has on realistic data.

    `join_order` lists tables (with or without schema) in the order the plan reaches them,
    outermost first; tables the plan reads that the list leaves out are not judged.

    ## Fix safety
    No fix is produced.

    ## References
    PostgreSQL manual 14.1 Using EXPLAIN, 11.9 Index-Only Scans; playbook Principle 4.
    """
    contract = planned.query.contract
    plan = planned.plan
    if contract is None or plan is None:
        return
    present = {node.node_type for node in plan.nodes()}
    missing = [kind for kind in contract.plan_nodes if kind not in present]
    if missing:
        yield Violation(
            query_ref(planned.query),
            f"query '{planned.query.name}' is planned without {', '.join(missing)}, which its "
            "contract expects",
            evidence=(
                ("contract", f"plan_nodes: {', '.join(contract.plan_nodes)}"),
                ("node types in the plan", ", ".join(sorted(present))),
                *cost_evidence(plan),
            ),
            discriminator="nodes",
        )
    if contract.join_order:
        reached = _reached(plan, contract.join_order)
        if reached != list(contract.join_order):
            yield Violation(
                query_ref(planned.query),
                f"query '{planned.query.name}' reaches its tables in the order "
                f"{' → '.join(reached) or '(none of them)'}, not {' → '.join(contract.join_order)} "
                "as its contract says",
                evidence=(
                    ("contract", f"join_order: {', '.join(contract.join_order)}"),
                    ("order in the plan", ", ".join(plan.relations()) or "no table read"),
                    *cost_evidence(plan),
                ),
                discriminator="join order",
            )


def _reached(plan: Plan, wanted: tuple[str, ...]) -> list[str]:
    """The contract's tables in the order the plan reads them, as the contract names them."""
    order = []
    for relation in plan.relations():
        bare = relation.split(".", 1)[-1]
        named = next((t for t in wanted if t in (relation, bare)), None)
        if named is not None and named not in order:
            order.append(named)
    return order
