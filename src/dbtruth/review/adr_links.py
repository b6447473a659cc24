"""Which review sections each ADR decides, so that a reader of §9 sees the decision on
tenancy where tenancy is reviewed, and §14 lists what each decision covers.

Two ways to know, kept apart as the review's evidence levels ask:

- declared: the ADR's confirmations name what it decides — a rule code (its family's section:
  I002 is an invariant, S004 tenancy), an invariant id (§4), a workload query (§5, and §8 when
  its contract is about a plan);
- guessed: the words of its title and decision ("tenant", "backfill", "retention") match the
  questions a section asks. A guess is shown as one, with the words that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbtruth.inert import md_code, md_prose
from dbtruth.model.decisions import Adr
from dbtruth.review.model import Paragraph, Section
from dbtruth.rules.decisions import standing
from dbtruth.sources.adrs import confirmations

# A rule family's questions are asked in this section of the review.
_FAMILY_SECTION = {"T": 3, "I": 4, "H": 4, "G": 6, "X": 8, "S": 9, "M": 10, "O": 11}

# Words of a decision and the section whose questions they answer (the section prompts'
# own vocabulary). Matched at word starts, so "partition" also finds "partitioned".
_SECTION_WORDS = {
    3: ("source of truth", "projection", "derived", "cache", "search index", "warehouse",
        "authority", "rebuild", "event sourc", "denormali"),
    4: ("invariant", "constraint", "append-only", "append only", "immutable", "unique",
        "foreign key", "state machine", "audit trail"),
    5: ("workload", "throughput", "latency", "read path", "write path", "growth"),
    7: ("transaction", "isolation", "lock", "idempoten", "retry", "concurren", "serializ",
        "outbox"),
    8: ("index", "query plan"),
    9: ("tenant", "rls", "row-level security", "row level security", "privacy", "pii",
        "permission", "privilege", "encrypt", "gdpr", "audit"),
    10: ("migration", "backfill", "expand", "rollout", "rollback", "schema change"),
    11: ("backup", "restore", "retention", "partition", "archiv", "monitor", "capacity",
         "replica", "failover", "vacuum"),
    12: ("failure", "outage", "disaster", "incident", "degrad"),
}  # fmt: skip
_PATTERNS = {
    number: [(word, re.compile(r"\b" + re.escape(word), re.IGNORECASE)) for word in words]
    for number, words in _SECTION_WORDS.items()
}
# Sections about the decisions themselves: every ADR belongs there already.
_OWN = {1, 2, 13, 14, 15}


@dataclass(frozen=True)
class Link:
    adr: Adr
    section: int
    how: str  # what links them, in words
    level: str  # declared (a confirmation) or guessed (words)


def links(adrs: tuple[Adr, ...]) -> list[Link]:
    """Each standing ADR's links to the sections it decides: declared ones first; a section
    reached by a confirmation is not guessed again."""
    found: list[Link] = []
    for adr in adrs:
        if not standing(adr):
            continue
        declared: dict[int, list[str]] = {}
        for c in confirmations(adr)[0]:
            for number in _sections_of(c.kind, c.reference):
                declared.setdefault(number, []).append(c.text)
        for number, texts in sorted(declared.items()):
            how = "its confirmation " + "; ".join(md_code(t) for t in dict.fromkeys(texts))
            found.append(Link(adr, number, how, "declared"))
        text = " ".join([adr.title, *adr.items("decision")])
        for number, patterns in _PATTERNS.items():
            if number in declared:
                continue
            words = [word for word, pattern in patterns if pattern.search(text)]
            if words:
                how = "the words " + ", ".join(f"“{w}”" for w in words[:3])
                found.append(Link(adr, number, how, "guessed"))
    return found


def _sections_of(kind: str, reference: str) -> list[int]:
    if kind == "invariant":
        return [4]
    if kind == "workload":
        return [5, 8]
    family = _FAMILY_SECTION.get(reference[:1].upper())
    return [family] if family and reference[1:].isdigit() else []


def attach(sections: list[Section], adrs: tuple[Adr, ...]) -> None:
    """Put the decisions at the top of the sections they decide, and list in §14 what each
    ADR decides."""
    all_links = links(adrs)
    by_number = {s.number: s for s in sections}
    for section in sections:
        here = [link for link in all_links if link.section == section.number]
        if not here or section.number in _OWN:
            continue
        items = "; ".join(
            f"{md_prose(link.adr.label)} “{md_prose(link.adr.title)}” "
            f"({md_prose(link.adr.status)}), by {link.how} ({link.level})"
            for link in here
        )
        section.blocks.insert(0, Paragraph(f"Decided by: {items}."))
        section.evidence.append("the ADRs that decide it")
    decision = by_number.get(14)
    if decision is None:
        return
    covered = []
    for adr in adrs:
        mine = sorted(
            (link for link in all_links if link.adr is adr and link.section not in _OWN),
            key=lambda link: link.section,
        )
        if mine:
            named = ", ".join(
                f"§{link.section} {by_number[link.section].title}"
                + ("" if link.level == "declared" else " (guessed)")
                for link in mine
                if link.section in by_number
            )
            covered.append(f"{md_prose(adr.label)} decides {named}")
    if covered:
        decision.blocks.append(Paragraph("What each decision covers: " + "; ".join(covered) + "."))
