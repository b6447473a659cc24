"""M013 blocking-maintenance."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import predict, table_ref, where
from dbtruth.spec import Settings, migration_rule


@migration_rule(
    "M013",
    "blocking-maintenance",
    Severity.WARNING,
    reads=(ast.VacuumStmt, ast.ClusterStmt, ast.ReindexStmt),
)
def blocking_maintenance(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `VACUUM FULL`, `CLUSTER` and `REINDEX` without `CONCURRENTLY` in a migration.

    ## Why is this bad?
    VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE: no reads, no writes
    until done. REINDEX blocks writes to the table (and reads that use the index) for the
    whole rebuild. Maintenance of that weight is an operation with a window and a runbook,
    not a side effect of a deploy.

    ## Example
    ```sql
    VACUUM FULL orders;
    REINDEX INDEX orders_customer_idx;
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY orders_customer_idx;   -- PostgreSQL 12+
    ```
    For bloat, pg_repack or a planned window instead of VACUUM FULL.

    ## Fix safety
    REINDEX CONCURRENTLY is safe (outside a transaction); the others need a plan.

    ## References
    PostgreSQL: VACUUM, CLUSTER, REINDEX ("Rebuilding Indexes Concurrently").
    """
    node = statement.node
    if not isinstance(node, ast.VacuumStmt | ast.ClusterStmt | ast.ReindexStmt):
        return
    for lock in predict(node, state):
        if lock.mode == "SHARE UPDATE EXCLUSIVE" or state.is_new(lock.relation):
            continue  # REINDEX CONCURRENTLY, or a table created in this migration
        concurrent_ok = isinstance(node, ast.ReindexStmt) and state.pg_version >= 120000
        yield Violation(
            table_ref(lock.relation),
            f"{lock.why} on {lock.relation} holds {lock.mode} for the whole rebuild",
            Fix(
                "REINDEX … CONCURRENTLY outside a transaction"
                if concurrent_ok
                else "run it as planned maintenance (or pg_repack), not in a migration"
            ),
            discriminator=where(statement),
        )
