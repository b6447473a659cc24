"""I010 invariant-without-detective-control."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.spec import Settings, rule


@rule("I010", "invariant-without-detective-control", Severity.WARNING)
def invariant_without_detective_control(
    catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds invariants `dbtruth.yaml` says the application or a reconciliation enforces that
    have no detective query: no SQL that returns the rows violating them.

    ## Why is this bad?
    "If an invariant cannot be fully enforced by the database, write down why and build a
    detective control" (Principle 1). An application-enforced invariant is only as true as
    every code path, script and migration; without a query that finds violations, nobody
    learns it broke until a customer or an auditor does (§6.3 "Mana yang monitored/reconciled?").

    ## Example
    ```yaml
    invariants:
      - id: current-state-matches-history
        statement: current_state equals the latest transition
        kind: cross-row
        tables: [casework.case_file]
        enforcement: application
    ```

    ## Use instead
    ```yaml
        enforcement: application
        detective_query: >-
          SELECT f.id FROM casework.case_file f ... WHERE last.to_state <> f.current_state
    ```

    ## Fix safety
    No SQL fix: the detective query is written by the invariant's owner, who schedules it
    read-only against the live database (its count of violating rows should stay 0).

    ## References
    Playbook Principle 1, 3.2 (cross-row and cross-system rows of the enforcement table), §6.3.
    """
    for invariant in settings.design.invariants:
        if invariant.enforcement not in ("application", "reconciliation"):
            continue
        if invariant.detective_query:
            continue
        yield Violation(
            ObjectRef("invariant", "", invariant.id),
            f"invariant {invariant.id} ({invariant.statement}) is enforced by the "
            f"{invariant.enforcement} only and nothing detects a violation",
            Fix("add a detective_query that returns the violating rows"),
            evidence=(("enforcement", invariant.enforcement),),
        )
