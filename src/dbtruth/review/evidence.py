"""Turning facts into answers with their evidence, the same way everywhere in the review."""

from __future__ import annotations

from collections.abc import Sequence

from dbtruth.findings import Finding, Severity
from dbtruth.inert import md_code, md_prose
from dbtruth.review.facts import Declared, Facts
from dbtruth.review.model import Answer
from dbtruth.words import counted, plural

SAMPLE = 3


def listing(items: Sequence[str], limit: int = SAMPLE) -> str:
    """`a`, `b`, `c` and 4 more: each item a code span, whatever it holds."""
    shown = ", ".join(md_code(i) for i in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def finding_sample(findings: Sequence[Finding]) -> str:
    codes = sorted({f"{f.code} {f.name}" for f in findings})
    objects = list(dict.fromkeys(f.object.path for f in findings))
    return f"{counted(len(findings), 'finding')} of {', '.join(codes)} on {listing(objects)}"


def rule_answer(
    facts: Facts, codes: Sequence[str], yes: str, no: str, *, info_holds: bool = False
) -> tuple[Answer, str]:
    """Yes when the rules ran and found nothing, no with the findings, unknown when they did
    not run. Findings accepted in dbtruth.yaml count as answered, with their reasons shown.

    The yes text says something holds everywhere ("every table has a primary key"), so an
    info finding of these rules, which says where it does not (graded down as a schema-wide
    decision, a lookup, a small table), makes the answer no all the same, saying it was graded
    info. Only where a caller knows its rules' info findings mean the thing holds
    (`info_holds`: a view nobody else may read bypasses no boundary) are they notes."""
    if not facts.ran(*codes):
        missing = [c for c in codes if c not in facts.result.ran]
        return (
            Answer.UNKNOWN,
            f"{plural('rule', len(missing))} {', '.join(missing)} did not run "
            "(not selected or live only)",
        )
    found = facts.findings(*codes)
    defects = [f for f in found if f.severity >= Severity.WARNING]
    if defects:
        return Answer.NO, f"{no}: {finding_sample(defects)}"
    if found and not info_holds:
        return Answer.NO, (
            f"{no}, each graded info (a decision the schema makes, or a cost it shows to be "
            f"small): {finding_sample(found)}"
        )
    text = f"{yes} ({', '.join(codes)}: no warnings or errors)"
    if found:
        text += f"; notes: {finding_sample(found)}"
    accepted = facts.suppressed(*codes)
    if accepted:
        reasons = sorted({reason for _, reason in accepted})
        text += f"; {len(accepted)} accepted in dbtruth.yaml: {md_prose('; '.join(reasons))}"
    return Answer.YES, text


def declared_answer(declared: Declared | None, missing: str) -> tuple[Answer, str]:
    """A practice dbtruth.yaml names: declared (a sentence, or a file that exists), no when
    the file it names is missing, unknown when nothing is named."""
    if declared is None:
        return Answer.UNKNOWN, missing
    if declared.exists is False:
        return Answer.NO, declared.describe()
    return Answer.DECLARED, declared.describe()


# How a constraint kind is counted in prose: "1 unique key", "108 foreign keys".
_CONSTRAINT_NOUNS = {"unique": "unique key", "exclusion": "exclusion constraint",
                     "check": "check constraint"}  # fmt: skip


def constraint_tally(kinds: dict[str, int]) -> str:
    """`{"foreign key": 108, "unique": 1}` as "108 foreign keys, 1 unique key"."""
    parts = []
    for kind, count in sorted(kinds.items()):
        noun = _CONSTRAINT_NOUNS.get(kind, kind)
        parts.append(counted(count, noun))
    return ", ".join(parts)
