"""The review as Markdown: renders on code hosts, diagrams as Mermaid blocks.

Block text, evidence and answers in the review model are Markdown inline already escaped where
they were built; titles, the target, notes and findings are raw and escaped here.
"""

from __future__ import annotations

from dbtruth.findings import Finding
from dbtruth.inert import code_lines, md_code, md_fence, md_line, md_prose, md_text
from dbtruth.report.grouping import FindingGroup, group_findings, objects_phrase
from dbtruth.report.markdown import fix_lines
from dbtruth.report.mermaid import er_diagram
from dbtruth.review.model import (
    ANSWER_LEGEND,
    Answer,
    Block,
    Bullets,
    Code,
    Diagram,
    Paragraph,
    Review,
    Section,
    Status,
    Table,
)

ANSWER_MARK = {
    Answer.YES: "✅ yes",
    Answer.DECLARED: "☑️ declared",
    Answer.GUESS: "💭 guess",
    Answer.NO: "❌ no",
    Answer.NA: "➖ n/a",
    Answer.UNKNOWN: "❔ unknown",
}
STATUS_MARK = {
    Status.MET: "✅ met",
    Status.DECLARED: "☑️ declared",
    Status.MISSED: "❌ missed",
    Status.UNKNOWN: "❔ unknown",
}
_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(block: Table) -> list[str]:
    lines = [f"*{md_text(block.caption)}*", ""] if block.caption else []
    lines.append("| " + " | ".join(_cell(md_text(h)) for h in block.headers) + " |")
    lines.append("|" + "---|" * len(block.headers))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
    return [*lines, ""]


def _diagram(block: Diagram) -> list[str]:
    lines: list[str] = []
    for group in block.groups:
        schema = md_code(group.schema)
        lines += [f"#### Schema {schema} ({len(group.entities)} tables)", ""]
        text = er_diagram(group)
        if text is None:
            lines += [
                f"The {schema} diagram is too large for Mermaid; the HTML review draws it.",
                "",
            ]
        else:
            lines += ["```mermaid", text, "```", ""]
        if group.outgoing:
            lines.append("References into other schemas:")
            lines += [
                f"- {md_code(r.child)} ({md_text(', '.join(r.columns))}) → {md_code(r.parent)}"
                for r in group.outgoing
            ]
            lines.append("")
    return lines


def _block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [md_line(block.text), ""]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Bullets):
        return [f"- {md_line(item)}" for item in block.items] + [""]
    if isinstance(block, Code):
        fence = md_fence(block.text)
        return [f"{fence}{block.language}", *code_lines(block.text), fence, ""]
    return _diagram(block)


def _section(section: Section) -> list[str]:
    lines = [
        f"## {section.number}. {md_text(section.title)}",
        "",
        f"> {md_line(md_text(section.prompt))}",
        "",
    ]
    for block in section.blocks:
        lines += _block(block)
    lines.append("**Evidence used:** " + ("; ".join(section.evidence) or "none") + ".")
    lines.append("")
    if section.open_questions:
        lines += ["**Open questions:**", ""]
        lines += [f"- [ ] {md_line(q)}" for q in section.open_questions]
        lines.append("")
    return lines


def _finding(finding: Finding) -> list[str]:
    label = finding.severity.label
    location = finding.location
    where = f" ({md_text(f'{location.file}:{location.line}')})" if location else ""
    lines = [
        f"- {_ICON[label]} **{finding.code} {finding.name}** ({label}) "
        f"{md_code(finding.object.path)}{where}: {md_prose(finding.message)}"
    ]
    return lines + fix_lines(finding, note=False)


def _decision(group: FindingGroup) -> list[str]:
    """One design decision repeated: a headline, its objects, the fix once."""
    label = group.severity.label
    lines = [f"- {_ICON[label]} **{group.code} {group.name}** ({label}): {objects_phrase(group)}"]
    for finding in group.findings:
        location = finding.location
        where = f" ({md_text(f'{location.file}:{location.line}')})" if location else ""
        lines.append(f"  - {md_code(finding.object.path)}{where}: {md_prose(finding.message)}")
    fixed = fix_lines(group.first, note=False)
    if fixed:
        fixed[0] += f" (shown for {md_code(group.first.object.path)}; the others alike)"
    return lines + fixed


def render(review: Review) -> str:
    counts = ", ".join(
        f"{n} {label}{'' if n == 1 or label == 'info' else 's'}"
        for label, n in review.summary_counts.items()
    )
    lines = [
        f"# {md_line(md_text(review.title))}",
        "",
        f"- Target: {md_code(review.target)}",
        f"- Source: {md_text(review.source)}; PostgreSQL {md_text(review.server_version)}",
        f"- Reviewed: {md_text(review.generated)} by dbtruth",
        f"- Maturity level: **{review.maturity.level}** of 4",
        f"- Findings: {counts}",
        "",
        "Each section states the evidence it used; where there was none, it lists the "
        "questions to answer. Nothing here is inferred without saying so.",
        "",
    ]
    if review.load_problems:
        lines += ["> **Incomplete:** these statements could not be loaded:", ">"]
        lines += [f"> - {md_code(p)}" for p in review.load_problems] + [""]
    lines += [f"- {md_line(md_text(note))}" for note in review.notes]
    for section in review.sections:
        lines += _section(section)
    lines += ["## Checklist (playbook §6)", "", ANSWER_LEGEND, ""]
    for part in review.checklist:
        lines += [
            f"### {md_text(part.number)} {md_text(part.title)}",
            "",
            "| Question | Answer | Evidence |",
        ]
        lines.append("|---|---|---|")
        lines += [
            f"| {_cell(md_text(i.question))} | {ANSWER_MARK[i.answer]} | {_cell(i.evidence)} |"
            for i in part.items
        ]
        lines.append("")
    lines += _maturity(review)
    lines += ["## Findings by playbook area", ""]
    if not review.findings:
        lines += ["No findings.", ""]
    for group in review.findings:
        lines += [f"### {group.family.capitalize()} ({len(group.findings)})", ""]
        for decision in group_findings(list(group.findings)):
            lines += _decision(decision) if decision.repeated else _finding(decision.first)
        lines.append("")
    if review.suppressed:
        lines += ["### Accepted in dbtruth.yaml", ""]
        lines += [
            f"- {f.code} {md_code(f.object.path)}: {md_prose(reason)}"
            for f, reason in review.suppressed
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _maturity(review: Review) -> list[str]:
    maturity = review.maturity
    lines = [
        "## Maturity (playbook §11)",
        "",
        f"Level reached: **{maturity.level}** of 4. A level counts when all its criteria "
        "and all below it are met or declared; *met* means the database shows it, "
        "*declared* that dbtruth.yaml or a document states it (checked against the catalog "
        "where it can be).",
        "",
    ]
    for level in (1, 2, 3, 4):
        lines += [f"### Level {level}", "", "| Criterion | Status | Evidence |", "|---|---|---|"]
        lines += [
            f"| {_cell(md_text(c.text))} | {STATUS_MARK[c.status]} | {_cell(c.evidence)} |"
            for c in maturity.at(level)
        ]
        lines.append("")
    return lines
