"""A workload as data: the queries a schema serves, the contract each promises, and the plan
PostgreSQL chose for it. Workload rules read these; `dbtruth.workload` builds them.

A plan is PostgreSQL's `EXPLAIN (FORMAT JSON, VERBOSE)` tree, kept as it said it: node types,
relations and indexes by name, the planner's estimates (never rows it counted: dbtruth plans
without ANALYZE).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Node types that read a relation's rows; "Seq Scan" reads every page of it.
SCAN_TYPES = frozenset(
    {
        "Seq Scan",
        "Index Scan",
        "Index Only Scan",
        "Bitmap Heap Scan",
        "Tid Scan",
        "Tid Range Scan",
        "Sample Scan",
    }
)


@dataclass(frozen=True, slots=True)
class PlanNode:
    node_type: str  # "Seq Scan", "Index Scan", "Nested Loop", "Sort", ...
    startup_cost: float
    total_cost: float
    rows: float  # the planner's estimate
    width: int
    relation: str | None = None  # schema.name of the relation a scan reads
    alias: str | None = None
    index: str | None = None  # schema.name of the index an index scan uses
    operation: str | None = None  # ModifyTable: Insert, Update, Delete, Merge
    join_type: str | None = None
    strategy: str | None = None  # Aggregate: Plain, Sorted, Hashed, Mixed
    # Conditions and keys as PostgreSQL printed them: (label, text), for the reader.
    details: tuple[tuple[str, str], ...] = ()
    children: tuple[PlanNode, ...] = ()

    def walk(self) -> Iterator[PlanNode]:
        """This node and every node below it, depth first, in the plan's order."""
        stack: list[PlanNode] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def label(self) -> str:
        """'Index Scan using casework.case_file_pkey on casework.case_file c'."""
        text = self.node_type
        if self.operation and self.node_type == "ModifyTable":
            text = f"{self.operation} on"
            return f"{text} {self.relation}" if self.relation else text
        if self.join_type:
            text += f" ({self.join_type})"
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            alias = f" {self.alias}" if self.alias and self.alias != _bare(self.relation) else ""
            text += f" on {self.relation}{alias}"
        return text


def _bare(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Plan:
    root: PlanNode
    method: str  # how parameters were planned: "generic plan" (EXPLAIN GENERIC_PLAN / forced)

    @property
    def total_cost(self) -> float:
        return self.root.total_cost

    @property
    def rows(self) -> float:
        return self.root.rows

    def nodes(self) -> Iterator[PlanNode]:
        return self.root.walk()

    def scans(self) -> list[PlanNode]:
        """The nodes that read a relation, in the plan's order (outer before inner)."""
        return [n for n in self.nodes() if n.node_type in SCAN_TYPES and n.relation]

    def indexes(self) -> list[str]:
        """Every index the plan reads, once each, in the plan's order."""
        seen: dict[str, None] = {}
        for node in self.nodes():
            if node.index:
                seen.setdefault(node.index, None)
        return list(seen)

    def seq_scanned(self) -> list[PlanNode]:
        return [n for n in self.nodes() if n.node_type == "Seq Scan" and n.relation]

    def relations(self) -> list[str]:
        """Every relation the plan reads, once each, in the order the plan reaches them."""
        seen: dict[str, None] = {}
        for node in self.nodes():
            if node.relation and node.node_type != "ModifyTable":
                seen.setdefault(node.relation, None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class Contract:
    """What a query promises about its plan (dbtruth.yaml's `contract`)."""

    uses_index: str | None = None  # schema.name
    no_seq_scan_on: tuple[str, ...] = ()
    max_cost: float | None = None
    plan_nodes: tuple[str, ...] = ()  # node types the plan must hold ("Index Only Scan")
    join_order: tuple[str, ...] = ()  # relations in the order the plan must reach them


@dataclass(frozen=True, slots=True)
class Query:
    """One query shape of the workload, and where it came from."""

    name: str
    sql: str
    origin: str  # "declared" (dbtruth.yaml), "file" (--queries), "observed" (pg_stat_statements)
    file: str | None = None  # where it is written: dbtruth.yaml or the --queries file
    line: int | None = None
    role: str | None = None  # write, read, report
    calls_per_minute: float | None = None
    latency_ms: float | None = None
    contract: Contract | None = None
    fingerprint: str = ""  # pglast's: one shape, one query
    # pg_stat_statements, when observed: calls and total / mean execution time (ms)
    calls: int | None = None
    total_ms: float | None = None
    mean_ms: float | None = None
    rows: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    query: Query
    plan: Plan | None
    error: str | None = None  # why PostgreSQL could not plan it (then plan is None)
    advice: tuple[Advice, ...] = ()  # with --suggest: indexes that would serve it


@dataclass(frozen=True, slots=True)
class Agreement:
    """How the statistics twin planned a query next to the target: the same shape (the same
    node types reading the same relations through the same indexes, in the same order) and
    the ratio of its total cost to the target's."""

    twin: Plan | None
    error: str | None = None
    same_shape: bool = False
    cost_ratio: float | None = None  # twin / target

    def agrees(self, tolerance: float) -> bool:
        return (
            self.same_shape
            and self.cost_ratio is not None
            and abs(self.cost_ratio - 1.0) <= tolerance
        )


@dataclass(frozen=True, slots=True)
class Advice:
    """An index the planner would use for a query, found by building it where the workload
    was planned (the statistics twin, or the copy of SQL files) and planning again."""

    index: str  # what it is: "public.orders (status) INCLUDE (total)"
    sql: str  # CREATE INDEX CONCURRENTLY …, with a name the schema does not use yet
    before: float  # the query's cost there without it
    after: float  # and with it (and with the indexes chosen before it)
    scan_before: str
    scan_after: str
    queries: tuple[str, ...]  # every query it serves
    planned_on: str  # "statistics twin" or "copy of the SQL files"
    write_note: str  # what it costs writers, as far as dbtruth knows
