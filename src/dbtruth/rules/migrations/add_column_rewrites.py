"""M006 add-column-rewrites."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import (
    added_columns,
    altered_existing_table,
    column_rewrites,
    table_ref,
    where,
)
from dbtruth.spec import Settings, migration_rule


def _generated(column: ast.ColumnDef) -> bool:
    return any(c.contype == ConstrType.CONSTR_GENERATED for c in column.constraints or ())


@migration_rule("M006", "add-column-rewrites", Severity.WARNING, reads=(ast.AlterTableStmt,))
def add_column_rewrites(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ADD COLUMN` on an existing table that fills every row: a default that calls a
    volatile function (`gen_random_uuid()`, `random()`, `clock_timestamp()`, `nextval()`, a
    function the migration set creates VOLATILE — PostgreSQL's default), a serial or identity
    column, or — before PostgreSQL 11 — any default. Built-in functions are judged by
    PostgreSQL's own volatility (pg_proc); a function neither built in nor created by the set
    is unknown and assumed volatile, and the message says so. The server version comes from
    `--pg-version` or the target.

    ## Why is this bad?
    Since PostgreSQL 11 a default that calls no volatile function (a constant, `now()`, a
    STABLE or IMMUTABLE function) is evaluated once and stored in the catalog: adding the
    column is instant. A volatile default is evaluated for every row, so the table is
    rewritten under ACCESS EXCLUSIVE, blocking reads and writes for as long as the rewrite
    takes.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid;                      -- instant
    ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();  -- new rows
    -- backfill old rows in batches, then add the NOT NULL through a validated CHECK (M004)
    ```

    ## Fix safety
    No automatic fix: the backfill is a batched job (Principle 7).

    ## References
    PostgreSQL 11 release notes ("ADD COLUMN with a non-null default no longer rewrites");
    ALTER TABLE, ADD COLUMN; Function Volatility Categories; CREATE FUNCTION (VOLATILE is
    the default).
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    for column in added_columns(commands):
        if _generated(column):
            continue  # M007 reports stored generated columns
        reason = column_rewrites(column, state)
        if reason is None:
            continue
        yield Violation(
            table_ref(table),
            f"ADD COLUMN {column.colname} rewrites {table} under ACCESS EXCLUSIVE: {reason}",
            Fix(
                "add the column without the per-row value, set the default for new rows, "
                "backfill old rows in batches"
            ),
            discriminator=f"{where(statement)}:{column.colname}",
        )
