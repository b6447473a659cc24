"""D004 adr-supersede-link-one-way."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object
from dbtruth.spec import Settings, decision_rule

_SUPERSEDED_BY = re.compile(r"superseded\s+by\b(.*)", re.IGNORECASE)
_SUPERSEDES = re.compile(r"\bsupersedes\b(.*)", re.IGNORECASE)
# ADR 5, ADR-0005, #5, [5. Title](0005-title.md), 0005-title.md
_REFERENCE = re.compile(r"(?:ADR[\s-]*|#|\[|\()0*(\d{1,6})\b", re.IGNORECASE)


def _named(text: str) -> set[int]:
    return {int(n) for n in _REFERENCE.findall(text)}


def _links(adr: Adr, pattern: re.Pattern[str]) -> set[int]:
    status = "\n".join(filter(None, (adr.front_status, adr.parts.get("status", ""))))
    found: set[int] = set()
    for line in status.splitlines():
        match = pattern.search(line)
        if match:
            found |= _named(match.group(1))
    return found


@decision_rule("D004", "adr-supersede-link-one-way", Severity.WARNING)
def adr_supersede_link_one_way(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds a supersession recorded on one side only: an ADR "Superseded by" another that does
    not say it supersedes it (or names no ADR that exists), or an ADR that "Supersedes"
    another still standing as if nothing replaced it.

    ## Why is this bad?
    A reader who lands on the old decision follows it, unaware it was replaced; one who lands
    on the new one cannot find what it replaced and why (playbook §15: decisions are a chain
    of evidence, not a pile of pages). adr-tools writes both links; hand edits lose one.

    ## Example
    ```
    0001-use-mysql.md:       ## Status  Accepted
    0004-use-postgresql.md:  ## Status  Accepted. Supersedes [1. Use MySQL](0001-use-mysql.md)
    ```

    ## Use instead
    ```
    0001-use-mysql.md:       ## Status  Superseded by [4. Use PostgreSQL](0004-use-postgresql.md)
    ```

    ## Fix safety
    Documentation only.

    ## References
    adr-tools (`adr new -s`); MADR 4 status "superseded by ADR-0004"; playbook §15.
    """
    by_number: dict[int, Adr] = {}
    for adr in facts.adrs:
        if adr.number is not None:
            by_number.setdefault(adr.number, adr)
    for adr in facts.adrs:
        line = adr.line("status") if adr.has("status") else 1
        for number in sorted(_links(adr, _SUPERSEDED_BY)):
            newer = by_number.get(number)
            if newer is None:
                yield (Violation(adr_object(adr), f"{adr.label} is superseded by ADR {number}, "
                                 "which is not in the folder", discriminator=f"by{number}"),
                       adr, line)  # fmt: skip
            elif adr.number not in _links(newer, _SUPERSEDES):
                yield (Violation(adr_object(adr), f"{adr.label} is superseded by {newer.label}, "
                                 f"which does not say it supersedes {adr.label}",
                                 discriminator=f"by{number}"), adr, line)  # fmt: skip
        for number in sorted(_links(adr, _SUPERSEDES)):
            older = by_number.get(number)
            if older is None:
                yield (Violation(adr_object(adr), f"{adr.label} supersedes ADR {number}, which "
                                 "is not in the folder", discriminator=f"of{number}"),
                       adr, line)  # fmt: skip
            elif adr.number not in _links(older, _SUPERSEDED_BY):
                yield (Violation(adr_object(adr), f"{adr.label} supersedes {older.label}, which "
                                 f"still reads '{older.status}' with no link to {adr.label}",
                                 discriminator=f"of{number}"), adr, line)  # fmt: skip
