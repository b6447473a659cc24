"""T001 projection-without-contract."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.spec import Settings, rule

DERIVED_ROLES = ("projection", "cache", "snapshot", "integration")
CONTRACT = ("sources", "rebuild", "freshness", "drift_check")


def answered(value: str | list[str] | None) -> bool:
    """A contract part counts once it is written and is not a TODO left by `dbtruth init`."""
    values = value if isinstance(value, list) else [value] if value else []
    return any(not v.strip().upper().startswith("TODO") for v in values)


@rule("T001", "projection-without-contract", Severity.WARNING)
def projection_without_contract(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    For every table `dbtruth.yaml` declares a projection, cache, snapshot or integration copy,
    finds the parts of its contract the manifest leaves out: its source tables, its rebuild
    path, its freshness contract and its drift check.

    ## Why is this bad?
    "Every non-truth copy must have a rebuild path, freshness contract, and drift detection"
    (playbook 3.1). A copy that cannot be rebuilt silently becomes a second source of truth
    (Principle 8); one without a freshness contract is read as current when it is not; one
    without a drift check diverges unnoticed until two reports disagree (Principle 5, §9
    "Search stale").

    ## Example
    ```yaml
    truth:
      casework.case_search: {role: projection, owner: search team}
    ```

    ## Use instead
    ```yaml
    truth:
      casework.case_search:
        role: projection
        owner: search team
        sources: [casework.case_file]
        rebuild: TRUNCATE + INSERT ... SELECT from case_file (job reindex-cases)
        freshness: 1 minute
        drift_check: SELECT count(*) FROM case_file f LEFT JOIN case_search s USING (id) ...
    ```

    A part still reading "TODO…", as `dbtruth init` leaves it, counts as missing.

    ## Fix safety
    No SQL fix: the contract is written in dbtruth.yaml by the copy's owner.

    ## References
    Playbook 3.1 Source of Truth vs Projection, 3.7 Denormalization Requires Ownership,
    Principle 8.
    """
    relations = [t.qualified for t in catalog.tables] + [v.qualified for v in catalog.views]
    for pattern, role in settings.design.truth.items():
        if role.role not in DERIVED_ROLES:
            continue
        missing = [part for part in CONTRACT if not answered(getattr(role, part))]
        if not missing:
            continue
        matched = [r for r in relations if fnmatch.fnmatchcase(r, pattern)] or [pattern]
        for name in matched:
            schema, _, table = name.rpartition(".")
            yield Violation(
                ObjectRef("table", schema, table),
                f"{name} is declared a {role.role} but its contract has no "
                f"{', '.join(m.replace('_', ' ') for m in missing)}",
                Fix("complete the copy's contract in dbtruth.yaml: " + ", ".join(missing)),
                evidence=(("role", role.role), ("missing", ", ".join(missing))),
            )
