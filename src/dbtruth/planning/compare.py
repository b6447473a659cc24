"""A query's plan on the statistics twin, set beside its plan on the target."""

from __future__ import annotations

from dbtruth.model.workload import Agreement, Plan, PlannedQuery

# The twin agrees when its plan has the target's shape and a total cost within this share of
# the target's. Statistics are copied exactly; what differs is the planner's version and the
# live relation sizes between the dump and the plan.
TOLERANCE = 0.10


def shape(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(n.node_type, n.relation, n.index) for n in plan.nodes()]


def agreement(on_target: PlannedQuery, on_twin: PlannedQuery) -> Agreement:
    if on_twin.plan is None:
        return Agreement(None, on_twin.error)
    if on_target.plan is None:
        return Agreement(on_twin.plan)
    source, twin = on_target.plan, on_twin.plan
    ratio = (
        twin.total_cost / source.total_cost
        if source.total_cost > 0
        else (1.0 if twin.total_cost == 0 else None)
    )
    return Agreement(twin, None, shape(source) == shape(twin), ratio)
