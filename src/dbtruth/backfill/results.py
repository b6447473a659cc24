"""What the backfill commands return to their renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbtruth.backfill.checkpoint import Checkpoint, ChunkTotals, Event
from dbtruth.backfill.health import Signal

# The statuses a run ends in because someone asked it to stop: not a failure.
STOPPED_AS_ASKED = ("paused", "aborted")


@dataclass
class Validation:
    query: str
    rows: int | None = None  # rows the query returned (up to LIMIT); None when it did not run
    sample: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def passes(self) -> bool:
        return self.error is None and self.rows == 0


@dataclass
class Progress:
    chunks: int
    rows_visited: int
    rows_estimate: float | None
    rows_per_second: float
    chunk_rows: int

    @property
    def eta_seconds(self) -> float | None:
        if not self.rows_estimate or self.rows_estimate <= 0 or self.rows_per_second <= 0:
            return None
        return max(self.rows_estimate - self.rows_visited, 0.0) / self.rows_per_second


@dataclass
class BackfillRun:
    name: str
    target: str
    table: str
    status: str = "running"
    reason: str | None = None
    created_schema: bool = False
    chunks_before: int = 0  # chunks an earlier run committed
    chunks: int = 0  # this run's
    rows_visited: int = 0  # this run's
    rows_changed: int = 0
    seconds: float = 0.0  # this run's wall time
    chunk_rows: int = 0  # the size the last chunk had
    rate_limit: float | None = None
    events: list[Event] = field(default_factory=list)
    waits: ChunkTotals | None = None  # over the whole backfill
    validation: Validation | None = None
    beyond: int | None = None  # rows past the key range: written after the backfill began
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows_visited / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> bool:
        if self.status in STOPPED_AS_ASKED and self.reason and self.reason.startswith("asked"):
            return False
        if self.status != "done":
            return True
        return self.validation is not None and not self.validation.passes


@dataclass
class Step:
    """One line of the plan: what, its value, and how dbtruth knows it."""

    label: str
    value: str
    evidence: str  # observed, guessed, declared, unknown


@dataclass
class BackfillPlan:
    name: str
    target: str
    table: str
    statement_kind: str
    steps: list[Step] = field(default_factory=list)
    first_chunk: str = ""  # the statement the first chunk runs
    chunk_plan: list[str] = field(default_factory=list)  # its EXPLAIN, drawn
    boundary_plan: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    validation: Validation | None = None
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class BackfillStatus:
    name: str
    target: str
    checkpoint: Checkpoint | None
    running_pid: int | None = None
    totals: ChunkTotals | None = None
    recent_rate: float | None = None  # rows/s over the last chunks
    events: list[Event] = field(default_factory=list)
    back_offs: dict[str, int] = field(default_factory=dict)
    validation: Validation | None = None
    last_commit_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """The status, with an interrupted run told apart from a running one."""
        if self.checkpoint is None:
            return "not started"
        status = self.checkpoint.status
        if status == "running" and self.running_pid is None:
            return "interrupted (no session runs it; `run` resumes it)"
        return status

    @property
    def eta_seconds(self) -> float | None:
        c = self.checkpoint
        if c is None or c.status != "running" or self.running_pid is None:
            return None
        if not self.recent_rate:
            return None
        if c.rows_estimate is None or c.rows_estimate <= 0:
            return None
        return max(c.rows_estimate - c.rows_visited, 0.0) / self.recent_rate
