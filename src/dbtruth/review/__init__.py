"""`dbtruth review`: the playbook's architecture review (§7), its checklist (§6) and its maturity
model (§11), written from the catalog, dbtruth.yaml, the ADRs and the results of `check`.

`build_review` gathers the facts once and hands them to one function per section; the
renderers in dbtruth.report only lay the result out.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dbtruth.engine import Result
from dbtruth.findings import Severity
from dbtruth.manifest.config import Manifest
from dbtruth.model import Catalog
from dbtruth.review.adr_links import attach as attach_adrs
from dbtruth.review.checklist import answer_checklist
from dbtruth.review.facts import Facts
from dbtruth.review.maturity import assess
from dbtruth.review.model import (
    NO_HEALTH,
    NO_PLANS,
    NO_PROOFS,
    FindingGroup,
    Health,
    Plans,
    Proofs,
    Review,
)
from dbtruth.review.sections.behaviour import indexes, security, transactions
from dbtruth.review.sections.data import (
    critical_invariants,
    proposed_design,
    source_of_truth,
    workload,
)
from dbtruth.review.sections.decision import (
    alternatives,
    context_section,
    decision,
    decision_summary,
    revisit_triggers,
)
from dbtruth.review.sections.operations import failure_modes, migration, operations
from dbtruth.spec import FAMILIES


def build_review(
    catalog: Catalog,
    manifest: Manifest,
    result: Result,
    *,
    target: str,
    manifest_path: Path | None,
    target_paths: tuple[Path, ...],
    today: date,
    notes: tuple[str, ...] = (),
    proofs: Proofs = NO_PROOFS,
    plans: Plans = NO_PLANS,
    health: Health = NO_HEALTH,
) -> Review:
    facts = Facts(
        catalog, manifest, manifest_path, result, target_paths, today, proofs, plans, health
    )
    checklist = answer_checklist(facts)
    maturity = assess(facts)
    sections = [
        decision_summary(facts, maturity, checklist),
        context_section(facts),
        source_of_truth(facts),
        critical_invariants(facts),
        workload(facts),
        proposed_design(facts),
        transactions(facts),
        indexes(facts),
        security(facts),
        migration(facts),
        operations(facts),
        failure_modes(facts),
        alternatives(facts),
        decision(facts, maturity),
        revisit_triggers(facts),
    ]
    attach_adrs(sections, facts.adrs)
    groups = []
    for family in FAMILIES.values():
        found = tuple(f for f in result.findings if f.family == family)
        if found:
            ordered = sorted(found, key=lambda f: (-f.severity, f.code, f.object.path))
            groups.append(FindingGroup(family, tuple(ordered)))
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for finding in result.findings:
        counts[finding.severity.label] += 1
    # A scratch database has a throwaway name; the target's folder or file names the design.
    name = catalog.database
    if target_paths and not catalog.is_live and not catalog.source.startswith("snapshot"):
        first = target_paths[0].resolve()
        name = _design_name(first)
    return Review(
        title=f"Database Architecture Review: {name}",
        target=target,
        source=catalog.source,
        server_version=catalog.server_version,
        generated=today.isoformat(),
        sections=sections,
        checklist=checklist,
        maturity=maturity,
        findings=tuple(groups),
        suppressed=tuple((s.finding, s.reason) for s in result.suppressed),
        summary_counts=counts,
        load_problems=catalog.load_problems,
        notes=(*notes, *facts.adr_problems, *(proofs.proved.notes if proofs.proved else ())),
    )


# Folder names that say where SQL lives, not whose design it is: the review names the nearest
# folder above them instead (…/langfuse/packages/shared/prisma/migrations -> shared).
_PLACE_NAMES = frozenset(
    {"migrations", "migration", "sql", "schema", "schemas", "db", "database", "ddl", "prisma",
     "persistence", "src", "versioned", "up", "deltas", "delta", "tenant", "postgres",
     "postgresql", "pg", "data", "sql_migrations", "db_migrations", "packages", "shared"}
)  # fmt: skip


def _design_name(target: Path) -> str:
    """The target folder's name (a file's stem), or the nearest folder above it whose name is
    not only a place for SQL (`migrations`, `sql`, `schema`)."""
    own = target.name if target.is_dir() else target.stem
    folders = (target, *target.parents) if target.is_dir() else target.parents
    names = [own, *(f.name for f in folders if f.name)]
    return next((n for n in names if n.lower() not in _PLACE_NAMES), own)
