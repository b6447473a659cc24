"""Sections 7–9: transaction and concurrency, index and query plan, security and privacy."""

from __future__ import annotations

from collections import Counter

from dbtruth.inert import md_code, md_prose, md_text
from dbtruth.prove.model import Status
from dbtruth.review.declarations import retention_check
from dbtruth.review.evidence import finding_sample, listing
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import race_ended
from dbtruth.review.model import Bullets, Paragraph, Section, Table
from dbtruth.review.plans import where_planned
from dbtruth.review.signals import (
    idempotency_keys,
    outbox_tables,
    personal_data_columns,
    shared_reference,
    tenant_tables,
    version_columns,
)
from dbtruth.words import counted, verb

TENANT_TABLE_ROWS = 40  # above this, the RLS table is summarised instead of listed


def transactions(facts: Facts) -> Section:
    section = Section(
        7, "Transaction and Concurrency", "Commit boundary, locks, isolation, idempotency, retry."
    )
    catalog = facts.catalog
    section.evidence.append("catalog: constraints, indexes, triggers; names of columns")
    guards = []
    exclusions = [c for c in catalog.constraints if c.kind == "exclusion" and not c.inherited]
    if exclusions:
        guards.append(
            f"{counted(len(exclusions), 'exclusion constraint')} "
            f"{verb(len(exclusions), 'keeps', 'keep')} ranges from overlapping under "
            f"concurrent writes: {listing([c.name for c in exclusions])}"
        )
    partial = [i for i in catalog.indexes if i.unique and i.predicate]
    if partial:
        guards.append(
            f"{counted(len(partial), 'partial unique index')} "
            f"{verb(len(partial), 'guards', 'guard')} conditional uniqueness: "
            f"{listing([i.qualified for i in partial])}"
        )
    deferrable = [c for c in catalog.constraints if c.deferrable and not c.inherited]
    if deferrable:
        guards.append(f"{counted(len(deferrable), 'deferrable constraint')}, checked at commit")
    for label, found in (
        # names only: what a column is used for is the application's (a guess until confirmed)
        (
            "columns named like optimistic-lock versions (a guess from the names)",
            version_columns(facts),
        ),
        (
            "unique keys on columns named like idempotency keys (a guess from the names)",
            idempotency_keys(facts),
        ),
        ("tables named like outboxes (a guess from the names)", outbox_tables(facts)),
    ):
        if found:
            guards.append(f"{label}: {listing(found)}")
    triggers = [t for t in catalog.triggers if not t.name.startswith("RI_ConstraintTrigger")]
    if triggers:
        guards.append(
            f"{counted(len(triggers), 'trigger')} {verb(len(triggers), 'runs', 'run')} inside "
            "the writing transaction: "
            f"{listing([f'{t.schema}.{t.table}.{t.name}' for t in triggers])}"
        )
    if guards:
        section.blocks.append(Paragraph("What the schema does for concurrency:"))
        section.blocks.append(Bullets(tuple(guards)))
    else:
        section.blocks.append(
            Paragraph("The schema shows no concurrency guard beyond primary and unique keys.")
        )
    kept = [
        i
        for i in facts.manifest.invariants
        if i.kind in ("cross-row", "non-overlap", "uniqueness")
        and i.enforcement in ("application", "reconciliation")
    ]
    raced = {i.id: race_ended(facts, i.id) for i in kept}
    held = [i.id for i in kept if raced[i.id] is Status.PROVEN]
    lost = [i.id for i in kept if raced[i.id] is Status.UNENFORCED]
    exposed = [i.id for i in kept if i.id not in held and i.id not in lost]
    if held:
        section.blocks.append(
            Paragraph(
                f"Kept by the application, and proven under races: {listing(held, 10)} — two "
                "sessions ran the write path dbtruth.yaml gives in every interleaving, and none "
                "broke it (`dbtruth prove`)."
            )
        )
    if lost:
        section.blocks.append(
            Paragraph(
                f"**Broken by a race**: {listing(lost, 10)} — two sessions running the write "
                "path at once left rows that break it; `dbtruth prove` shows the interleaving. "
                "It needs a lock order, a constraint, or SERIALIZABLE with retry."
            )
        )
    if exposed:
        section.blocks.append(
            Paragraph(
                f"Kept by the application and exposed to races: {listing(exposed, 10)}. Each "
                "needs a lock order or SERIALIZABLE with retry, stated in the design; a `race` "
                "in dbtruth.yaml lets `dbtruth prove` try it."
            )
        )
    practices = facts.manifest.practices
    declared = facts.declared(practices.transaction_boundaries if practices else None)
    if declared:
        section.evidence.append("dbtruth.yaml `practices.transaction_boundaries`")
        section.blocks.append(Paragraph(f"Transaction boundaries: {declared.describe()}."))
    else:
        section.open_questions += [
            "Where does each business operation commit, and at which isolation level?",
            "Which writes are retried, and what makes a retry safe (idempotency key)?",
            "In which order are rows locked, to keep deadlocks out?",
        ]
    return section


def indexes(facts: Facts) -> Section:
    section = Section(8, "Index and Query Plan", "Expected query plans and index ownership.")
    catalog = facts.catalog
    methods = Counter(i.method for i in catalog.indexes)
    unique = sum(1 for i in catalog.indexes if i.unique)
    partial = sum(1 for i in catalog.indexes if i.predicate)
    section.evidence.append(
        f"catalog: {len(catalog.indexes)} indexes ("
        + md_text(", ".join(f"{n} {m}" for m, n in methods.most_common()))
        + f"; {unique} unique, {partial} partial)"
    )
    section.evidence.append("rules X001–X006")
    problems = facts.findings("X001", "X002", "X003", "X004", "X005", "X006", "I002")
    if problems:
        by_rule = Counter(f"{f.code} {f.name}" for f in problems)
        section.blocks.append(
            Table(("Rule", "Findings"), tuple((k, str(n)) for k, n in sorted(by_rule.items())))
        )
    else:
        section.blocks.append(Paragraph("No duplicate, redundant, invalid or missing index found."))
    contracts = [q for q in facts.manifest.workload if q.contract]
    if contracts:
        kept = [q.name for q in contracts if not facts.plans.breaches(q.name)]
        where = (
            "on the live target."
            if facts.plans.on_live
            else "on the copy of the SQL files, which holds none of production's sizes."
        )
        planned = (
            f"{len(kept)} of them kept by the plan PostgreSQL made {where}"
            if facts.plans.planned is not None
            else f"not planned ({facts.plans.absent})."
        )
        section.evidence.append(f"plans: {where_planned(facts)}")
        section.blocks.append(
            Paragraph(
                f"{len(contracts)} workload queries carry an index contract (section 5), "
                f"declared in dbtruth.yaml; {planned}"
            )
        )
    else:
        section.open_questions.append(
            "Which index serves each top query, and who owns it (workload contracts)?"
        )
    stats = facts.catalog.stats
    if stats is None:
        section.open_questions.append(
            "Which indexes are never scanned? (needs a live target with statistics)"
        )
    else:
        since = stats.stats_reset or stats.postmaster_start
        section.evidence.append(f"live index statistics since {md_text(str(since))}")
    return section


def security(facts: Facts) -> Section:
    section = Section(
        9, "Security and Privacy", "Tenant, role, PII, RLS, export, audit, retention."
    )
    catalog = facts.catalog
    tenancy = facts.manifest.tenancy
    tables = tenant_tables(facts)
    section.evidence.append(
        f"catalog: row-level security flags, {len(catalog.policies)} policies, "
        f"{len(catalog.grants)} grants; tenant key {md_text(', '.join(tenancy.key))}"
    )
    section.evidence.append("rules S001–S008")
    if tables:
        if len(tables) <= TENANT_TABLE_ROWS:
            rows = tuple(
                (
                    md_code(t.qualified),
                    "yes" if t.rls_enabled else "**no**",
                    "yes" if t.rls_forced else "no",
                    str(len(catalog.policies_of(t))),
                )
                for t in tables
            )
            section.blocks.append(
                Table(("Tenant table", "RLS", "Forced", "Policies"), rows, "Tenant isolation")
            )
        else:
            enabled = sum(1 for t in tables if t.rls_enabled)
            section.blocks.append(
                Paragraph(f"{len(tables)} tenant tables; RLS enabled on {enabled}.")
            )
    else:
        section.blocks.append(
            Paragraph(
                f"No table carries a tenant key ({md_text(', '.join(tenancy.key))}): the "
                "database is single-tenant, or its tenant key has another name (tenancy.key)."
            )
        )
    shared = shared_reference(facts)
    if shared is not None and shared.column not in tenancy.key:
        # a guess from the shape: the names matched another column, or none
        nullable = (
            f"; it may be NULL on {shared.nullable} of them"
            if shared.nullable
            else "; NOT NULL on every one"
        )
        section.blocks.append(
            Paragraph(
                f"The shape suggests another partition key (a guess): {md_code(shared.column)} "
                f"references {md_code(shared.target)} from {shared.tables} of "
                f"{counted(shared.of, 'table')}{nullable}. If it separates tenants, name it in "
                "dbtruth.yaml (tenancy.key) so the tenancy rules and this section look at it."
            )
        )
    found = facts.findings("S001", "S002", "S003", "S004", "S005", "S006", "S007", "S008")
    if found:
        section.blocks.append(Paragraph(f"Security findings: {finding_sample(found)}."))
    definers = [f for f in catalog.functions if f.security_definer]
    if definers:
        section.blocks.append(
            Paragraph(
                f"{counted(len(definers), 'SECURITY DEFINER function')} "
                f"{verb(len(definers), 'runs', 'run')} with the owner's rights: "
                f"{listing([f.qualified for f in definers])}."
            )
        )
    personal = personal_data_columns(facts)
    if personal:
        section.blocks.append(
            Paragraph(
                f"{counted(len(personal), 'column')} {verb(len(personal), 'is', 'are')} named "
                "like personal data (a name heuristic, "
                f"not a classification): {listing(personal, 12)}."
            )
        )
        section.open_questions.append(
            "Which columns hold personal or regulated data, and who may read them?"
        )
    retention = facts.manifest.retention
    if retention:
        section.evidence.append("dbtruth.yaml `retention`")
        kept: list[tuple[str, ...]] = []
        for key, entry in retention.items():
            holds, check = retention_check(facts, key, entry)
            kept.append(
                (
                    md_code(key),
                    md_prose(entry.keep),
                    md_prose(entry.method) if entry.method else "—",
                    md_prose(entry.evidence) if entry.evidence else "—",
                    ("declared; " if holds else "**contradicted**: ") + check,
                )
            )
        section.blocks.append(
            Table(("Table", "Keep", "Method", "Evidence", "Catalog"), tuple(kept), "Retention")
        )
    else:
        section.open_questions.append("How long is each kind of data kept, and how is it purged?")
    section.open_questions.append(
        "Who outside the application (support, analysts, exports) can read the data, and is "
        "that access audited?"
    )
    return section
