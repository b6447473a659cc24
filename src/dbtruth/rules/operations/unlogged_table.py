"""O003 unlogged-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("O003", "unlogged-table", Severity.WARNING)
def unlogged_table(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds UNLOGGED tables.

    ## Why is this bad?
    An unlogged table is emptied after a crash, is not replicated to standbys and is not in
    physical backups' consistent state: after a failover it is empty on the new primary. That is
    right for a rebuildable cache and wrong for anything that is truth (§3.1, §3.10
    "Correctness without recovery is fragile correctness"). Declare it a cache in the manifest
    and ignore this finding with that reason.

    ## Example
    ```sql
    CREATE UNLOGGED TABLE case_assignment (...);
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_assignment SET LOGGED;
    ```

    ## Fix safety
    SET LOGGED writes the whole table to WAL under ACCESS EXCLUSIVE: slow on a large table.

    ## References
    PostgreSQL manual CREATE TABLE (UNLOGGED); playbook §3.1, §3.10.
    """
    for table in own_tables(catalog):
        if table.persistence != "unlogged":
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} is UNLOGGED: it is emptied by a crash and missing on replicas "
            "after failover",
            Fix(
                "log it, unless it is a rebuildable cache",
                sql=f"ALTER TABLE {qualified(table.schema, table.name)} SET LOGGED;",
                lock_safe=False,
                note="writes the table to WAL under ACCESS EXCLUSIVE",
            ),
        )
