"""The review as data: what the renderers (Markdown, HTML) are given.

A section is a list of blocks (paragraph, table, bullets, code, diagram) plus the evidence it
used and the questions it could not answer. Text in blocks may carry `code` and **bold** spans,
which each renderer turns into its own markup; everything else is plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from dbtruth.findings import Finding
from dbtruth.prove.model import Proof, Proved

if TYPE_CHECKING:
    from dbtruth.findings import Finding as _Finding
    from dbtruth.model.workload import PlannedQuery
    from dbtruth.ops.run import OpsResult
    from dbtruth.prove.data import DataReport  # psycopg: only when the rows were read
    from dbtruth.workload.run import WorkloadResult


class Answer(Enum):
    """A checklist answer, saying how it is known (ARCHITECTURE: evidence levels)."""

    YES = "yes"  # observed in the database (catalog, rule results, live server) or proven
    DECLARED = "declared"  # dbtruth.yaml or a document says so; the catalog does not contradict it
    GUESS = "guess"  # `dbtruth init`'s draft or a name heuristic, not confirmed by anyone
    NO = "no"
    NA = "n/a"  # the question is about a set dbtruth saw to be empty
    UNKNOWN = "unknown"

    @property
    def css(self) -> str:
        return self.value.replace("/", "")


# How to read the checklist's answers; both renderers print it above the checklist.
ANSWER_LEGEND = (
    "**yes**: seen in the database (its catalog, the rule results, a live server's settings "
    "and statistics); **declared**: dbtruth.yaml or a document says so, checked against the "
    "catalog where it can be; **guess**: a draft of `dbtruth init` or a name heuristic, not yet "
    "confirmed; **n/a**: the question is about something the database does not have; **no** "
    "and **unknown** say what is missing."
)


class Status(Enum):
    """How a maturity criterion stands."""

    MET = "met"  # shown by the catalog, the files or the rule results
    DECLARED = "declared"  # stated in dbtruth.yaml; dbtruth cannot verify it
    MISSED = "missed"
    UNKNOWN = "unknown"

    @property
    def counts(self) -> bool:
        return self in (Status.MET, Status.DECLARED)


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    text: str
    language: str = "sql"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    key: str  # "PK", "FK", "PK,FK", "UK" or ""
    not_null: bool


@dataclass(frozen=True)
class Entity:
    schema: str
    name: str
    columns: tuple[Column, ...]  # the columns drawn; key columns first
    hidden_columns: int  # columns left out to keep the box readable
    role: str | None  # from the authority map, when declared
    kind: str = "table"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Relationship:
    child: str  # qualified table holding the foreign key
    parent: str  # qualified referenced table
    columns: tuple[str, ...]
    optional: bool  # a nullable foreign key: the child may exist without the parent
    one_to_one: bool  # the foreign key columns are unique in the child
    name: str


@dataclass(frozen=True)
class SchemaGroup:
    schema: str
    entities: tuple[Entity, ...]
    relationships: tuple[Relationship, ...]  # both ends in this schema
    outgoing: tuple[Relationship, ...]  # child here, parent in another schema


@dataclass(frozen=True)
class Diagram:
    groups: tuple[SchemaGroup, ...]


Block = Paragraph | Table | Bullets | Code | Diagram


@dataclass
class Section:
    number: int
    title: str
    prompt: str  # the playbook's question for this section
    blocks: list[Block] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"s{self.number}"


@dataclass(frozen=True)
class ChecklistItem:
    question: str
    answer: Answer
    evidence: str


@dataclass(frozen=True)
class ChecklistPart:
    number: str  # "6.1"
    title: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class Criterion:
    level: int
    text: str
    status: Status
    evidence: str


@dataclass(frozen=True)
class Maturity:
    level: int
    criteria: tuple[Criterion, ...]

    def at(self, level: int) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.level == level)

    def blocking(self) -> tuple[Criterion, ...]:
        """What stands between the level reached and the next one."""
        return tuple(c for c in self.at(self.level + 1) if not c.status.counts)


@dataclass(frozen=True)
class FindingGroup:
    family: str
    findings: tuple[Finding, ...]


@dataclass
class Review:
    title: str
    target: str
    source: str
    server_version: str
    generated: str  # the date of the review, ISO
    sections: list[Section]
    checklist: tuple[ChecklistPart, ...]
    maturity: Maturity
    findings: tuple[FindingGroup, ...]
    suppressed: tuple[tuple[Finding, str], ...]
    summary_counts: dict[str, int]
    load_problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proofs:
    """What `dbtruth prove` showed for the review, or why it did not run."""

    proved: Proved | None
    absent: str | None  # why there are no proofs, when there are none

    @property
    def data(self) -> DataReport | None:
        """What the rows showed, when the review read them (--data)."""
        return self.proved.data if self.proved else None

    def of(self, invariant_id: str) -> Proof | None:
        if self.proved is None:
            return None
        return next(
            (
                p
                for p in self.proved.proofs
                if p.subject.source == "dbtruth.yaml" and p.subject.id == invariant_id
            ),
            None,
        )


NO_PROOFS = Proofs(None, "not proven in this review")


@dataclass(frozen=True, slots=True)
class Plans:
    """What `dbtruth workload` showed for the review (the declared queries planned), or why
    it did not run."""

    planned: WorkloadResult | None
    absent: str | None

    def of(self, name: str) -> PlannedQuery | None:
        if self.planned is None:
            return None
        return next((p for p in self.planned.planned if p.query.name == name), None)

    def breaches(self, name: str) -> list[_Finding]:
        """The contract findings (X007–X011) of one query."""
        if self.planned is None:
            return []
        return [f for f in self.planned.result.findings if f.object.path == name]

    @property
    def on_live(self) -> bool:
        """Planned by the live target itself, with its own statistics."""
        return self.planned is not None and "read-only session" in self.planned.planned_on


NO_PLANS = Plans(None, "not planned in this review")


@dataclass(frozen=True, slots=True)
class Health:
    """What `dbtruth ops` read of the live server for the review, or why it did not run."""

    ops: OpsResult | None
    absent: str | None


NO_HEALTH = Health(None, "operations not measured in this review")
