"""PostgreSQL's `EXPLAIN (FORMAT JSON, VERBOSE)` output as Plan dataclasses.

VERBOSE is asked for because it names each scanned relation's schema; an index's schema is its
table's (PostgreSQL keeps an index in its table's schema), and a Bitmap Index Scan, which
names no relation, takes the schema of the Bitmap Heap Scan above it.
"""

from __future__ import annotations

from typing import Any

from dbtruth.model.workload import Plan, PlanNode
from dbtruth.words import counted

# What a reader needs to see why a node is there, in the order EXPLAIN prints it.
_DETAIL_KEYS = (
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Filter",
    "Sort Key",
    "Group Key",
    "Presorted Key",
)


# Deeper plans (a query nesting hundreds of subqueries) are refused rather than read: every
# consumer of the tree walks it, and a reader gets nothing from level 200.
MAX_DEPTH = 200


class PlanTooDeep(ValueError):
    pass


def parse_plan(document: Any, method: str) -> Plan:
    """The plan of EXPLAIN's JSON document: a list holding one object with a "Plan" key."""
    if isinstance(document, list) and document and isinstance(document[0], dict):
        top = document[0].get("Plan")
        if isinstance(top, dict):
            return Plan(root=_node(top, None, 0), method=method)
    raise ValueError("EXPLAIN returned no plan")


def _node(data: dict[str, Any], schema: str | None, depth: int) -> PlanNode:
    if depth > MAX_DEPTH:
        raise PlanTooDeep(f"the plan is more than {MAX_DEPTH} levels deep")
    schema = data.get("Schema") or schema
    relation_name = data.get("Relation Name")
    relation = _qualified(schema, relation_name) if relation_name else None
    index_name = data.get("Index Name")
    children = tuple(_node(child, schema, depth + 1) for child in data.get("Plans", ()) or ())
    return PlanNode(
        node_type=str(data.get("Node Type", "?")),
        startup_cost=float(data.get("Startup Cost", 0.0)),
        total_cost=float(data.get("Total Cost", 0.0)),
        rows=float(data.get("Plan Rows", 0.0)),
        width=int(data.get("Plan Width", 0)),
        relation=relation,
        alias=data.get("Alias"),
        index=_qualified(schema, index_name) if index_name else None,
        operation=data.get("Operation"),
        join_type=data.get("Join Type"),
        strategy=data.get("Strategy"),
        details=tuple(
            (key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for key in _DETAIL_KEYS
            if (value := data.get(key)) not in (None, [], "")
        ),
        children=children,
    )


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def tree_lines(root: PlanNode, limit: int = 40) -> list[str]:
    """The plan as EXPLAIN's text format draws it: one node per line, children indented under
    an arrow, with the conditions that explain the node; at most `limit` nodes."""
    lines: list[str] = []
    shown = 0
    stack: list[tuple[PlanNode, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        shown += 1
        if shown > limit:
            lines.append(f"… {counted(len(stack) + 1, 'more node')}")
            break
        arrow = 6 * (depth - 1) + 2  # EXPLAIN's own indentation
        pad = " " * arrow + "->  " if depth else ""
        lines.append(
            f"{pad}{node.label}  (cost {node.startup_cost:,.2f}..{node.total_cost:,.2f} "
            f"rows {node.rows:,.0f})"
        )
        indent = " " * (arrow + 6 if depth else 2)
        lines += [f"{indent}{key}: {value}" for key, value in node.details]
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return lines
