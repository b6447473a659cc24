"""Ranking engine families for weighted requirements, and choosing the smallest set of stores.

Score: each family's sum over the requirements of weight × rating (High 3 … Low 1), as a share
of the most it could reach. Then the playbook's rule — the smallest set of databases that
satisfies truth, workload and operations without duplicate authority:

1. The system of record is the family best at the truth requirements (integrity, transactions,
   audit trace) as weighted; when none of them weighs medium or more, the top-ranked family.
2. A requirement weighted high or critical is satisfied by a family rating it Medium/High or
   better; while one is unsatisfied, the family satisfying the most such weight joins the set
   — as a projection of the system of record, with a rebuild path, never a second authority.
3. Requirements weighted medium or low that the set leaves unsatisfied are trade-offs, named;
   they never add a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbtruth.decide.matrix import Matrix, Requirement
from dbtruth.manifest.requirements import WEIGHTS

STRONG = 2.5  # Medium/High or better satisfies a high or critical requirement


@dataclass(frozen=True, slots=True)
class Line:
    """One requirement's share of a family's score, for the reader to follow."""

    requirement: str
    weight: str
    rating: str
    points: float


@dataclass(frozen=True, slots=True)
class Ranked:
    family: str
    name: str
    score: float  # points
    share: float  # of the most it could reach
    lines: tuple[Line, ...]


@dataclass
class Choice:
    record: str  # the family holding the truth
    record_why: str
    projections: list[tuple[str, list[str]]] = field(default_factory=list)  # family, reasons
    tradeoffs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return [self.record, *(f for f, _ in self.projections)]


def rank(matrix: Matrix, weights: dict[str, str]) -> list[Ranked]:
    wanted = [
        (r, weights[r.key]) for r in matrix.requirements if WEIGHTS[weights.get(r.key, "none")]
    ]
    best = sum(WEIGHTS[w] * 3.0 for _, w in wanted) or 1.0
    ranked = []
    for family in matrix.families:
        lines = tuple(
            Line(r.name, w, r.ratings[family.key], WEIGHTS[w] * r.score(family.key))
            for r, w in wanted
        )
        score = sum(line.points for line in lines)
        ranked.append(Ranked(family.key, family.name, score, score / best, lines))
    return sorted(ranked, key=lambda r: (-r.score, r.family))


def _weight(weights: dict[str, str], requirement: Requirement) -> int:
    return WEIGHTS[weights.get(requirement.key, "none")]


def _covered(
    family: str, uncovered: list[Requirement], weights: dict[str, str], order: dict[str, int]
) -> tuple[int, int]:
    """The weight of the unsatisfied requirements a family satisfies (then rank, to break
    ties)."""
    weight = sum(_weight(weights, r) for r in uncovered if _satisfies(r, family))
    return weight, -order[family]


def _satisfies(requirement: Requirement, family: str) -> bool:
    return requirement.score(family) >= STRONG


def choose(matrix: Matrix, weights: dict[str, str], ranked: list[Ranked]) -> Choice:
    order = {r.family: i for i, r in enumerate(ranked)}
    truth = [(r, WEIGHTS[weights.get(r.key, "none")]) for r in matrix.requirements if r.truth]
    if any(w >= WEIGHTS["medium"] for _, w in truth):
        record = max(
            matrix.families,
            key=lambda f: (sum(w * r.score(f.key) for r, w in truth), -order[f.key]),
        ).key
        named = ", ".join(f"{r.name} ({weights[r.key]})" for r, w in truth if w)
        why = f"best at the truth requirements weighted: {named}"
    else:
        record = ranked[0].family
        why = "no truth requirement weighs medium or more: the top-ranked family"
    choice = Choice(record, why)
    strong = [
        r for r in matrix.requirements if WEIGHTS[weights.get(r.key, "none")] >= WEIGHTS["high"]
    ]
    uncovered = [r for r in strong if not _satisfies(r, record)]
    while uncovered:
        candidates = [f.key for f in matrix.families if f.key not in choice.families]

        scores = {f: _covered(f, uncovered, weights, order) for f in candidates}
        best = max(candidates, key=lambda f: scores[f], default=None)
        if best is None or scores[best][0] == 0:
            choice.notes += [f"no family rates {r.name} Medium/High or better" for r in uncovered]
            break
        served = [r for r in uncovered if _satisfies(r, best)]
        choice.projections.append((best, [f"{r.name} ({weights[r.key]}): "
                                          f"{r.ratings[best]}" for r in served]))  # fmt: skip
        uncovered = [r for r in uncovered if r not in served]
    chosen = choice.families
    for r in matrix.requirements:
        weight = weights.get(r.key, "none")
        if WEIGHTS[weight] and WEIGHTS[weight] < WEIGHTS["high"]:
            best_rating = max(chosen, key=lambda f: r.score(f))
            if r.score(best_rating) < 2.0:
                choice.tradeoffs.append(
                    f"{r.name} ({weight}): the set rates it {r.ratings[best_rating]} at best; "
                    "accepted rather than adding a store"
                )
    if choice.projections and WEIGHTS[weights.get("operational_simplicity", "none")]:
        choice.notes.append(
            f"operational simplicity ({weights['operational_simplicity']}) pays for each extra "
            f"store: {len(chosen)} to run, back up, monitor and keep in step"
        )
    return choice
