"""How a rule declares itself. The settings every rule reads are built from dbtruth.yaml in
`dbtruth.manifest.settings` and re-exported here, where rules import them from.

`@rule` attaches a RuleSpec to the function and registers nothing: the registry is the explicit
tuple in `dbtruth.rules`. The rule's docstring is its documentation, read by `dbtruth rule CODE`,
SARIF `rules[]` and the meta-tests, under fixed headings.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dbtruth.findings import Severity, Violation
from dbtruth.manifest.settings import DEFAULT_TENANT_KEYS, Settings
from dbtruth.model.migration import MigrationState, MigrationStatement

if TYPE_CHECKING:
    from dbtruth.model import Catalog
    from dbtruth.model.decisions import Adr, DecisionFacts
    from dbtruth.model.ops import OpsFacts
    from dbtruth.model.workload import PlannedQuery

DOC_HEADINGS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "References",
)

FAMILIES = {
    "T": "truth & projections",
    "I": "invariants & keys",
    "G": "grain",
    "H": "time & history",
    "X": "indexes & workload",
    "S": "security & tenancy",
    "O": "operations",
    "D": "decisions",
    "M": "migration safety",
}


class RuleCheck(Protocol):
    def __call__(self, catalog: Catalog, settings: Settings) -> Iterator[Violation]: ...


class MigrationCheck(Protocol):
    """A migration rule sees one statement and the state it runs in (transaction, timeouts,
    which tables are new), in apply order."""

    def __call__(
        self, statement: MigrationStatement, state: MigrationState, settings: Settings
    ) -> Iterator[Violation]: ...


class WorkloadCheck(Protocol):
    """A workload rule sees one query as PostgreSQL planned it (or failed to), with the catalog
    of the database that planned it."""

    def __call__(
        self, planned: PlannedQuery, catalog: Catalog, settings: Settings
    ) -> Iterator[Violation]: ...


class OpsCheck(Protocol):
    """An operations rule sees what a live server showed of its operation (model.ops)."""

    def __call__(self, facts: OpsFacts, settings: Settings) -> Iterator[Violation]: ...


class DecisionCheck(Protocol):
    """A decision rule sees the ADR folder and what `adr check` found out about each ADR, and
    says where in an ADR each problem is: (violation, the ADR, its line)."""

    def __call__(
        self, facts: DecisionFacts, settings: Settings
    ) -> Iterator[tuple[Violation, Adr, int]]: ...


@dataclass(frozen=True, slots=True)
class RuleSpec:
    code: str
    name: str
    severity: Severity
    live_only: bool
    check: RuleCheck
    doc: str
    opt_in: bool = False  # runs only when selected by code or name
    # "catalog": run by check over a catalog; "migration": by migrate lint; "workload": by
    # workload, over each planned query; "ops": by ops, over a live server's facts;
    # "decision": by adr check, over the ADR folder
    kind: str = "catalog"
    # migration rules: the statement node types the rule looks at (empty: every statement);
    # the lint runner skips the rule for other statements
    reads: tuple[type, ...] = ()

    @property
    def family(self) -> str:
        return FAMILIES[self.code[0]]

    @property
    def summary(self) -> str:
        return self.section("What it does").split("\n\n")[0].replace("\n", " ").strip()

    def section(self, heading: str) -> str:
        return doc_sections(self.doc).get(heading, "")


Check = TypeVar("Check", RuleCheck, MigrationCheck, WorkloadCheck, OpsCheck, DecisionCheck)


def _declare(
    code: str, name: str, severity: Severity, kind: str, **more: Any
) -> Callable[[Check], Check]:
    """Attach a RuleSpec of `kind` to the rule function, its docstring as documentation."""

    def attach(check: Check) -> Check:
        check.spec = RuleSpec(  # type: ignore[attr-defined]
            code=code,
            name=name,
            severity=severity,
            check=check,  # type: ignore[arg-type]
            doc=inspect.cleandoc(check.__doc__ or ""),
            kind=kind,
            **{"live_only": False, **more},
        )
        return check

    return attach


def rule(
    code: str, name: str, severity: Severity, *, live_only: bool = False, opt_in: bool = False
) -> Callable[[RuleCheck], RuleCheck]:
    """Declare a catalog rule. `live_only` rules need statistics only a live server has;
    `opt_in` rules encode a house style rather than a defect and run only when selected."""
    return _declare(code, name, severity, "catalog", live_only=live_only, opt_in=opt_in)


def migration_rule(
    code: str, name: str, severity: Severity, *, reads: tuple[type, ...] = ()
) -> Callable[[MigrationCheck], MigrationCheck]:
    """Declare a migration rule, run by `dbtruth migrate lint` on every statement whose parse
    node is one of `reads` (every statement when empty)."""
    return _declare(code, name, severity, "migration", reads=reads)


def workload_rule(
    code: str, name: str, severity: Severity
) -> Callable[[WorkloadCheck], WorkloadCheck]:
    """Declare a workload rule, run by `dbtruth workload` on every query it planned."""
    return _declare(code, name, severity, "workload")


def ops_rule(code: str, name: str, severity: Severity) -> Callable[[OpsCheck], OpsCheck]:
    """Declare an operations rule, run by `dbtruth ops` on a live server's facts."""
    return _declare(code, name, severity, "ops", live_only=True)


def decision_rule(
    code: str, name: str, severity: Severity
) -> Callable[[DecisionCheck], DecisionCheck]:
    """Declare a decision rule, run by `dbtruth adr check` over the ADR folder."""
    return _declare(code, name, severity, "decision")


def spec_of(
    check: RuleCheck | MigrationCheck | WorkloadCheck | OpsCheck | DecisionCheck,
) -> RuleSpec:
    spec: RuleSpec = check.spec  # type: ignore[union-attr]
    return spec


_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)


def doc_sections(doc: str) -> dict[str, str]:
    """Split a rule docstring into its '## Heading' sections."""
    parts = _HEADING.split(doc)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


__all__ = [
    "DEFAULT_TENANT_KEYS",
    "DOC_HEADINGS",
    "FAMILIES",
    "MigrationCheck",
    "RuleCheck",
    "RuleSpec",
    "Settings",
    "doc_sections",
    "migration_rule",
    "rule",
    "spec_of",
]
