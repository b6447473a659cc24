"""The rule catalogue as data, for `dbtruth rules` and `dbtruth rule CODE`: every rule's code,
name, severity, family and documentation, read from catalogue.json instead of importing every
rule, which loads PostgreSQL's parser, pydantic and the catalog model (most of a run's
start-up) to print a page of text.

The rules' docstrings stay the documentation: catalogue.json is written from them
(`python -m dbtruth.catalogue`), and tests/test_catalogue.py fails when it differs from them.
It also records a checksum of the files it was written from; where they changed since (a rule
edited, the file not yet written again), the rules themselves are read instead, slower but
never stale.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).with_name("catalogue.json")
PACKAGE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class RuleEntry:
    code: str
    name: str
    severity: str  # info, warning or error
    family: str  # the family's label, e.g. "invariants & keys"
    live_only: bool
    opt_in: bool
    kind: str  # "catalog" (check) or "migration" (migrate lint)
    doc: str  # the rule's docstring, cleaned


@cache
def entries() -> tuple[RuleEntry, ...]:
    """Every rule, in the registry's order."""
    document = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    if document["sources"] != sources_checksum():
        return from_rules()
    return tuple(RuleEntry(**entry) for entry in document["rules"])


def sources_checksum() -> str:
    """A checksum of what the catalogue is written from: every rule module, and spec.py (the
    families' labels). CRC-32, to notice an edit, not to resist one; zlib loads in no time."""
    files = [*sorted((PACKAGE / "rules").rglob("*.py")), PACKAGE / "spec.py"]
    crc = 0
    for path in files:
        crc = zlib.crc32(path.relative_to(PACKAGE).as_posix().encode(), crc)
        crc = zlib.crc32(path.read_bytes(), crc)
    return f"{crc:08x}"


def find(selector: str) -> RuleEntry | None:
    """The rule with this code (any case) or name."""
    wanted = selector.strip()
    return next((e for e in entries() if wanted.upper() == e.code or wanted == e.name), None)


def from_rules() -> tuple[RuleEntry, ...]:
    """The catalogue as the rules themselves declare it (imports every rule)."""
    from dbtruth import engine

    return tuple(
        RuleEntry(
            code=spec.code,
            name=spec.name,
            severity=spec.severity.label,
            family=spec.family,
            live_only=spec.live_only,
            opt_in=spec.opt_in,
            kind=spec.kind,
            doc=spec.doc,
        )
        for spec in engine.all_specs()
    )


def document(rules: tuple[RuleEntry, ...]) -> str:
    """catalogue.json's text: one stable layout, so that a change reads as a small diff."""
    content = {"sources": sources_checksum(), "rules": [asdict(rule) for rule in rules]}
    return json.dumps(content, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    CATALOGUE.write_text(document(from_rules()), encoding="utf-8")
    print(f"wrote {CATALOGUE}: {len(from_rules())} rules")
