"""The design sections of dbtruth.yaml: what the catalog cannot say.

Which table is the truth and who owns it (playbook 3.1, 3.7), which invariants the business needs
and how each is enforced (3.2), the workload (3.5, Principle 4), time semantics (3.4), retention,
operations and decisions. The models are strict (unknown keys are errors, with the nearest valid
key suggested by the loader) but permissive about what is missing: an absent rebuild path or
detective query is a finding of a rule, not a syntax error, so a first manifest can be partial.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Role = Literal[
    "truth", "projection", "cache", "snapshot", "integration", "audit", "outbox", "reference"
]
InvariantKind = Literal[
    "existence",
    "uniqueness",
    "range",
    "non-overlap",
    "cross-row",
    "cross-system",
    "regulatory-evidence",
    "state-transition",
]
Enforcement = Literal[
    "constraint", "index", "exclusion", "trigger", "privilege", "application", "reconciliation"
]
# Enforcement by a database object names that object; the others name how it is detected.
_OBJECT_ENFORCEMENT = ("constraint", "index", "exclusion", "trigger")
# Privileges keep rows from being changed; they cannot make a value legal or unique.
_KEPT_BY_PRIVILEGE = ("regulatory-evidence",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TableRole(_Strict):
    """A table's place in the data authority map."""

    role: Role
    owner: str | None = Field(None, description="Team or person accountable for the data.")
    sources: list[str] = Field(
        default_factory=list, description="Tables a non-truth copy is derived from."
    )
    rebuild: str | None = Field(None, description="How the copy is rebuilt from its sources.")
    freshness: str | None = Field(None, description="How stale the copy may be, e.g. '5 min'.")
    drift_check: str | None = Field(None, description="Query or job that detects drift.")
    drift_source: str | None = Field(
        None,
        description="A SELECT of the rows the copy should hold, computed from its sources, "
        "with the copy's column names: `dbtruth drift` compares it with the copy key by key.",
    )
    drift_key: list[str] = Field(
        default_factory=list,
        description="The columns that identify a row of the copy (default: its primary key).",
    )
    refreshed_column: str | None = Field(
        None,
        description="A column of the copy holding when its rows were last refreshed: `dbtruth "
        "drift` measures the copy's staleness from it against `freshness`.",
    )
    guess: bool = Field(False, description="Written by `dbtruth init`; confirm, then remove.")
    note: str | None = None


Isolation = Literal["read committed", "repeatable read", "serializable"]


class Race(_Strict):
    """Two sessions running the write path at once, every interleaving of their steps: the
    race a cross-row invariant must survive (`dbtruth prove`)."""

    steps: list[str] = Field(
        min_length=1,
        # Two sessions of n steps and COMMIT have C(2n+2, n+1) interleavings: 924 at six.
        max_length=6,
        description="The statements one session runs, in order, in one transaction (at most "
        "six); $session stands for 1 in the first session and 2 in the second.",
    )
    isolation: Isolation = Field("read committed", description="The sessions' isolation level.")
    setup: str | None = Field(
        None, description="SQL run and committed before the sessions: the rows they need."
    )
    check: str | None = Field(
        None,
        description="SQL returning the rows that break the invariant once both sessions "
        "are done (default: the invariant's detective_query).",
    )


class Invariant(_Strict):
    """Something that must never be false, and what keeps it true."""

    id: str = Field(min_length=1)
    statement: str = Field(min_length=3, description="The invariant in plain words.")
    kind: InvariantKind
    tables: list[str] = Field(min_length=1)
    columns: list[str] = Field(default_factory=list)
    enforcement: Enforcement
    object: str | None = Field(
        None, description="The enforcing constraint, index or trigger (schema.name)."
    )
    predicate: str | None = Field(
        None, description="For a partial unique index: the rows it must be partial on."
    )
    detective_query: str | None = Field(
        None, description="SQL returning violating rows, for application/reconciliation."
    )
    race: Race | None = Field(
        None, description="The write path two sessions race, for `dbtruth prove`."
    )
    transitions: dict[str, list[str]] | None = Field(
        None,
        description="For a state-transition invariant: each state of the column in 'columns' "
        "and the states it may move to.",
    )
    guess: bool = False

    @model_validator(mode="after")
    def _object_named(self) -> Invariant:
        if self.enforcement in _OBJECT_ENFORCEMENT and not self.object:
            raise ValueError(
                f"enforcement '{self.enforcement}' needs 'object': the {self.enforcement} "
                "that enforces it (schema.name)"
            )
        if self.enforcement == "privilege" and self.kind not in _KEPT_BY_PRIVILEGE:
            raise ValueError(
                "enforcement 'privilege' keeps a table append-only (the application role may "
                "not UPDATE, DELETE or TRUNCATE it): kind regulatory-evidence, not "
                f"{self.kind}"
            )
        if self.kind == "state-transition" and (not self.transitions or len(self.columns) != 1):
            raise ValueError(
                "a state-transition invariant names its state column in 'columns' and the "
                "states each may move to in 'transitions'"
            )
        if self.race is not None and not (self.race.check or self.detective_query):
            raise ValueError(
                "a race needs a query returning the rows that break the invariant: "
                "'race.check' or 'detective_query'"
            )
        return self


class IndexContract(_Strict):
    """What the query's plan must keep, checked by `dbtruth workload` (and by `migrate lint
    --replay` after the migrations)."""

    uses_index: str | None = Field(None, description="Index the plan must use (schema.name).")
    no_seq_scan_on: list[str] = Field(
        default_factory=list, description="Tables the plan must not read with a Seq Scan."
    )
    max_cost: float | None = Field(
        None, gt=0, description="Ceiling on the plan's total cost (the planner's units)."
    )
    plan_nodes: list[str] = Field(
        default_factory=list,
        description="Node types the plan must hold, as EXPLAIN names them ('Index Only Scan', "
        "'Nested Loop').",
    )
    join_order: list[str] = Field(
        default_factory=list,
        description="Tables (schema.name) in the order the plan must reach them, outermost first.",
    )


class WorkloadQuery(_Strict):
    name: str = Field(min_length=1)
    role: Literal["write", "read", "report"]
    sql: str | None = None
    file: str | None = Field(None, description="SQL file, relative to dbtruth.yaml.")
    calls_per_minute: float | None = Field(None, ge=0)
    latency_ms: float | None = Field(None, gt=0, description="Target latency (p95).")
    contract: IndexContract | None = None

    @model_validator(mode="after")
    def _one_source(self) -> WorkloadQuery:
        if (self.sql is None) == (self.file is None):
            raise ValueError("give the query as exactly one of 'sql' or 'file'")
        return self


class EffectivePeriod(_Strict):
    from_: str = Field(alias="from", description="Column where the fact starts to hold.")
    to: str = Field(description="Column where it stops holding (NULL: still holds).")


class TimeColumns(_Strict):
    """Which columns carry which time (playbook 3.4)."""

    event: list[str] = Field(default_factory=list, description="When it happened.")
    effective: EffectivePeriod | None = None
    transaction: list[str] = Field(default_factory=list, description="When it was recorded.")


class Retention(_Strict):
    keep: str = Field(description="How long rows are kept, e.g. '7 years'.")
    method: str | None = Field(None, description="How they are purged or archived.")
    evidence: str | None = Field(None, description="How a purge is proven.")


class Backup(_Strict):
    method: str
    schedule: str | None = None
    retention: str | None = None


class RestoreDrill(_Strict):
    last: date
    duration_minutes: float | None = Field(None, gt=0)
    verified: str | None = Field(None, description="What was checked after the restore.")


class Operations(_Strict):
    backup: Backup | None = None
    restore_drill: RestoreDrill | None = None
    restore_drill_history: str | None = Field(
        None,
        description="A JSON-lines file of measured restore drills, relative to dbtruth.yaml: "
        "`dbtruth drill restore --record FILE` appends to it; the review reads the latest.",
    )
    monitoring: list[
        Literal[
            "slow_queries",
            "locks",
            "replica_lag",
            "storage",
            "wal",
            "connections",
            "vacuum",
            "dashboards",
        ]
    ] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)
    capacity_model: str | None = None


class Decisions(_Strict):
    adr_folder: str = Field(description="Folder of architecture decision records.")


class Context(_Strict):
    """What the review is about (playbook §7, sections 1 and 2)."""

    summary: str | None = Field(None, description="What is being decided or reviewed.")
    business: str | None = Field(
        None, description="The business process and data this database serves."
    )
    constraints: list[str] = Field(
        default_factory=list, description="Regulatory, latency, budget or team constraints."
    )
    growth: str | None = Field(None, description="Expected growth of data and traffic.")
    consistency: str | None = Field(
        None, description="Consistency the readers need (e.g. read-your-writes, 5 s stale)."
    )


class Practices(_Strict):
    """How the team works, for the maturity model (§11) where the catalog cannot tell.

    Each value is a sentence or a path relative to dbtruth.yaml that shows the practice; the
    review checks that a named file exists and reports a declaration as declared, not verified.
    """

    migrations: str | None = Field(None, description="Migration tool in use.")
    expand_contract: str | None = Field(None, description="Where expand/contract is practised.")
    transaction_boundaries: str | None = Field(
        None, description="Where commit boundaries, isolation and retries are written down."
    )
    security_review: str | None = Field(None, description="Last security/privacy review.")
    backfill: str | None = Field(None, description="The backfill tooling (Principle 7).")
    schema_review: str | None = Field(None, description="Cross-team schema review standard.")
    migration_checks: str | None = Field(None, description="Automated migration checks in CI.")
    data_contracts: str | None = Field(None, description="Registry of data contracts.")
    architecture_council: str | None = Field(None, description="Architecture review forum.")
    readiness_gate: str | None = Field(None, description="Production readiness gate.")
    post_incident: str | None = Field(None, description="Post-incident learning loop.")
    templates: str | None = Field(None, description="Reusable templates and playbooks.")


class DesignSections(_Strict):
    """Mixed into the manifest model; kept apart to keep each module small."""

    truth: dict[str, TableRole] = Field(
        default_factory=dict, description="Table (or glob) -> its role in the authority map."
    )
    invariants: list[Invariant] = Field(default_factory=list)
    workload: list[WorkloadQuery] = Field(default_factory=list)
    time: dict[str, TimeColumns] = Field(default_factory=dict)
    retention: dict[str, Retention] = Field(default_factory=dict)
    operations: Operations | None = None
    decisions: Decisions | None = None
    context: Context | None = None
    practices: Practices | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> DesignSections:
        seen: set[str] = set()
        for invariant in self.invariants:
            if invariant.id in seen:
                raise ValueError(f"invariant id '{invariant.id}' is used twice")
            seen.add(invariant.id)
        names: set[str] = set()
        for query in self.workload:
            if query.name in names:
                raise ValueError(f"workload name '{query.name}' is used twice")
            names.add(query.name)
        return self
