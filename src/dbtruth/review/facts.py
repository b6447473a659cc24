"""The evidence a review is written from, gathered once: the catalog, dbtruth.yaml, the rule
results, the ADR folder and the files the manifest points at.

Every section, checklist answer and maturity criterion reads these facts instead of the raw
inputs, so each "yes" and "no" is traceable to a rule result, a catalog fact or a manifest entry.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from dbtruth.engine import Result
from dbtruth.errors import DbtruthError
from dbtruth.findings import Finding
from dbtruth.inert import md_code, md_prose
from dbtruth.manifest.config import Manifest
from dbtruth.manifest.design import TableRole
from dbtruth.model import Catalog, Table
from dbtruth.model.decisions import Adr, ConfirmationResult
from dbtruth.ops.drill_history import DrillRecord, read_history
from dbtruth.review.model import NO_HEALTH, NO_PLANS, NO_PROOFS, Health, Plans, Proofs
from dbtruth.rules.naming import MIGRATION_HISTORY_TABLES, own_tables
from dbtruth.sources.adrs import read_adrs
from dbtruth.sources.sqltext import (
    is_down_migration,
    is_migration_file,
    only_comments,
    postgres_twins,
    read_text,
)


@dataclass(frozen=True)
class Declared:
    """A manifest value that names a practice or a document: a sentence or a relative path."""

    text: str
    path: Path | None  # resolved when the text looks like a relative file path
    exists: bool | None  # None when the text is a sentence, not a path

    def describe(self) -> str:
        if self.path is None:
            return f"declared in dbtruth.yaml: {md_prose(self.text)}"
        if self.exists:
            # A file that exists says the practice is written down, not that it is followed.
            return f"declared in {md_code(self.text)} (the file exists; dbtruth does not judge it)"
        return f"{md_code(self.text)} is named in dbtruth.yaml but the file does not exist"


@dataclass
class Facts:
    catalog: Catalog
    manifest: Manifest
    manifest_path: Path | None
    result: Result
    target_paths: tuple[Path, ...]
    today: date
    proofs: Proofs = NO_PROOFS  # what `dbtruth prove` showed, or why it did not run
    plans: Plans = NO_PLANS  # what `dbtruth workload` showed, or why it did not run
    health: Health = NO_HEALTH  # what `dbtruth ops` read of a live server, or why not
    _by_code: dict[str, list[Finding]] = field(init=False, repr=False)
    memo: dict[str, object] = field(default_factory=dict, repr=False)  # signals.py results

    def __post_init__(self) -> None:
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.result.findings:
            by_code[finding.code].append(finding)
        self._by_code = by_code

    # --- rule results -------------------------------------------------------------------

    def findings(self, *codes: str) -> list[Finding]:
        return [f for code in codes for f in self._by_code.get(code, [])]

    def suppressed(self, *codes: str) -> list[tuple[Finding, str]]:
        return [(s.finding, s.reason) for s in self.result.suppressed if s.finding.code in codes]

    def ran(self, *codes: str) -> bool:
        return all(code in self.result.ran for code in codes)

    # --- catalog ------------------------------------------------------------------------

    @cached_property
    def tables(self) -> tuple[Table, ...]:
        """The tables a design is made of (partitions and foreign tables left out)."""
        return tuple(own_tables(self.catalog))

    @cached_property
    def migration_history(self) -> tuple[str, ...]:
        return tuple(
            t.qualified for t in self.catalog.tables if t.name.lower() in MIGRATION_HISTORY_TABLES
        )

    @cached_property
    def sql_files(self) -> tuple[Path, ...]:
        files: list[Path] = []
        for path in self.target_paths:
            if path.is_dir():
                # files only: a migration folder may itself be named like one (Langfuse's
                # 20250517273700_add_table_view_presets.sql/ holds its migration.sql)
                files += sorted(f for f in path.rglob("*.sql") if f.is_file())
            elif path.suffix == ".sql" or path.name.endswith(".sql.postgres"):
                files.append(path)
        return tuple(files)

    @cached_property
    def down_migrations(self) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
        """The down (rollback) files PostgreSQL would run, split into those that hold a
        statement and those that do not: popx writes an empty down file where a migration has
        no way back, and an empty file is no rollback however many there are. A file that
        cannot be read as text counts as holding none."""
        written: list[Path] = []
        empty: list[Path] = []
        for path in self.sql_files:
            if not is_down_migration(path.name):
                continue
            try:
                holds = not only_comments(read_text(path))
            except DbtruthError:
                holds = False
            (written if holds else empty).append(path)
        return tuple(written), tuple(empty)

    @cached_property
    def numbered_sql_files(self) -> tuple[Path, ...]:
        """SQL files whose names, or whose folders' names (Prisma's
        `20240111152124_name/migration.sql`), start with a version number: an ordered
        migration set. The up migrations PostgreSQL runs only: not the down files, not other
        databases' dialects, and one file per version where popx keeps a `.postgres.` twin
        (Kratos' 702 such files are 351 migrations)."""
        numbered = [
            f
            for f in self.sql_files
            if (f.name[:1].isdigit() or f.parent.name[:1].isdigit()) and is_migration_file(f.name)
        ]
        return tuple(postgres_twins(numbered))

    # --- manifest -----------------------------------------------------------------------

    @property
    def base(self) -> Path:
        return self.manifest_path.parent if self.manifest_path else Path.cwd()

    def matches(self, pattern: str) -> bool:
        """Whether a manifest key (a qualified name or a glob) names a table or view that
        exists: a declaration about nothing is checked before it is believed."""
        names = self._relation_names
        if not any(ch in pattern for ch in "*?["):
            return pattern in names
        return any(fnmatch.fnmatchcase(name, pattern) for name in names)

    @cached_property
    def _relation_names(self) -> frozenset[str]:
        return frozenset(
            [t.qualified for t in self.catalog.tables]
            + [f"{v.schema}.{v.name}" for v in self.catalog.views]
        )

    def role_of(self, table: str) -> tuple[str, TableRole] | None:
        """The truth entry (pattern, role) covering a qualified table; exact keys win."""
        truth = self.manifest.truth
        if table in truth:
            return table, truth[table]
        for pattern, role in truth.items():
            if fnmatch.fnmatchcase(table, pattern):
                return pattern, role
        return None

    @cached_property
    def drill_history(self) -> tuple[Path, list[DrillRecord]] | None:
        """The measured restore drills dbtruth.yaml points at (operations.restore_drill_history),
        oldest first; None when it points at none."""
        operations = self.manifest.operations
        if operations is None or not operations.restore_drill_history:
            return None
        base = self.manifest_path.parent if self.manifest_path is not None else Path()
        path = base / operations.restore_drill_history
        return path, (read_history(path) if path.is_file() else [])

    def declared(self, text: str | None) -> Declared | None:
        if not text or text.strip().upper().startswith("TODO"):
            return None
        text = text.strip()
        looks_like_path = " " not in text and ("/" in text or "." in Path(text).name)
        if not looks_like_path:
            return Declared(text, None, None)
        path = self.base / text
        return Declared(text, path, path.exists())

    @cached_property
    def _adr_folder(self) -> tuple[tuple[Adr, ...], tuple[str, ...]]:
        decisions = self.manifest.decisions
        if decisions is None:
            return (), ()
        return read_adrs(self.base / decisions.adr_folder)

    @cached_property
    def adr_confirmations(self) -> dict[Path, list[ConfirmationResult]]:
        """Each ADR's confirmations, judged from this review's own results: the rules it ran,
        the invariants it proved, the queries it planned (adr check runs them all)."""
        from dbtruth.adr.confirm import broken_probe, judged

        findings: dict[str, list[str]] = {code: [] for code in self.result.rule_seconds}
        for finding in self.result.findings:
            findings.setdefault(finding.code, []).append(finding.object.path)
        proved = self.proofs.proved
        proofs = (
            {p.subject.id: (p.status.value, p.reason or broken_probe(p)) for p in proved.proofs}
            if proved is not None
            else None
        )
        planned = self.plans.planned
        contracts: dict[str, list[str]] | None = None
        if planned is not None:
            contracts = {q.query.name: [] for q in planned.planned}
            for finding in planned.result.findings:
                if finding.object.kind == "query":
                    contracts.setdefault(finding.object.name, []).append(
                        f"{finding.code} {finding.message}"
                    )
        where = "this review's target"
        return {
            adr.path: judged(adr, self.manifest, findings, proofs, contracts, where)
            for adr in self.adrs
        }

    @property
    def adrs(self) -> tuple[Adr, ...]:
        return self._adr_folder[0]

    @property
    def adr_problems(self) -> tuple[str, ...]:
        return self._adr_folder[1]

    @property
    def adr_folder_exists(self) -> bool:
        decisions = self.manifest.decisions
        return decisions is not None and (self.base / decisions.adr_folder).is_dir()
