"""The invariant catalog as the review sees it: how each declared invariant is known.

An invariant is proven when `dbtruth prove` wrote its illegal row on a throwaway copy of the
schema and PostgreSQL refused it, and unenforced when PostgreSQL accepted it. Without a proof,
one enforced by a constraint, index or trigger that dbtruth found in the catalog and matched to
the declaration (rule I009) is seen, not proven; one kept by the application is only declared,
detected or not by a declared query; one written by `dbtruth init` restates a constraint that
already exists and is a guess until someone confirms it. Only proven invariants count as held.
"""

from __future__ import annotations

from collections import Counter
from enum import Enum

from dbtruth.inert import md_text
from dbtruth.manifest.design import Invariant
from dbtruth.prove.model import Status
from dbtruth.review.evidence import constraint_tally, finding_sample, listing
from dbtruth.review.facts import Facts
from dbtruth.review.model import Answer
from dbtruth.words import counted

NO_INVARIANTS = "no `invariants` section in dbtruth.yaml"
OUTSIDE = ("application", "reconciliation")
# Invariants that a concurrent writer can break between a check and a write.
CONCURRENCY_KINDS = ("uniqueness", "non-overlap", "cross-row")


class Known(Enum):
    """How one invariant is known, from the weakest claim upwards."""

    UNENFORCED = "unenforced"  # prove: the database accepted the illegal write
    BROKEN = "broken"  # I009: the object named does not enforce it
    UNDETECTED = "undetected"  # I010: kept outside the database and nothing detects a violation
    GUESSED = "guessed"  # `dbtruth init` restated an existing constraint
    UNCHECKED = "unchecked"  # enforced by an object, but I009 did not run to check it
    DETECTED = "detected"  # kept outside the database; a detective query is declared
    ENFORCED = "enforced"  # a constraint, index, trigger or grant in the catalog enforces it
    PROVEN = "proven"  # prove: the database refused the illegal write


def known(facts: Facts, invariant: Invariant) -> Known:
    proof = facts.proofs.of(invariant.id)
    outside = invariant.enforcement in OUTSIDE
    # The database showed it (or, for one the application keeps, its raced write path did):
    # stronger than any reading.
    raced = any(p.race for p in proof.probes) if proof else False
    if proof is not None and proof.status is Status.UNENFORCED and (raced or not outside):
        return Known.UNENFORCED
    # I009 and I010 report on the invariant itself (ObjectRef("invariant", "", id)); I009 wins.
    code = {f.object.name: f.code for f in facts.findings("I010", "I009")}.get(invariant.id)
    if code == "I009":
        return Known.BROKEN
    if code == "I010":
        return Known.UNDETECTED
    if invariant.guess:
        return Known.GUESSED
    if proof is not None and proof.status is Status.PROVEN:
        return Known.PROVEN
    if outside:
        return Known.DETECTED if invariant.detective_query else Known.UNDETECTED
    return Known.ENFORCED if facts.ran("I009") else Known.UNCHECKED


def proof_text(facts: Facts, invariant: Invariant) -> str | None:
    """What the proof showed, in a sentence: the refused or accepted write, or why none could
    be concluded. None when there is no proof of it."""
    proof = facts.proofs.of(invariant.id)
    if proof is None:
        return None
    if proof.status is Status.NOT_PROVABLE:
        reason = proof.reason or next((p.reason for p in proof.probes if p.reason), None)
        return "not provable" + (f": {reason}" if reason else "")
    # The refused illegal writes first: they are the proof; the accepted legal ones its control.
    writes = sorted(
        (p for p in proof.probes if not p.race),
        key=lambda p: bool(p.steps) and p.steps[-1].accepted,
    )
    races = [p for p in proof.probes if p.race]
    parts = []
    if proof.status is Status.PROVEN:
        if writes:
            shown = "; ".join(f"{p.name}: {p.observed}" for p in writes[:3])
            parts.append(f"{counted(len(writes), 'write')} on a throwaway copy answered as it "
                         f"requires ({shown})")  # fmt: skip
        parts += [f"{p.name}: {p.observed}" for p in races]
        return "; ".join(parts)
    accepted = [p for p in writes if p.status is Status.UNENFORCED]
    if accepted:
        shown = "; ".join(p.name for p in accepted[:3])
        parts.append(f"PostgreSQL accepted {counted(len(accepted), 'illegal write')} on a "
                     f"throwaway copy ({shown})")  # fmt: skip
    parts += [f"{p.name}: {p.observed}" for p in races if p.status is Status.UNENFORCED]
    return "; ".join(parts)


# How each invariant is known, in the order the count lists them.
_HOW_KNOWN = (
    (Known.UNENFORCED, "unenforced (the database accepted the illegal write)"),
    (Known.ENFORCED,
     "enforced by a constraint, index, trigger or grant found in the catalog as declared, "
     "not proven"),
    (Known.DETECTED,
     "declared as kept by the application, with a detective query dbtruth does not run"),
    (Known.GUESSED,
     "declared by an existing constraint (guessed by `dbtruth init`, not confirmed)"),
    (Known.UNCHECKED, "declared as enforced by an object not checked (rule I009 did not run)"),
    (Known.UNDETECTED, "kept outside the database and never detected"),
    (Known.BROKEN, "not enforced by the object named"),
)  # fmt: skip


# With the rows read (review --data), the detective queries ran: their counts are in section 4.
_DETECTED_AND_RUN = (
    "declared as kept by the application, with a detective query run on the rows (section 4)"
)


def summary(facts: Facts) -> str:
    """One line: how many invariants, and how each is known. Never "held" for what the
    review did not see."""
    invariants = facts.manifest.invariants
    counts = Counter(known(facts, i) for i in invariants)
    noun = "invariant" if len(invariants) == 1 else "invariants"
    if facts.proofs.proved is None:
        proven = f"0 proven ({facts.proofs.absent})"
    else:
        proven = (
            f"{counts[Known.PROVEN]} proven (dbtruth wrote each illegal row on a throwaway copy "
            "and PostgreSQL refused it)"
        )
    parts = [f"{len(invariants)} {noun}: {proven}"]
    read = facts.proofs.data is not None
    parts += [
        f"{counts[kind]} " + (_DETECTED_AND_RUN if kind is Known.DETECTED and read else phrase)
        for kind, phrase in _HOW_KNOWN
        if counts[kind]
    ]
    return "; ".join(parts)


def constraint_counts(facts: Facts) -> str:
    counts: dict[str, int] = {}
    for constraint in facts.catalog.constraints:
        if not constraint.inherited:
            counts[constraint.kind] = counts.get(constraint.kind, 0) + 1
    return md_text(constraint_tally(counts)) or "no constraints"


def _confirmed(facts: Facts) -> list[Invariant]:
    return [i for i in facts.manifest.invariants if not i.guess]


def _only_guesses(facts: Facts) -> str:
    count = len(facts.manifest.invariants)
    noun = "invariant in dbtruth.yaml is" if count == 1 else "invariants in dbtruth.yaml are"
    return f"the {count} {noun} `dbtruth init`'s restatement of existing constraints"


# --- checklist 6.3 --------------------------------------------------------------------------


def named_answer(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    confirmed = _confirmed(facts)
    if not confirmed:
        return Answer.GUESS, (
            f"{_only_guesses(facts)}, none confirmed; the illegal states no constraint covers "
            "are not named"
        )
    missing = sorted({t for i in confirmed for t in i.tables if not facts.matches(t)})
    if missing:
        return Answer.NO, f"invariants name tables the catalog does not have: {listing(missing)}"
    guesses = len(invariants) - len(confirmed)
    return Answer.DECLARED, (
        f"{counted(len(confirmed), 'invariant')} stated in dbtruth.yaml, on tables that exist"
        + (f"; {guesses} more guessed by `dbtruth init`" if guesses else "")
    )


def db_enforced_answer(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, f"{NO_INVARIANTS}; the catalog enforces {constraint_counts(facts)}"
    if not facts.ran("I009"):
        return Answer.UNKNOWN, "rule I009 did not run (not selected)"
    by_db = [i for i in invariants if i.enforcement not in OUTSIDE]
    ways = Counter(known(facts, i) for i in by_db)
    unenforced = [i.id for i in by_db if known(facts, i) is Known.UNENFORCED]
    if unenforced:
        return Answer.NO, (
            f"the database accepted the illegal write of {listing(unenforced)} (dbtruth prove)"
        )
    broken = facts.findings("I009")
    if broken:
        return Answer.NO, f"declared enforcement that does not hold: {finding_sample(broken)}"
    confirmed = [i for i in by_db if not i.guess]
    guessed = len(by_db) - len(confirmed)
    more = f"; {guessed} more guessed by `dbtruth init`" if guessed else ""
    if confirmed and ways[Known.PROVEN] == len(confirmed):
        return Answer.YES, (
            f"all {len(confirmed)} proven: dbtruth wrote each illegal row on a throwaway copy "
            "of the schema and PostgreSQL refused it" + more
        )
    if confirmed:
        unproven = [i.id for i in confirmed if known(facts, i) is not Known.PROVEN]
        why = facts.proofs.absent or "no probe could conclude: see section 4"
        return Answer.DECLARED, (
            f"{ways[Known.PROVEN]} of {len(confirmed)} proven; {listing(unproven)} enforced by "
            f"an object found in the catalog and matched to the declaration (I009), not proven "
            f"({why})" + more
        )
    if guessed:
        return Answer.GUESS, (
            f"{_only_guesses(facts)}: each constraint exists, but nobody has confirmed these "
            "are the invariants that matter"
        )
    return Answer.NA, "no invariant is declared as enforced by the database"


def app_enforced_answer(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    confirmed = _confirmed(facts)
    if not confirmed:
        return Answer.UNKNOWN, f"{_only_guesses(facts)}; those the application keeps are not named"
    app = [i.id for i in confirmed if i.enforcement in OUTSIDE]
    if not app:
        return Answer.UNKNOWN, (
            "no invariant is declared as kept by the application: name the ones it keeps, "
            "if any (`enforcement: application`)"
        )
    return Answer.DECLARED, f"kept by the application or reconciliation: {listing(app, 10)}"


def monitored_answer(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    if not facts.ran("I010"):
        return Answer.UNKNOWN, "rule I010 did not run (not selected)"
    blind = facts.findings("I010")
    if blind:
        return Answer.NO, f"invariants nobody detects: {finding_sample(blind)}"
    confirmed = _confirmed(facts)
    if not confirmed:
        return Answer.UNKNOWN, f"{_only_guesses(facts)}; those kept outside it are not named"
    outside = [i.id for i in confirmed if i.enforcement in OUTSIDE]
    if not outside:
        return Answer.NA, "no invariant is declared as kept outside the database"
    return Answer.DECLARED, (
        f"detective queries declared for {listing(outside)} (I010); dbtruth does not run them"
    )


def concurrency_answer(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    confirmed = _confirmed(facts)
    if not confirmed:
        return Answer.UNKNOWN, (
            f"{_only_guesses(facts)}; the cross-row rules the application keeps are not "
            "declared yet"
        )
    sensitive = [i for i in confirmed if i.kind in CONCURRENCY_KINDS]
    if not sensitive:
        return Answer.UNKNOWN, "no uniqueness, non-overlap or cross-row invariant declared"
    lost = [i.id for i in sensitive if race_ended(facts, i.id) is Status.UNENFORCED]
    if lost:
        return Answer.NO, (
            f"two sessions running the write path at once broke {listing(lost)} (dbtruth prove)"
        )
    outside = [
        i.id
        for i in sensitive
        if i.enforcement in OUTSIDE and race_ended(facts, i.id) is not Status.PROVEN
    ]
    if outside:
        return Answer.UNKNOWN, (
            f"{listing(outside)} are kept by the application: race-safe only under a lock or "
            "SERIALIZABLE, which the schema cannot show; a `race` in dbtruth.yaml lets "
            "`dbtruth prove` try it"
        )
    if not facts.ran("I009"):
        return Answer.UNKNOWN, "rule I009 did not run (not selected)"
    broken = [i.id for i in sensitive if known(facts, i) in (Known.BROKEN, Known.UNENFORCED)]
    if broken:
        return Answer.NO, f"not enforced by the database: {listing(broken)}"
    unproven = [i.id for i in sensitive if known(facts, i) is not Known.PROVEN]
    raced = [i.id for i in sensitive if race_ended(facts, i.id) is Status.PROVEN]
    if unproven:
        return Answer.DECLARED, (
            f"{listing(unproven)} enforced by constraints or indexes found in the catalog (which "
            "PostgreSQL keeps under concurrent writes), not proven "
            f"({facts.proofs.absent or 'no probe could conclude'})"
        )
    return Answer.YES, (
        f"all {len(sensitive)} concurrency-sensitive invariants proven: PostgreSQL refused "
        "each illegal write through a constraint or index, which it keeps under concurrent "
        "writes too"
        + (
            f"; {listing(raced)} held when two sessions ran the write path in every interleaving"
            if raced
            else ""
        )
    )


def race_ended(facts: Facts, invariant_id: str) -> Status | None:
    """How the race of an invariant's write path ended, when `prove` ran one."""
    proof = facts.proofs.of(invariant_id)
    race = next((p for p in proof.probes if p.race), None) if proof else None
    return race.status if race else None


def cross_system_answer(facts: Facts) -> tuple[Answer, str]:
    found = [i for i in _confirmed(facts) if i.kind == "cross-system"]
    if not found:
        return Answer.UNKNOWN, "no cross-system invariant declared"
    blind = [i.id for i in found if not i.detective_query]
    if blind:
        return Answer.NO, f"cross-system invariants without reconciliation: {listing(blind)}"
    return Answer.DECLARED, (
        f"{counted(len(found), 'cross-system invariant')}, each with a declared "
        "reconciliation query"
    )
