"""M002 concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import predict, table_ref, where
from dbtruth.spec import Settings, migration_rule


def _concurrent(node: object) -> bool:
    if isinstance(node, ast.IndexStmt | ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    return False


@migration_rule(
    "M002",
    "concurrently-in-transaction",
    Severity.ERROR,
    reads=(ast.IndexStmt, ast.DropStmt, ast.ReindexStmt),
)
def concurrently_in_transaction(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY`
    that would run inside a transaction: the runner wraps the file in one (most do) and the
    file carries no "no transaction" marker, or an explicit `BEGIN` is open.

    ## Why is this bad?
    PostgreSQL refuses them there ("cannot run inside a transaction block"): the deploy
    fails halfway through the migration set. A migration that only works when pasted into
    psql is a migration that fails in production (§3.8).

    ## Example
    ```sql
    -- 0042_index.sql, run by a runner that wraps each file in a transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    -- postgres-migrations disable-transaction   (or your runner's marker)
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    A runner that sends the whole file as one query (Prisma; popx for an `.autocommit.`
    file) runs a file of several statements as one implicit transaction, which a COMMIT
    inside it does not leave: there the statement needs a migration file of its own.

    ## Fix safety
    Safe: the marker only changes how the runner sends the file. Keep such a file to the
    concurrent statement alone, since nothing else in it is atomic any more.

    ## References
    PostgreSQL: CREATE INDEX ("cannot be executed inside a transaction block"). Runner markers
    dbtruth recognises: `-- postgres-migrations disable-transaction`, `-- +goose NO
    TRANSACTION`, `-- atlas:txmode none`, `-- dbtruth: no-transaction`, popx `.autocommit.`.
    """
    if not state.in_transaction or not _concurrent(statement.node):
        return
    locks = predict(statement.node, state)
    relation = locks[0].relation if locks else state.qualify(None, "unknown")
    if state.one_query:
        # Prisma and popx send the file as one query: no marker helps, only a file of its own
        message = (
            f"a CONCURRENTLY statement on {relation} shares its file with other statements; "
            "the runner sends the file as one query, which PostgreSQL runs as one transaction "
            "and refuses it in: the migration fails"
        )
        fix = Fix("move the statement into a migration file of its own, alone", safe=True)
    else:
        message = (
            f"a CONCURRENTLY statement on {relation} runs inside a transaction block, where "
            "PostgreSQL refuses it: the migration fails"
        )
        fix = Fix(
            "run this file outside a transaction: add the runner's no-transaction marker "
            "(e.g. `-- dbtruth: no-transaction`) and keep the statement alone in its file",
            safe=True,
        )
    yield Violation(
        table_ref(relation),
        message,
        fix,
        discriminator=where(statement),
    )
