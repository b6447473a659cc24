"""What the review says about the declared workload's plans: each query's plan as PostgreSQL
made it where the review read the schema, and whether its index contract held there.

A plan on a live target is the target's own (observed, with its statistics). A plan on the copy
of SQL files sees only the rows the files hold, so the review states it and never answers
"yes" from it alone: whether production plans the same needs its sizes (`dbtruth workload URL
--twin`).
"""

from __future__ import annotations

from dbtruth.inert import md_code
from dbtruth.model.workload import PlannedQuery
from dbtruth.planning.plans import tree_lines
from dbtruth.review.facts import Facts
from dbtruth.review.model import Block, Code

CONTRACT_RULES = ("X007", "X008", "X009", "X010", "X011")


def plan_cell(facts: Facts, name: str, has_contract: bool) -> str:
    """The workload table's cell for one query: its plan's cost and how it reads, and its
    contract's fate on that plan."""
    plans = facts.plans
    planned = plans.of(name)
    if planned is None:
        return "not planned"
    if planned.plan is None:
        return f"does not plan: {planned.error}"
    plan = planned.plan
    reads = ", ".join(dict.fromkeys(n.node_type for n in plan.scans())) or plan.root.node_type
    text = f"cost {plan.total_cost:,.2f} ({reads})"
    if has_contract:
        broken = sorted({f.code for f in plans.breaches(name) if f.code in CONTRACT_RULES})
        text += "; contract broken (" + ", ".join(broken) + ")" if broken else "; contract kept"
    return text


def plan_block(planned: PlannedQuery | None) -> list[Block]:
    if planned is None or planned.plan is None:
        return []
    return [Code("\n".join(tree_lines(planned.plan.root, 25)), language="text")]


def where_planned(facts: Facts) -> str:
    planned = facts.plans.planned
    if planned is None:
        return facts.plans.absent or "not planned"
    if facts.plans.on_live:
        return f"EXPLAIN on the live target ({md_code(planned.planned_on)}), its own statistics"
    return (
        f"EXPLAIN on the copy of the SQL files ({md_code(planned.planned_on)}): only the rows "
        "the files hold, not production's sizes"
    )
