"""M011 missing-lock-timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import existing_locks, table_ref
from dbtruth.spec import Settings, migration_rule


@migration_rule("M011", "missing-lock-timeout", Severity.WARNING)
def missing_lock_timeout(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds the first statement of a migration file that takes an ACCESS EXCLUSIVE lock on an
    existing table while no `SET lock_timeout` (or `SET LOCAL lock_timeout`) came before it
    in the file. Reported once per file.

    ## Why is this bad?
    An ACCESS EXCLUSIVE request waits behind any long transaction on the table, and while it
    waits, every later query on the table queues behind it: a one-millisecond `ADD COLUMN`
    turns into an outage. A lock_timeout makes the migration fail fast instead, to be
    retried (runbook: lock storm).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '2s';
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Fix safety
    Safe: the migration may now fail on a busy table, which is the point; retry it.

    ## References
    PostgreSQL: lock_timeout; Explicit Locking (lock queue). Playbook §3.8, §10.1.
    """
    if state.lock_timeout_set:
        return
    key = f"M011:{statement.file}"
    if key in state.reported:
        return
    strict = [lock for lock in existing_locks(statement, state) if lock.mode == "ACCESS EXCLUSIVE"]
    if not strict:
        return
    state.reported.add(key)
    table = strict[0].relation
    yield Violation(
        table_ref(table),
        f"{Path(statement.file).name} takes ACCESS EXCLUSIVE on {table} with no lock_timeout: "
        "if it waits, every query on the table queues behind it",
        Fix("start the migration with SET lock_timeout", sql="SET lock_timeout = '2s';", safe=True),
        discriminator=Path(statement.file).name,
    )
