"""Architecture decision records as dbtruth reads them (playbook §5 Principle 10, §15), and what
`dbtruth adr check` found out about each: whether its confirmations hold on the schema, and
whether a revisit trigger's threshold is crossed.

Three shapes are read as they are: the playbook's (Status, Context, Decision, Consequences,
Alternatives Considered, Assumptions, Risks, Revisit Triggers), Michael Nygard's as adr-tools
writes it (a `Date:` line, `## Status` holding "Superseded by [2. …](0002-….md)"), and MADR 4
(YAML front matter with `status:`, Considered Options, Decision Outcome with its Consequences
and Confirmation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Adr:
    path: Path
    title: str
    parts: dict[str, str] = field(default_factory=dict)
    # the line each part's heading is on, for findings placed in the file
    part_lines: dict[str, int] = field(default_factory=dict)
    number: int | None = None  # from the file name (0007-…) or the title (ADR 7: …)
    shape: str = "playbook"  # playbook, nygard, madr
    front_status: str | None = None  # MADR's front matter `status:`

    @property
    def status(self) -> str:
        if self.front_status:
            return self.front_status
        text = self.parts.get("status", "").strip()
        return text.splitlines()[0].strip() if text else "unknown"

    @property
    def proposed(self) -> bool:
        """Not decided yet: what it proposes need not be in the schema."""
        return "proposed" in self.status.lower()

    @property
    def label(self) -> str:
        """'ADR 0001 (0001-append-only.md)' for messages."""
        return f"ADR {self.number:04d}" if self.number is not None else self.path.name

    def has(self, part: str) -> bool:
        if part == "status" and self.front_status:
            return True
        return bool(self.parts.get(part, "").strip())

    def line(self, part: str) -> int:
        return self.part_lines.get(part, 1)

    def items(self, part: str) -> list[str]:
        """A section's list items and paragraphs, in order, each whole: a list item goes on
        over its continuation lines (indented, or lazily not) until a blank line or the next
        item, so an item wrapped in the file is not cut at its first line."""
        return [text for text, _ in self.items_with_lines(part)]

    def items_with_lines(self, part: str) -> list[tuple[str, int]]:
        """The items of `items`, each with the line of the file it starts on."""
        items: list[tuple[list[str], int]] = []
        current: list[str] | None = None  # the item or paragraph being read
        first = self.part_lines.get(part, 0) + 1
        for offset, line in enumerate(self.parts.get(part, "").splitlines()):
            bullet = _BULLET.match(line)
            if bullet:
                current = [line[bullet.end() :].strip()]
                items.append((current, first + offset))
            elif not line.strip():
                current = None
            elif current is None:
                current = [line.strip()]
                items.append((current, first + offset))
            else:
                current.append(line.strip())
        whole = [(" ".join(" ".join(words).split()), at) for words, at in items]
        return [(text, at) for text, at in whole if text]


@dataclass(frozen=True, slots=True)
class Confirmation:
    """One thing that must hold while the decision stands: a dbtruth rule with no finding (on
    one object or anywhere), a declared invariant proven, or a workload contract kept."""

    kind: str  # check, invariant, workload
    reference: str  # a rule code or name, an invariant id, a workload query name
    scope: str | None  # check: the object the rule must be quiet on (None: everywhere)
    line: int
    text: str  # the item as written


@dataclass(frozen=True, slots=True)
class ConfirmationResult:
    confirmation: Confirmation
    verdict: str  # holds, fails, not run, unknown
    evidence: str  # what dbtruth saw, and how it knows


@dataclass(frozen=True, slots=True)
class Watch:
    """A revisit trigger with a threshold dbtruth can read: `watch: <SELECT> > 1000`."""

    trigger: str  # the trigger as written
    query: str
    operator: str  # >, >=, <, <=
    threshold: float
    line: int


@dataclass(frozen=True, slots=True)
class WatchResult:
    watch: Watch
    value: float | None  # what the query returned; None when it could not run
    fired: bool
    evidence: str


@dataclass
class DecisionFacts:
    """What `dbtruth adr check` knows of the ADR folder; the decision rules read it."""

    folder: Path | None
    adrs: tuple[Adr, ...] = ()
    confirmations: dict[Path, list[ConfirmationResult]] = field(default_factory=dict)
    watches: dict[Path, list[WatchResult]] = field(default_factory=dict)
