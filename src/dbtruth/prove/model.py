"""What `dbtruth prove` found, as plain frozen data: per invariant a status and the probes,
each with the SQL it ran and what PostgreSQL answered.

Evidence levels (ARCHITECTURE.md): a status of `proven` or `unenforced` is proven evidence,
since dbtruth made the database show it (a refused write, an accepted one); `not provable` is
unknown, with the reason as the question to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbtruth.prove.data import DataReport


class Status(Enum):
    PROVEN = "proven"  # the database refused the illegal write
    UNENFORCED = "unenforced"  # it accepted the illegal write
    NOT_PROVABLE = "not provable"  # no probe could be run or concluded; the reason says why

    @property
    def evidence(self) -> str:
        return "unknown" if self is Status.NOT_PROVABLE else "proven"


@dataclass(frozen=True, slots=True)
class Step:
    """One statement a probe ran in its transaction, and PostgreSQL's answer."""

    purpose: str  # "setup" (rows other constraints need), "control" (a legal write), "probe"
    sql: str
    accepted: bool
    sqlstate: str | None = None
    constraint: str | None = None  # the constraint or index PostgreSQL named in its error
    column: str | None = None  # the column it named (NOT NULL)
    message: str | None = None
    context: str | None = None  # where it was raised: "PL/pgSQL function f() line 3 at RAISE"
    row: tuple[tuple[str, str | None], ...] | None = None  # what an accepted write wrote


@dataclass(frozen=True, slots=True)
class Probe:
    """One illegal (or, for a partial index, one legal) write and its verdict."""

    name: str  # what it tries, in words
    status: Status
    expected: str  # "refused (23502 on column name)", "accepted"
    observed: str
    steps: tuple[Step, ...] = ()
    reason: str | None = None  # not provable: why
    race: bool = False  # two sessions ran a write path at once (steps: the interleaving)

    @property
    def accepted_row(self) -> tuple[tuple[str, str | None], ...] | None:
        probe = [s for s in self.steps if s.purpose == "probe"]
        if self.status is Status.UNENFORCED and probe and probe[-1].accepted:
            return probe[-1].row
        return None

    @property
    def probe_sql(self) -> str | None:
        """The illegal write; for a race, the whole run as a script to replay in two psql
        sessions (which session runs each step, and what PostgreSQL answered)."""
        probe = [s for s in self.steps if s.purpose == "probe"]
        if probe:
            return probe[-1].sql
        if not any(s.purpose.startswith("session ") for s in self.steps):
            return None
        lines = []
        for step in self.steps:
            answer = (
                f" -- refused: {step.sqlstate} {step.message}"
                if not step.accepted
                else f" -- {step.message}"
                if step.message
                else ""
            )
            lines.append(f"-- {step.purpose}{answer}\n{step.sql.strip().rstrip(';')};")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Subject:
    """An invariant to prove: declared in dbtruth.yaml, or derived from a constraint, index or
    guard trigger of the catalog."""

    id: str
    statement: str
    kind: str  # existence | uniqueness | range | append-only | the manifest's other kinds
    source: str  # "dbtruth.yaml" | "catalog"
    table: str | None = None
    object: str | None = None  # the enforcing constraint, index or trigger, when one is known


@dataclass(frozen=True, slots=True)
class Proof:
    subject: Subject
    status: Status
    probes: tuple[Probe, ...] = ()
    reason: str | None = None  # not provable without any probe: why


def verdict(probes: tuple[Probe, ...]) -> Status:
    """An invariant is unenforced when any probe's illegal write was accepted, proven when
    every probe was refused as expected, and otherwise not provable."""
    if any(p.status is Status.UNENFORCED for p in probes):
        return Status.UNENFORCED
    if probes and all(p.status is Status.PROVEN for p in probes):
        return Status.PROVEN
    return Status.NOT_PROVABLE


@dataclass
class Proved:
    """The result of `prove_target`: every proof, and where the probes ran."""

    proofs: list[Proof]
    target: str  # the target as outputs print it, passwords hidden
    clone: str  # the throwaway database the probes ran in, and how it was made
    clone_database: str  # its name on the scratch server
    server_version: str
    notes: list[str] = field(default_factory=list)
    data: DataReport | None = None  # --data: what the rows show

    def count(self, status: Status) -> int:
        return sum(1 for p in self.proofs if p.status is status)

    def fails(self) -> bool:
        violated = bool(self.data and self.data.violations())
        return self.count(Status.UNENFORCED) > 0 or violated
