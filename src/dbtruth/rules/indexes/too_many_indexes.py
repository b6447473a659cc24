"""X005 too-many-indexes."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("X005", "too-many-indexes", Severity.INFO)
def too_many_indexes(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with more indexes than `max_indexes_per_table` (default 10).

    ## Why is this bad?
    Each index multiplies write cost (every INSERT and non-HOT UPDATE touches all of them) and
    competes for cache. Past a handful, indexes usually accreted reactively — "Index reaktif" is
    a Level 0 trait of the maturity model — rather than as contracts with known queries
    (Principle 4, §6.6 "Write amplification diterima?").

    ## Example
    ```sql
    -- eleven CREATE INDEX statements on case_file, most added after incidents
    ```

    ## Use instead
    ```sql
    -- one index per declared workload query; composite indexes that serve several
    ```

    ## Fix safety
    No SQL fix: which index to drop depends on the workload (see X004 unused-index on a live
    database, and the plans of the manifest's workload queries).

    ## References
    PostgreSQL manual 11 Indexes; playbook Principle 4, §6.6, §11 (Level 0).
    """
    for table in own_tables(catalog):
        indexes = catalog.indexes_of(table)
        if len(indexes) <= settings.max_indexes_per_table:
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} has {len(indexes)} indexes (more than "
            f"{settings.max_indexes_per_table}); each one taxes every write",
            Fix("give each index an owner and a query; drop the ones without"),
            evidence=(("indexes", ", ".join(i.name for i in indexes)),),
        )
