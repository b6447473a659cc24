"""M012 unbatched-data-change."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import relation_name, table_ref, where
from dbtruth.spec import Settings, migration_rule


def _always_true(where_clause: object) -> bool:
    if where_clause is None:
        return True
    return isinstance(where_clause, ast.A_Const) and getattr(where_clause.val, "boolval", False)


@migration_rule(
    "M012", "unbatched-data-change", Severity.WARNING, reads=(ast.UpdateStmt, ast.DeleteStmt)
)
def unbatched_data_change(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `UPDATE` or `DELETE` without a WHERE clause (or `WHERE true`) on an existing table
    inside a schema migration.

    ## Why is this bad?
    One statement that touches every row holds row locks on all of them until the migration
    commits, writes the whole table's worth of WAL at once, and bloats the table; in a
    wrapped migration it also keeps the DDL's locks for as long. A backfill belongs in a
    batched, resumable, idempotent job with checkpoints and throttling (Principle 7).

    ## Example
    ```sql
    UPDATE orders SET status_v2 = status;
    ```

    ## Use instead
    A backfill job that updates by key ranges (e.g. 5,000 ids per batch), commits each batch,
    records its checkpoint, and can stop and resume.

    ## Fix safety
    No automatic fix.

    ## References
    Playbook Principle 7 (backfill: chunking, checkpoint, idempotency, throttling,
    validation, observability, stop/resume).
    """
    node = statement.node
    if not isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        return
    if not _always_true(node.whereClause):
        return
    table = relation_name(node.relation, state)
    if state.is_new(table):
        return
    verb = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
    yield Violation(
        table_ref(table),
        f"{verb} of every row of {table} in a schema migration: one long transaction over "
        "the whole table",
        Fix("move it to a batched backfill job (key ranges, commit per batch, checkpoint)"),
        discriminator=where(statement),
    )
