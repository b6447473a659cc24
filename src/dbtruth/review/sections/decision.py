"""Sections 1, 2 and 13–15: what is decided and why, from dbtruth.yaml's `context` and the ADRs,
with the review's own verdict (maturity, checklist, findings) as the evidence-based part."""

from __future__ import annotations

from collections import Counter

from dbtruth.findings import Severity
from dbtruth.inert import md_code, md_prose, md_text
from dbtruth.review.evidence import listing
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import summary as invariant_summary
from dbtruth.review.model import Answer, Bullets, ChecklistPart, Maturity, Paragraph, Section
from dbtruth.words import counted


def decision_summary(
    facts: Facts, maturity: Maturity, checklist: tuple[ChecklistPart, ...]
) -> Section:
    section = Section(1, "Decision Summary", "What are we deciding?")
    context = facts.manifest.context
    if context and context.summary:
        section.evidence.append("dbtruth.yaml `context.summary`")
        section.blocks.append(Paragraph(md_prose(context.summary)))
    else:
        section.open_questions.append(
            "What decision does this review support (context.summary in dbtruth.yaml)?"
        )
    answers = Counter(item.answer for part in checklist for item in part.items)
    severities = Counter(f.severity for f in facts.result.findings)
    section.evidence.append("this review's checklist, maturity assessment and rule findings")
    verdict = [
        f"Maturity level **{maturity.level}** of 4 (section Maturity).",
        "Checklist: " + ", ".join(f"{answers[a]} {a.value}" for a in Answer) + ".",
        "Findings: "
        + ", ".join(
            f"{severities[level]} {word}{'' if severities[level] == 1 or word == 'info' else 's'}"
            for level, word in (
                (Severity.ERROR, "error"),
                (Severity.WARNING, "warning"),
                (Severity.INFO, "info"),
            )
        )
        + ".",
    ]
    if facts.manifest.invariants:
        verdict.append(f"{invariant_summary(facts)}.")
    section.blocks.append(Bullets(tuple(verdict)))
    return section


def context_section(facts: Facts) -> Section:
    section = Section(
        2, "Context", "What business process, data, workload, and constraints shape this decision?"
    )
    catalog = facts.catalog
    schemas = sorted({t.schema for t in facts.tables})
    section.evidence.append(
        f"catalog of {md_code(catalog.database)} from {md_text(catalog.source)}"
    )
    facts_list = [
        f"PostgreSQL {md_text(catalog.server_version)}; {counted(len(facts.tables), 'table')} in "
        f"{counted(len(schemas), 'schema')} ({listing(schemas, 8)}), "
        f"{counted(len(catalog.views), 'view')}, {counted(len(catalog.functions), 'function')}.",
    ]
    stats = catalog.stats
    if stats is not None:
        total = sum(t.total_bytes for t in stats.tables)
        facts_list.append(f"Live database: {total / 1024**3:.2f} GiB in tables and indexes.")
    context = facts.manifest.context
    if context and context.business:
        section.evidence.append("dbtruth.yaml `context`")
        section.blocks.append(Paragraph(md_prose(context.business)))
    else:
        section.open_questions.append(
            "Which business process does this database serve, and who are its actors "
            "(context.business)?"
        )
    if context and context.constraints:
        facts_list += [f"Constraint: {md_prose(c)}" for c in context.constraints]
    else:
        section.open_questions.append(
            "Which regulatory, latency, budget or team constraints shape the design?"
        )
    section.blocks.append(Bullets(tuple(facts_list)))
    return section


def _adr_items(facts: Facts, part: str) -> list[str]:
    items = []
    for adr in facts.adrs:
        for item in adr.items(part):
            items.append(f"{md_prose(item)} — *{md_prose(adr.title)}* ({md_code(adr.path.name)})")
    return items


def alternatives(facts: Facts) -> Section:
    section = Section(13, "Alternatives Considered", "Why not other designs?")
    items = _adr_items(facts, "alternatives")
    if items:
        folder = facts.manifest.decisions.adr_folder  # type: ignore[union-attr]
        section.evidence.append(f"ADRs in {md_code(folder)}")
        section.blocks.append(Bullets(tuple(items)))
    else:
        section.evidence.append("no ADR records alternatives")
        section.open_questions.append(
            "Which other designs were considered, and which invariant or workload ruled each out?"
        )
    return section


def decision(facts: Facts, maturity: Maturity) -> Section:
    section = Section(14, "Decision", "Accepted design and conditions.")
    if facts.adrs:
        section.evidence.append("ADR titles, statuses and decisions")
        for adr in facts.adrs:
            decided = adr.items("decision")
            heading = (
                f"**{md_prose(adr.title)}** ({md_prose(adr.status)}, {md_code(adr.path.name)})"
            )
            confirmed = facts.adr_confirmations.get(adr.path, [])
            if any(r.verdict == "fails" for r in confirmed):
                heading += (
                    " — proposed, not in the schema yet"
                    if adr.proposed
                    else " — **contradicted by the schema**"
                )
            section.blocks.append(
                Paragraph(heading + (":" if decided else ": no Decision section"))
            )
            if decided:
                # Whole items: the decision is what the review attaches its conditions to.
                section.blocks.append(Bullets(tuple(md_prose(item) for item in decided)))
            if confirmed:
                section.evidence.append(f"the confirmations of {md_code(adr.path.name)}")
                section.blocks.append(Paragraph("Confirmations (what must hold while it stands):"))
                section.blocks.append(Bullets(tuple(
                    f"{md_prose(r.confirmation.text)}: **{r.verdict}** — {md_prose(r.evidence)}"
                    for r in confirmed
                )))  # fmt: skip
    else:
        section.open_questions.append("Which design is accepted, by whom, and on what conditions?")
    conditions = []
    errors = [f for f in facts.result.findings if f.severity is Severity.ERROR]
    if errors:
        conditions.append(
            f"fix the {counted(len(errors), 'error finding')} first: "
            + listing([f"{f.code} {f.object.path}" for f in errors], 5)
        )
    for criterion in maturity.blocking():
        conditions.append(
            f"to reach level {criterion.level}: {md_text(criterion.text)} — {criterion.evidence}"
        )
    if conditions:
        section.evidence.append("error findings and the next maturity level's missing criteria")
        section.blocks.append(Paragraph("Conditions the review attaches:"))
        section.blocks.append(Bullets(tuple(conditions)))
    return section


def revisit_triggers(facts: Facts) -> Section:
    section = Section(15, "Revisit Triggers", "When should we reconsider?")
    items = _adr_items(facts, "revisit")
    if items:
        section.evidence.append("ADR revisit triggers")
        section.blocks.append(Bullets(tuple(items)))
    else:
        section.evidence.append("no ADR records revisit triggers")
        section.open_questions.append(
            "Which change in data volume, traffic, regulation or team would make this design wrong?"
        )
    return section
