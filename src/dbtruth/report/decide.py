"""`dbtruth decide`'s report: the ranking, each family's points requirement by requirement (so
a reviewer can redo the sum), the set chosen and why, and the ADR draft written."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dbtruth import __version__
from dbtruth.inert import json_text, md_text, visible
from dbtruth.manifest.requirements import WEIGHTS

if TYPE_CHECKING:
    from dbtruth.decide.run import Decision

_SCALE = (
    "points = weight × rating; ratings High 3, Medium/High 2.5, Medium 2, Low/Medium 1.5, "
    "Low 1; weights critical 5, high 3, medium 2, low 1"
)


def render(decision: Decision, fmt: str) -> str:
    if fmt == "json":
        return json_text(json.dumps(_document(decision), indent=2, ensure_ascii=False)) + "\n"
    if fmt == "markdown":
        return _markdown(decision)
    return "".join(f"{visible(line)}\n" for line in _terminal(decision))


def _choice_lines(decision: Decision) -> list[str]:
    matrix, choice = decision.matrix, decision.choice
    record = matrix.family(choice.record)
    lines = [f"system of record: {record.name} ({record.examples}) — {choice.record_why}"]
    for family, reasons in choice.projections:
        f = matrix.family(family)
        lines.append(f"projection: {f.name} ({f.examples}) — for {'; '.join(reasons)}; "
                     "declare it in dbtruth.yaml's truth map (role: projection, sources, "
                     "rebuild)")  # fmt: skip
    lines += [f"trade-off: {t}" for t in choice.tradeoffs]
    lines += [f"note: {n}" for n in choice.notes]
    if decision.adr is not None:
        lines.append(f"ADR draft written: {decision.adr}")
    return lines


def _terminal(decision: Decision) -> list[str]:
    lines = [f"dbtruth decide: {decision.title} ({decision.source})", "",
             *_choice_lines(decision), "", f"ranking ({_SCALE}):"]  # fmt: skip
    width = max(len(r.name) for r in decision.ranked)
    for n, r in enumerate(decision.ranked, start=1):
        lines.append(f"{n}. {r.name.ljust(width)}  {r.score:5.1f} points  {r.share:4.0%}")
    for r in decision.ranked:
        lines += ["", f"{r.name}:"]
        lines += [f"  {line.requirement} ({line.weight} {WEIGHTS[line.weight]}) × {line.rating} "
                  f"= {line.points:g}" for line in r.lines]  # fmt: skip
    return lines


def _markdown(decision: Decision) -> str:
    families = decision.ranked
    out = [f"# dbtruth decide: {md_text(decision.title)}", "",
           *(f"- {md_text(line)}" for line in _choice_lines(decision)), "",
           f"From {md_text(decision.source)}; {md_text(_SCALE)}.", "",
           "| rank | family | points | of the most possible |", "|---|---|---|---|"]  # fmt: skip
    out += [f"| {n} | {md_text(r.name)} | {r.score:g} | {r.share:.0%} |"
            for n, r in enumerate(families, start=1)]  # fmt: skip
    out += ["", "| requirement (weight) | " + " | ".join(md_text(r.name) for r in families) + " |",
            "|---|" + "---|" * len(families)]  # fmt: skip
    for i, line in enumerate(families[0].lines):
        cells = [f"{r.lines[i].rating} = {r.lines[i].points:g}" for r in families]
        out.append(f"| {md_text(line.requirement)} ({line.weight}) | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _document(decision: Decision) -> dict[str, Any]:
    choice = decision.choice
    return {
        "tool": {"name": "dbtruth", "version": __version__},
        "title": decision.title,
        "source": decision.source,
        "weights": decision.weights,
        "ranking": [
            {"family": r.family, "name": r.name, "points": r.score, "share": r.share,
             "lines": [{"requirement": x.requirement, "weight": x.weight, "rating": x.rating,
                        "points": x.points} for x in r.lines]}
            for r in decision.ranked
        ],
        "choice": {"record": choice.record, "why": choice.record_why,
                   "projections": [{"family": f, "for": reasons}
                                   for f, reasons in choice.projections],
                   "tradeoffs": choice.tradeoffs, "notes": choice.notes},
        "adr": str(decision.adr) if decision.adr else None,
    }  # fmt: skip
