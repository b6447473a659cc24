"""M005 column-type-change."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import (
    altered_existing_table,
    session_timezone,
    table_ref,
    type_change_cost,
    where,
)
from dbtruth.spec import Settings, migration_rule


@migration_rule("M005", "column-type-change", Severity.WARNING, reads=(ast.AlterTableStmt,))
def column_type_change(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ALTER COLUMN … TYPE` on an existing table, except a change of a character column
    (its type known from the target or from earlier migrations) to `text` or an unbounded
    `varchar`, which is binary coercible and rewrites nothing. `timestamp` ↔ `timestamptz`
    (without USING or a precision) under a session TimeZone of UTC — set by the migration with
    `SET timezone`, `SET TIME ZONE` or `set_config`, on PostgreSQL 12 or later — keeps the
    table's rows; only the indexes on the column are rebuilt, which is reported as info.

    ## Why is this bad?
    Most type changes rewrite the whole table and every index on it under ACCESS EXCLUSIVE:
    nothing reads or writes the table until the rewrite ends, and running code that still
    sends the old type may fail after it. The playbook's path is expand/contract: a new
    column, a batched backfill, a switch, then dropping the old one (Principle 7).

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN amount_v2 numeric(14,2);
    -- backfill in batches, dual-write, switch readers, then:
    ALTER TABLE orders DROP COLUMN amount;
    ```

    ## Fix safety
    No automatic fix: the expand/contract steps span several deploys.

    ## References
    PostgreSQL: ALTER TABLE, SET DATA TYPE ("a table rewrite is not needed if the old type is
    binary coercible to the new one"); PostgreSQL 12 release notes (timestamp to timestamptz
    without a rewrite when the session time zone is UTC). Playbook Principle 7, §3.8.
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    for cmd in commands:
        if cmd.subtype != AlterTableType.AT_AlterColumnType or cmd.def_ is None:
            continue
        cost = type_change_cost(table, cmd.name or "", cmd.def_, state, statement.sql)
        if cost == "none":
            continue
        target = cmd.def_.typeName.names[-1].sval.lower()
        if cost == "indexes":
            yield Violation(
                table_ref(table),
                f"changing {table}.{cmd.name} to {target} keeps the table's rows (session "
                f"TimeZone {session_timezone(state)}), but rebuilds every index on the column "
                "under ACCESS EXCLUSIVE",
                Fix(
                    "if the column has a large index: DROP INDEX CONCURRENTLY before the "
                    "change and CREATE INDEX CONCURRENTLY after it",
                    lock_safe=True,
                    behaviour_change=True,
                    note="queries run without the index in between, and a unique one "
                    "enforces nothing meanwhile",
                ),
                discriminator=f"{where(statement)}:{cmd.name}",
                severity=Severity.INFO,
            )
            continue
        yield Violation(
            table_ref(table),
            f"changing the type of {table}.{cmd.name} to {target} rewrites the table and its "
            "indexes under ACCESS EXCLUSIVE",
            Fix("expand/contract: add a new column, backfill in batches, switch, drop the old"),
            discriminator=f"{where(statement)}:{cmd.name}",
        )
