"""M010 enum-value-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import where
from dbtruth.spec import Settings, migration_rule


@migration_rule("M010", "enum-value-in-transaction", Severity.ERROR, reads=(ast.AlterEnumStmt,))
def enum_value_in_transaction(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ALTER TYPE … ADD VALUE` inside a transaction when the server is older than
    PostgreSQL 12 (`--pg-version` or the target's version).

    ## Why is this bad?
    Before PostgreSQL 12 the statement fails inside a transaction block ("cannot be executed
    inside a transaction block"), so the migration fails on those servers. From 12 on it
    runs, but the new value cannot be used before the transaction commits.

    ## Example
    ```sql
    BEGIN;
    ALTER TYPE order_status ADD VALUE 'refunded';
    COMMIT;
    ```

    ## Use instead
    Run it in a migration outside a transaction (the runner's no-transaction marker), and
    use the value from the next migration on.

    ## Fix safety
    Safe: ADD VALUE is not undone by a rollback on old servers anyway.

    ## References
    PostgreSQL: ALTER TYPE (notes on ADD VALUE and transaction blocks; changed in 12).
    """
    node = statement.node
    if not isinstance(node, ast.AlterEnumStmt) or node.newVal is None or node.oldVal:
        return
    if not state.in_transaction or state.pg_version >= 120000:
        return
    names = [part.sval for part in node.typeName or ()]
    schema = names[-2] if len(names) > 1 else state.search_path_schema
    yield Violation(
        ObjectRef("type", schema, names[-1]),
        f"ALTER TYPE {'.'.join(names)} ADD VALUE fails inside a transaction before PostgreSQL 12",
        Fix("run this migration outside a transaction; use the value from the next one"),
        discriminator=where(statement),
    )
