"""`dbtruth decide REQUIREMENTS.yaml` as one call: the requirements checked against the matrix,
the families ranked, the set chosen, and (with `adr_folder`) an ADR drafted."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from dbtruth.decide.matrix import Matrix, load_matrix
from dbtruth.decide.rank import Choice, Ranked, choose, rank
from dbtruth.manifest.requirements import LoadedRequirements, load_requirements


@dataclass(frozen=True, slots=True)
class DecideOptions:
    requirements: Path
    adr_folder: Path | None = None  # write the ADR draft there


@dataclass
class Decision:
    title: str
    source: str
    weights: dict[str, str]
    ranked: list[Ranked]
    choice: Choice
    matrix: Matrix
    adr: Path | None = None
    notes: list[str] = field(default_factory=list)


def decide(options: DecideOptions) -> Decision:
    loaded = load_requirements(options.requirements)
    matrix = load_matrix()
    weights = _checked(loaded, matrix)
    ranked = rank(matrix, weights)
    choice = choose(matrix, weights, ranked)
    decision = Decision(loaded.requirements.title, str(options.requirements), weights, ranked,
                        choice, matrix)  # fmt: skip
    if options.adr_folder is not None:
        from dbtruth.decide.draft import write_draft

        decision.adr = write_draft(decision, loaded.requirements.context, options.adr_folder)
    return decision


def _checked(loaded: LoadedRequirements, matrix: Matrix) -> dict[str, str]:
    """The weights by requirement key; a key the matrix lacks is an error at its line."""
    keys = [r.key for r in matrix.requirements]
    for key in loaded.requirements.requirements:
        if key not in keys:
            nearest = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            raise loaded.error(
                f"unknown requirement '{key}'",
                "requirements", key,
                hint=f"did you mean '{nearest[0]}'?" if nearest
                else f"the matrix's requirements: {', '.join(keys)}",
            )  # fmt: skip
    return dict(loaded.requirements.requirements)
