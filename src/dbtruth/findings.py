"""What a check says: violations from rules, stamped into findings by the engine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True, init=False)
class Fix:
    """A remedy, and what running it changes, as three separate facts.

    `lock_safe`: it can run on a busy production table as written (no long blocking lock, no
    rewrite). `behaviour_change`: afterwards the database accepts or does something else (a
    write it took is refused, a delete that cascaded is stopped, rows disappear from a role's
    view). `data_loss`: it can destroy values (a narrowing type, a dropped column). `safe` is
    derived from all three, so a fix that changes behaviour or can lose data is never "safe";
    `label` says why not. `sql` is runnable when the remedy is SQL; `note` says what it locks
    and whether it can run in a transaction block.
    """

    description: str
    sql: str | None
    lock_safe: bool
    note: str | None
    behaviour_change: bool
    data_loss: bool

    def __init__(
        self,
        description: str,
        sql: str | None = None,
        safe: bool | None = None,
        note: str | None = None,
        *,
        lock_safe: bool | None = None,
        behaviour_change: bool = False,
        data_loss: bool = False,
    ) -> None:
        # `safe=` is what rules said before the split: lock safety, nothing else changed.
        if safe is not None and lock_safe is not None:
            raise TypeError("give lock_safe (and behaviour_change, data_loss), not also safe")
        set_ = object.__setattr__
        set_(self, "description", description)
        set_(self, "sql", sql)
        set_(self, "lock_safe", bool(lock_safe if lock_safe is not None else safe))
        set_(self, "note", note)
        set_(self, "behaviour_change", behaviour_change)
        set_(self, "data_loss", data_loss)

    @property
    def safe(self) -> bool:
        """Runs as written on a busy database and leaves its behaviour and data as they were."""
        return self.lock_safe and not self.behaviour_change and not self.data_loss

    @property
    def risks(self) -> tuple[str, ...]:
        """Why the fix is not safe, in words a label can carry (empty when it is safe)."""
        return tuple(
            text
            for text, present in (
                ("blocking lock", not self.lock_safe),
                ("changes behaviour", self.behaviour_change),
                ("can lose data", self.data_loss),
            )
            if present
        )

    def as_dict(self) -> dict[str, object]:
        """The fix as data (JSON, SARIF): what it does, its SQL, and what it risks."""
        return {
            "description": self.description,
            "sql": self.sql,
            "safe": self.safe,
            "lock_safe": self.lock_safe,
            "behaviour_change": self.behaviour_change,
            "data_loss": self.data_loss,
            "note": self.note,
        }

    @property
    def label(self) -> str:
        """'safe', or 'unsafe: ' and the risks: 'unsafe: changes behaviour'."""
        return "safe" if self.safe else "unsafe: " + ", ".join(self.risks)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """The object a finding is about, named the same way on every environment (never by OID)."""

    kind: str  # "table", "column", "index", "constraint", "view", "function", "sequence", ...
    schema: str
    name: str
    detail: str | None = None  # column, constraint or policy name inside `name`

    @property
    def path(self) -> str:
        base = f"{self.schema}.{self.name}" if self.schema else self.name
        return f"{base}.{self.detail}" if self.detail else base

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True, slots=True)
class Violation:
    object: ObjectRef
    message: str
    fix: Fix | None = None
    evidence: tuple[tuple[str, str], ...] = ()
    # Distinguishes two violations of one rule on one object (e.g. two duplicate pairs).
    discriminator: str = ""
    # A rule may grade one case below its default severity (a weaker form of the problem);
    # severity overrides in dbtruth.yaml still win.
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    column: int = 1


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    family: str
    severity: Severity
    violation: Violation
    fingerprint: str
    location: Location | None = None

    @property
    def object(self) -> ObjectRef:
        return self.violation.object

    @property
    def message(self) -> str:
        return self.violation.message


def fingerprint(code: str, violation: Violation) -> str:
    """Stable across environments: the rule and the object's path, never an OID or a position."""
    key = "\x1f".join((code, violation.object.kind, violation.object.path, violation.discriminator))
    # surrogatepass: a migration's path may hold bytes that are not UTF-8 (Python keeps them as
    # lone surrogates); every other text hashes as before.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
