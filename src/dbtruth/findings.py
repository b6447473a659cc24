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


@dataclass(frozen=True, slots=True)
class Fix:
    """A remedy. `sql` is runnable when the remedy is SQL; `safe` says whether it can run on a
    busy production table as written (no long ACCESS EXCLUSIVE lock, no rewrite, no data loss)."""

    description: str
    sql: str | None = None
    safe: bool = False
    note: str | None = None  # what it locks, whether it can run in a transaction


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
