"""T002 table-without-declared-role."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("T002", "table-without-declared-role", Severity.INFO)
def table_without_declared_role(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Once `dbtruth.yaml` has a `truth` section, finds tables it gives no role (no key or glob
    matches them). Without a `truth` section the rule says nothing: the map is not started yet.

    ## Why is this bad?
    "Is this table the truth, a cache, a projection, a snapshot, or an integration artifact?"
    is the first question of the playbook (3.1). A table outside the authority map has no
    declared owner and no rebuild or correction path: when it disagrees with another table,
    nobody knows which one is right (Principle 5).

    ## Example
    ```yaml
    truth:
      casework.case_file: {role: truth, owner: cases team}
    # casework.case_search exists but is not mentioned
    ```

    ## Use instead
    ```yaml
    truth:
      casework.case_file: {role: truth, owner: cases team}
      casework.case_search: {role: projection, owner: search team, sources: [...], ...}
    ```

    ## Fix safety
    No SQL fix: add the table (or a glob covering it) to the `truth` section.

    ## References
    Playbook 3.1 Source of Truth vs Projection, §6.1 Truth and Ownership, §11 Level 3
    ("Data authority map").
    """
    patterns = list(settings.design.truth)
    if not patterns:
        return
    for table in own_tables(catalog):
        if any(fnmatch.fnmatchcase(table.qualified, p) for p in patterns):
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} has no role in the data authority map (truth section)",
            Fix("declare its role and owner in dbtruth.yaml's truth section"),
        )
