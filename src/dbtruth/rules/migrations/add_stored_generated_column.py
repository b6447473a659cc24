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
    Finds `ADD COLUMN … GENERATED ALWAYS AS (…) STORED` on an existing table; one finding per
    ALTER TABLE, naming every stored column it adds, since the table is rewritten once.

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
    or, for a column that is indexed (a virtual one cannot be), a plain column filled by a
    batched backfill and kept current by a trigger.

    ## Fix safety
    Unsafe to switch blindly: a virtual column cannot be indexed, and is computed on every
    read; a trigger is new code on every write.

    ## References
    PostgreSQL: Generated Columns; ALTER TABLE, ADD COLUMN.
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    stored = [
        str(column.colname)
        for column in added_columns(commands)
        if any(
            c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind != "v"
            for c in column.constraints or ()
        )
    ]
    if not stored:
        return
    # One ALTER TABLE rewrites the table once, however many columns it adds: one finding.
    names = ", ".join(stored)
    # A wide ALTER (temporal adds 24 columns in one) is named by its first few; the evidence
    # lists them all.
    shown = names if len(stored) <= 5 else f"{', '.join(stored[:5])} and {len(stored) - 5} more"
    yield Violation(
        table_ref(table),
        f"ADD COLUMN {shown} … STORED: one rewrite of {table} under ACCESS EXCLUSIVE computes "
        f"and writes {'them' if len(stored) > 1 else 'it'} for every row",
        Fix(
            "on PostgreSQL 18 make a column that is never indexed VIRTUAL (a virtual column "
            "cannot be indexed); otherwise add a plain column, fill it in batches, and keep it "
            "current with a BEFORE INSERT OR UPDATE trigger",
            lock_safe=False,
            behaviour_change=True,  # a virtual column is computed on read; a trigger is new code
        ),
        evidence=(("stored generated columns", names),),
        discriminator=where(statement),
    )
