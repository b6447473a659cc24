"""M004 set-not-null-without-check."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.model.sqlnames import ident
from dbtruth.rules.migration_locks import (
    altered_existing_table,
    sql_name,
    table_ref,
    where,
)
from dbtruth.spec import Settings, migration_rule


@migration_rule("M004", "set-not-null-without-check", Severity.WARNING, reads=(ast.AlterTableStmt,))
def set_not_null_without_check(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ALTER COLUMN … SET NOT NULL` on an existing table when no validated
    `CHECK (column IS NOT NULL)` was added to it earlier in the migration set.

    ## Why is this bad?
    SET NOT NULL holds ACCESS EXCLUSIVE while it reads every row to prove there is no NULL:
    reads and writes wait for a full scan. Since PostgreSQL 12 a validated
    `CHECK (column IS NOT NULL)` lets SET NOT NULL skip the scan, and that CHECK can be added
    NOT VALID and validated without blocking.

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null
      CHECK (customer_id IS NOT NULL) NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;  -- next transaction
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;            -- no scan now
    ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
    ```

    ## Fix safety
    Safe on PostgreSQL 12 and later; older servers scan anyway.

    ## References
    PostgreSQL: ALTER TABLE, SET NOT NULL ("the scan is skipped if a valid CHECK constraint
    proves no NULL can exist").
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    node = statement.node
    for cmd in commands:
        if cmd.subtype != AlterTableType.AT_SetNotNull:
            continue
        if (table, cmd.name) in state.not_null_checks:
            continue
        relation = sql_name(node.relation)
        check = ident(f"{table.split('.', 1)[1]}_{cmd.name}_not_null"[:63])
        sql = (
            f"ALTER TABLE {relation} ADD CONSTRAINT {check} CHECK ({ident(cmd.name)} IS NOT NULL) "
            f"NOT VALID;\nALTER TABLE {relation} VALIDATE CONSTRAINT {check};\n"
            f"ALTER TABLE {relation} ALTER COLUMN {ident(cmd.name)} SET NOT NULL;\n"
            f"ALTER TABLE {relation} DROP CONSTRAINT {check};"
        )
        yield Violation(
            table_ref(table),
            f"SET NOT NULL on {table}.{cmd.name} scans every row under ACCESS EXCLUSIVE",
            Fix(
                "prove it first with a CHECK (… IS NOT NULL) added NOT VALID and validated",
                safe=True,
                sql=sql,
                note="needs PostgreSQL 12+; run VALIDATE in its own transaction",
            ),
            discriminator=f"{where(statement)}:{cmd.name}",
        )
