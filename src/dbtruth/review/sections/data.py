"""Sections 3–6: source of truth, critical invariants, workload, proposed design."""

from __future__ import annotations

from dbtruth.inert import md_code, md_prose, md_text
from dbtruth.migrate.blast import human_bytes
from dbtruth.review.erd import build_diagram
from dbtruth.review.evidence import constraint_tally, listing
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import Known, known, proof_text
from dbtruth.review.invariants import summary as invariant_summary
from dbtruth.review.model import Bullets, Code, Paragraph, Section, Table
from dbtruth.review.plans import plan_block, plan_cell, where_planned
from dbtruth.review.rows import row_status, rows_blocks
from dbtruth.review.signals import query_text
from dbtruth.words import counted, verb


def _text(value: str | list[str] | None) -> str:
    if value is None or value == []:
        return "—"
    text = ", ".join(value) if isinstance(value, list) else value
    # `dbtruth init` leaves questions as "TODO: …"; the table shows that they are open.
    return "**open** (TODO)" if text.upper().startswith("TODO") else md_prose(text)


def source_of_truth(facts: Facts) -> Section:
    section = Section(3, "Source of Truth", "Which data is canonical? Which data is derived?")
    truth = facts.manifest.truth
    if not truth:
        section.evidence.append("catalog only: dbtruth.yaml has no `truth` section")
        section.blocks.append(
            Paragraph(
                f"No authority map is declared for the {len(facts.tables)} tables. "
                "`dbtruth init` drafts one from names and structure."
            )
        )
        section.open_questions += [
            "Which tables are the source of truth, and which are projections, caches or snapshots?",
            "Who owns each table's data and its corrections?",
            "For every copy: its sources, how it is rebuilt, how stale it may be, and how "
            "drift is detected?",
        ]
        return section
    section.evidence.append(f"dbtruth.yaml `truth`: {len(truth)} entries")
    section.evidence.append(
        "rules T001 projection-without-contract, T002 table-without-declared-role"
    )
    broken = {f.object.relation for f in facts.findings("T001")}
    rows = []
    for pattern, role in truth.items():
        status = "guess — confirm" if role.guess else "declared"
        if pattern in broken or any(r.startswith(pattern.rstrip("*")) for r in broken):
            status = "contract incomplete (T001)"
        if not facts.matches(pattern):
            status = "**no such table** in the catalog"
        rows.append(
            (
                md_code(pattern),
                role.role,
                _text(role.owner),
                _text(role.sources),
                _text(role.rebuild),
                _text(role.freshness),
                "yes" if role.drift_check else "—",
                status,
            )
        )
    section.blocks.append(
        Table(
            ("Table", "Role", "Owner", "Sources", "Rebuild", "Freshness", "Drift check", "Status"),
            tuple(rows),
            caption="Data authority map",
        )
    )
    unmapped = [f.object.relation for f in facts.findings("T002")]
    if unmapped:
        section.blocks.append(
            Paragraph(
                f"{counted(len(unmapped), 'table')} {verb(len(unmapped), 'has', 'have')} no "
                f"role: {listing(unmapped, 10)}."
            )
        )
        section.open_questions.append(f"What role do {listing(unmapped)} play?")
    guesses = [k for k, r in truth.items() if r.guess]
    if guesses:
        section.open_questions.append(
            f"Confirm the {counted(len(guesses), 'guessed role')} and name their owners."
        )
    return section


def critical_invariants(facts: Facts) -> Section:
    section = Section(4, "Critical Invariants", "What must never be false?")
    constraints = [c for c in facts.catalog.constraints if not c.inherited]
    kinds: dict[str, int] = {}
    for constraint in constraints:
        kinds[constraint.kind] = kinds.get(constraint.kind, 0) + 1
    unique_indexes = sum(1 for i in facts.catalog.indexes if i.unique and i.constraint is None)
    section.evidence.append(
        "catalog: "
        + (md_text(constraint_tally(kinds)) or "no constraints")
        + f", {unique_indexes} unique {'index' if unique_indexes == 1 else 'indexes'} without a "
        "constraint"
    )
    invariants = facts.manifest.invariants
    if not invariants:
        section.blocks.append(
            Paragraph(
                "No invariant catalog is declared. The database enforces the constraints "
                "above; what the business needs beyond them is not written down."
            )
        )
        section.open_questions += [
            "Which states are illegal (the kata's step 4)?",
            "Which of them does the application enforce, and how is a violation detected?",
            "Which are concurrency-sensitive (uniqueness across rows, non-overlap, totals)?",
        ]
        section.blocks += rows_blocks(facts)
        return section
    section.evidence.append(f"dbtruth.yaml `invariants`: {len(invariants)}")
    section.evidence.append(
        "rules I009 invariant-not-enforced, I010 invariant-without-detective-control"
    )
    section.blocks.append(Paragraph(f"{invariant_summary(facts)}."))
    # I009/I010 report on the invariant itself: ObjectRef("invariant", "", id).
    failing = {f.object.name: f for f in facts.findings("I009")}
    rows = []
    for invariant in invariants:
        how = known(facts, invariant)
        problem = failing.get(invariant.id)
        told = proof_text(facts, invariant)
        proof = md_prose(told) if told is not None else None
        if how is Known.UNENFORCED:
            status = f"**unenforced**: {proof}"
        elif how is Known.PROVEN:
            status = f"**proven**: {proof}"
        elif how is Known.BROKEN and problem is not None:
            status = "**not enforced**: " + md_prose(
                problem.message.split(" is not enforced: ", 1)[-1]
            )
        elif how is Known.UNDETECTED:
            status = "**undetected**: nothing detects a violation"
        elif how is Known.GUESSED:
            status = "guess: `dbtruth init` restated an existing constraint; confirm or delete"
        elif how is Known.DETECTED:
            status = "declared; a detective query is declared" + (
                "" if facts.proofs.data else " (dbtruth does not run it)"
            )
        elif how is Known.UNCHECKED:
            status = "declared; not checked (rule I009 did not run)"
        else:
            status = "enforced: the object is in the catalog and matches the declaration"
        if proof is not None and how not in (Known.PROVEN, Known.UNENFORCED):
            status += f"; {proof}"
        if (rows_status := row_status(facts, invariant.id)) is not None:
            status += f"; {rows_status}"
        rows.append(
            (
                md_code(invariant.id),
                md_prose(invariant.statement),
                invariant.kind,
                invariant.enforcement
                + (f" {md_code(invariant.object)}" if invariant.object else ""),
                status,
            )
        )
    section.blocks.append(
        Table(
            ("Id", "Statement", "Kind", "Enforced by", "Status"), tuple(rows), "Invariant catalog"
        )
    )
    if not any(not i.guess for i in invariants):
        section.open_questions.append(
            "Every invariant above was derived from an existing constraint by `dbtruth init`: "
            "which illegal states does no constraint cover yet (the kata's step 4)?"
        )
    section.blocks += rows_blocks(facts)
    gaps = facts.findings("I001", "I003", "I004", "I005", "I006", "I007", "I008")
    if gaps:
        section.blocks.append(
            Paragraph(
                f"The catalog shows {counted(len(gaps), 'invariant gap')} beyond the catalog "
                "above; "
                "they are listed under Findings (invariants & keys)."
            )
        )
    return section


def workload(facts: Facts) -> Section:
    section = Section(5, "Workload", "Top writes, reads, reports, growth, latency, consistency.")
    queries = facts.manifest.workload
    context = facts.manifest.context
    if queries:
        section.evidence.append(f"dbtruth.yaml `workload`: {len(queries)} queries")
        section.evidence.append("rule X006 workload-references-missing-object")
        section.evidence.append(f"plans: {where_planned(facts)}")
        rows = []
        for query in queries:
            contract = "—"
            if query.contract:
                parts = []
                if query.contract.uses_index:
                    parts.append(f"uses {md_code(query.contract.uses_index)}")
                if query.contract.no_seq_scan_on:
                    parts.append(
                        "no seq scan on " + ", ".join(map(md_code, query.contract.no_seq_scan_on))
                    )
                if query.contract.max_cost:
                    parts.append(f"cost ≤ {query.contract.max_cost:g}")
                contract = "; ".join(parts)
            rows.append(
                (
                    md_text(query.name),
                    query.role,
                    f"{query.calls_per_minute:g}/min" if query.calls_per_minute else "—",
                    f"{query.latency_ms:g} ms" if query.latency_ms else "—",
                    contract,
                    md_text(plan_cell(facts, query.name, query.contract is not None)),
                )
            )
        section.blocks.append(
            Table(
                ("Query", "Role", "Rate", "Latency target", "Index contract", "Plan"),
                tuple(rows),
            )
        )
        for query in queries:
            text = query_text(facts, query)
            if text:
                section.blocks.append(Paragraph(f"**{md_text(query.name)}**"))
                section.blocks.append(Code(text.strip()))
                section.blocks += plan_block(facts.plans.of(query.name))
    else:
        section.evidence.append("dbtruth.yaml has no `workload` section")
        section.open_questions += [
            "What are the top writes, reads and reports, with their rates and latency targets?",
            "Which index does each read rely on?",
        ]
    if context and (context.growth or context.consistency):
        section.evidence.append("dbtruth.yaml `context`")
        if context.growth:
            section.blocks.append(Paragraph(f"Growth: {md_prose(context.growth)}"))
        if context.consistency:
            section.blocks.append(Paragraph(f"Consistency: {md_prose(context.consistency)}"))
    else:
        section.open_questions.append(
            "How fast do data and traffic grow, and how stale may readers be (context.growth, "
            "context.consistency)?"
        )
    stats = facts.catalog.stats
    if stats is not None and stats.tables:
        section.evidence.append(f"live statistics collected {md_text(str(stats.collected_at))}")
        largest = sorted(stats.tables, key=lambda t: t.total_bytes, reverse=True)[:10]
        section.blocks.append(
            Table(
                ("Table", "Rows (est.)", "Size", "Inserts", "Updates", "Deletes", "Seq scans"),
                tuple(
                    (
                        md_code(f"{t.schema}.{t.name}"),
                        f"{max(t.row_estimate, 0):,}",
                        human_bytes(t.total_bytes),
                        f"{t.inserts:,}",
                        f"{t.updates:,}",
                        f"{t.deletes:,}",
                        f"{t.seq_scan:,}",
                    )
                    for t in largest
                ),
                caption="Largest tables (live)",
            )
        )
    return section


def proposed_design(facts: Facts) -> Section:
    section = Section(6, "Proposed Design", "Conceptual/logical/physical design.")
    catalog = facts.catalog
    section.evidence.append(
        f"catalog: {counted(len(facts.tables), 'table')}, {counted(len(catalog.views), 'view')}, "
        f"{sum(1 for c in catalog.constraints if c.kind == 'foreign key' and not c.inherited)} "
        f"foreign keys, {len(catalog.indexes)} indexes"
    )
    rows = []
    for schema in sorted({t.schema for t in facts.tables} | {v.schema for v in catalog.views}):
        tables = [t for t in facts.tables if t.schema == schema]
        views = [v for v in catalog.views if v.schema == schema]
        fks = [
            c for c in catalog.constraints
            if c.schema == schema and c.kind == "foreign key" and not c.inherited
        ]  # fmt: skip
        partitioned = [t for t in tables if t.kind == "partitioned table"]
        rows.append(
            (
                md_code(schema),
                str(len(tables)),
                str(len(views)),
                str(len(fks)),
                str(len(partitioned)),
            )
        )
    section.blocks.append(
        Table(("Schema", "Tables", "Views", "Foreign keys", "Partitioned"), tuple(rows))
    )
    extensions = [f"{e.name} {e.version}" for e in catalog.extensions if e.name != "plpgsql"]
    if extensions:
        section.blocks.append(Paragraph(f"Extensions: {md_text(', '.join(extensions))}."))
    diagram = build_diagram(facts)
    section.blocks.append(
        Paragraph(
            "The ER diagram, one picture per schema. Boxes show key columns first "
            "(PK primary, FK foreign, UK unique); references into other schemas are listed "
            "under each picture."
        )
    )
    section.blocks.append(diagram)
    _views(facts, section)
    return section


def _views(facts: Facts, section: Section) -> None:
    views = facts.catalog.views
    if not views:
        return
    items = []
    for view in views[:30]:
        declared = facts.role_of(f"{view.schema}.{view.name}")
        role = f" — {declared[1].role}" if declared else ""
        kind = "materialized view" if view.materialized else "view"
        items.append(f"{md_code(f'{view.schema}.{view.name}')} ({kind}){role}")
    if len(views) > 30:
        items.append(f"… and {len(views) - 30} more")
    section.blocks.append(Paragraph("Views and materialized views (derived data):"))
    section.blocks.append(Bullets(tuple(items)))
