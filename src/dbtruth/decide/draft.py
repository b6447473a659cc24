"""The ADR a decision drafts: the playbook's shape, its alternatives the families not chosen
with what each would have cost, its consequences the trade-offs, its confirmations proposed
from the requirements that weigh most — a draft for people to finish, status Proposed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dbtruth.adr.new import new_adr
from dbtruth.decide.matrix import RATINGS
from dbtruth.manifest.requirements import WEIGHTS

if TYPE_CHECKING:
    from dbtruth.decide.run import Decision

# Confirmations worth proposing for a requirement that weighs high or critical: rules that
# must stay quiet while the decision stands (the reader keeps those that fit).
_CONFIRMATIONS = {
    # every table keyed, every reference a constraint, every constraint validated
    "strong_relational_integrity": ["check: I001", "check: I003", "check: I004"],
    # declared invariants enforced; audit tables append-only
    "strict_audit_regulatory_trace": ["check: I009", "check: H004"],
    "complex_transactions": ["check: I009"],
}


_PROPOSED = "<!-- proposed: keep what fits; add invariants and workload contracts -->"


def draft_text(decision: Decision, context: str | None, number: int) -> str:
    matrix, choice = decision.matrix, decision.choice
    record = matrix.family(choice.record)
    weighted = sorted(((k, w) for k, w in decision.weights.items() if WEIGHTS[w]),
                      key=lambda kw: -WEIGHTS[kw[1]])  # fmt: skip
    lines = [f"# ADR {number:04d}: {record.name} as the system of record for {decision.title}",
             "", "## Status", "Proposed (drafted by `dbtruth decide` from "
             f"{Path(decision.source).name}).", "", "## Context"]  # fmt: skip
    if context:
        lines += [context.strip(), ""]
    lines.append("Requirements, weighted:")
    lines += [f"- {matrix.requirement(k).name}: {w}" for k, w in weighted]  # type: ignore[union-attr]
    lines += ["", "## Decision"]
    lines.append(f"- {record.name} ({record.examples}) holds the truth: {choice.record_why}.")
    for family, reasons in choice.projections:
        f = matrix.family(family)
        lines.append(f"- {f.name} ({f.examples}) as a projection of it, rebuildable from it, "
                     f"never a second authority: for {'; '.join(reasons)}.")  # fmt: skip
    lines += ["", "## Consequences", "Positive:"]
    top = decision.ranked[0]
    lines += [f"- {line.requirement}: {line.rating}" for line in
              next(r for r in decision.ranked if r.family == choice.record).lines
              if line.rating in ("High", "Medium/High")]  # fmt: skip
    for family, reasons in choice.projections:
        lines += [f"- {reason} ({matrix.family(family).name})" for reason in reasons]
    negatives = [*choice.tradeoffs, *choice.notes]
    lines += ["", "Negative:", *(f"- {n}" for n in negatives or ["none the matrix shows"])]
    lines += ["", "## Alternatives Considered"]
    chosen = {r.family: r for r in decision.ranked if r.family in choice.families}
    others = [r for r in decision.ranked if r.family not in choice.families][:3]
    for n, other in enumerate(others, start=1):
        weaker = []
        for i, line in enumerate(other.lines):
            best = max((r.lines[i].rating for r in chosen.values()), key=RATINGS.__getitem__)
            if WEIGHTS[line.weight] >= 2 and RATINGS[line.rating] < RATINGS[best]:
                weaker.append(f"{line.requirement} {line.rating} (chosen: {best})")
        cost = f"weaker at {'; '.join(weaker)}" if weaker else "as strong where it matters"
        lines.append(f"{n}. {other.name} ({matrix.family(other.family).examples}): "
                     f"{other.share:.0%} of the weighted maximum; {cost}.")  # fmt: skip
    if top.family not in choice.families:
        lines.append(f"(The top-ranked family overall was {top.name}.)")
    lines += ["", "## Assumptions", "- The weights above stay true for the next two years.",
              "", "## Risks", "- …", "", "## Confirmation", _PROPOSED]  # fmt: skip
    proposed = [c for k, w in weighted if WEIGHTS[w] >= WEIGHTS["high"]
                for c in _CONFIRMATIONS.get(k, [])]  # fmt: skip
    lines += [f"- {c}" for c in dict.fromkeys(proposed)]
    lines += ["", "## Revisit Triggers"]
    lines += [f"- {matrix.requirement(k).name} stops weighing {w}." for k, w in weighted[:3]]  # type: ignore[union-attr]
    return "\n".join(lines) + "\n"


def write_draft(decision: Decision, context: str | None, folder: Path) -> Path:
    path = new_adr(folder, f"{decision.title} store", "playbook")
    number = int(path.name.split("-", 1)[0])
    path.write_text(draft_text(decision, context, number), encoding="utf-8")
    return path
