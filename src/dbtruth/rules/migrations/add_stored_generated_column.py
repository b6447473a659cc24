"""M007 add-stored-generated-column."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import added_columns, altered_existing_table, table_ref, where
from dbtruth.spec import Settings, migration_rule


@migration_rule(
    "M007", "add-stored-generated-column", Severity.WARNING, reads=(ast.AlterTableStmt,)
)
def add_stored_generated_column(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ADD COLUMN … GENERATED ALWAYS AS (…) STORED` on an existing table.

    ## Why is this bad?
    A stored generated column is computed and written for every existing row: the table is
    rewritten under ACCESS EXCLUSIVE. (PostgreSQL 18's virtual generated columns are
    computed on read and add instantly.)

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (qty * price) STORED;
    ```

    ## Use instead
    ```sql
    -- PostgreSQL 18+: computed on read, no rewrite
    ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (qty * price) VIRTUAL;
    ```
    or a plain column filled by a batched backfill and kept current by the writer.

    ## Fix safety
    Unsafe to switch blindly: a virtual column cannot be indexed.

    ## References
    PostgreSQL: Generated Columns; ALTER TABLE, ADD COLUMN.
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    for column in added_columns(commands):
        stored = [
            c for c in column.constraints or ()
            if c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind != "v"
        ]  # fmt: skip
        if stored:
            yield Violation(
                table_ref(table),
                f"ADD COLUMN {column.colname} … STORED computes and writes every row of "
                f"{table} under ACCESS EXCLUSIVE",
                Fix(
                    "on PostgreSQL 18 make it VIRTUAL, or add a plain column and backfill",
                    safe=False,
                ),
                discriminator=f"{where(statement)}:{column.colname}",
            )
