"""M011 missing-lock-timeout."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import (
    MODES,
    NEW_TABLE_REFERENCE,
    blocks_writes,
    existing_locks,
    migration_name,
    table_ref,
)
from dbtruth.rules.naming import MIGRATION_HISTORY_TABLES
from dbtruth.spec import Settings, migration_rule


@migration_rule("M011", "missing-lock-timeout", Severity.WARNING)
def missing_lock_timeout(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds the first statement of a migration file that takes a lock blocking writes (SHARE or
    stronger: ALTER TABLE, CREATE INDEX, ADD FOREIGN KEY, CREATE TRIGGER, DROP …) on an
    existing table while no `SET lock_timeout` (or `SET LOCAL lock_timeout`) came before it
    in the file. Reported once per file: the timeout is a property of the session.

    ## Why is this bad?
    A lock request waits behind any long transaction on the table, and while it waits every
    later conflicting query queues behind it — for ACCESS EXCLUSIVE that is every query,
    for SHARE every writer: a one-millisecond `ADD COLUMN` turns into an outage. A
    lock_timeout makes the migration fail fast instead, to be retried (runbook: lock storm).
    Statements that lock only new tables, or no table at all, need none; a DROP TABLE is left
    to M008 (code still reading the table breaks whatever the lock does), and a new table's
    foreign key is not counted: it holds SHARE ROW EXCLUSIVE on the referenced table for an
    instant, with no scan, and blocks only its writers. Nor is a lock on the migration
    runner's own history table (schema_migrations, _prisma_migrations, flyway_schema_history
    and the like): only the runner uses it.

    A `DROP INDEX IF EXISTS` of an index no earlier migration creates is reported at info:
    dbtruth cannot tell which table it belongs to (an index a constraint made, or one made
    outside the migrations, is not followed), and if it does not exist the statement takes no
    lock at all.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Use instead
    ```sql
    SET LOCAL lock_timeout = '2s';  -- the runner wraps the file in a transaction
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Fix safety
    Safe: the migration may now fail on a busy table, which is the point; retry it. In a file
    its runner wraps in a transaction the fix is `SET LOCAL`, which ends with it; a plain SET
    would stay on the runner's session for the migrations after it. In a file its runner
    does not wrap (a no-transaction marker; Prisma, which sends the file as one query) the fix
    sets it at the file's start and resets it at its end, whether or not the file opens
    transactions of its own: a SET LOCAL would end at the file's first COMMIT. A runner
    that sends each statement on whichever connection of its pool is free (Temporal's schema
    tool) may run a SET on one session and the ALTER on another: there the fix is the role's
    own setting, for the upgrade only. It changes behaviour: every new session of that role
    gives up waiting after two seconds until it is reset — the application's too, if it
    connects as the same role. A role that keeps such a setting is declared in dbtruth.yaml
    (`rules.settings.migration_role_lock_timeout: true`), which the files cannot show; M011 is
    then quiet.

    ## References
    PostgreSQL: lock_timeout; Explicit Locking (lock queue). Playbook §3.8, §10.1.
    """
    if state.lock_timeout_active or settings.migration_role_lock_timeout:
        return
    key = f"M011:{statement.file}"
    if key in state.reported:
        return
    if _drops_tables(statement.node):
        return  # M008 speaks for a dropped table: code still using it breaks, lock or not
    blocking = [
        lock
        for lock in existing_locks(statement, state)
        if blocks_writes(lock.mode)
        and lock.why != NEW_TABLE_REFERENCE
        and lock.relation.rpartition(".")[2].lower() not in MIGRATION_HISTORY_TABLES
    ]
    if not blocking:
        return
    state.reported.add(key)
    lock = max(blocking, key=lambda item: MODES.index(item.mode))
    queued = "every query" if lock.mode == "ACCESS EXCLUSIVE" else "every writer"
    message = (
        f"{migration_name(statement.file)} takes {lock.mode} on "
        f"{'the table of index ' + lock.index if lock.index else lock.relation} with no "
        f"lock_timeout: if it waits, {queued} on the table queues behind it"
    )
    unknown = lock.index is not None and all(item.index for item in blocking)
    if_exists = unknown and bool(getattr(statement.node, "missing_ok", False))
    if if_exists:
        message += (
            f"; no earlier migration creates an index named {lock.index} (dbtruth follows "
            "CREATE INDEX), and if none exists DROP INDEX IF EXISTS takes no lock at all"
        )
    schema, _, name = lock.relation.partition(".")
    yield Violation(
        ObjectRef("index", schema, name) if lock.index else table_ref(lock.relation),
        message,
        _pooled_fix() if state.pooled else _fix(state.wrapped and not state.one_query),
        discriminator=migration_name(statement.file),
        severity=Severity.INFO if if_exists else None,
    )


def _fix(wrapped: bool) -> Fix:
    """SET LOCAL where the runner wraps the file in a transaction: the timeout ends with it. A
    plain SET would outlive the migration on the runner's session — Prisma applies every
    migration on one connection — and hold the files after it to the timeout, a later CREATE
    INDEX CONCURRENTLY included, which then gives up on its waits. In a file the runner does
    not wrap, SET at its start and RESET at its end — even where the file opens transactions
    of its own: a SET LOCAL inside one would end at its COMMIT and leave what follows
    unguarded."""
    if wrapped:
        return Fix(
            "start the migration with SET LOCAL lock_timeout",
            sql="SET LOCAL lock_timeout = '2s';",
            safe=True,
            note="LOCAL: it ends with the migration's transaction, so the runner's later "
            "migrations on the same session are not held to it",
        )
    return Fix(
        "set lock_timeout for this file only: SET at its start, RESET at its end",
        sql="SET lock_timeout = '2s';\n-- the migration's statements\nRESET lock_timeout;",
        safe=True,
        note="the runner does not wrap this file in a transaction, so a plain SET would stay "
        "on its session for the migrations after it",
    )


def _pooled_fix() -> Fix:
    """The role's setting: every session a pooled runner opens takes it at connection, which
    a SET sent on one of them cannot promise."""
    return Fix(
        "give the role the schema tool connects as a lock_timeout for the upgrade",
        sql="ALTER ROLE CURRENT_USER SET lock_timeout = '2s';  -- before the upgrade\n"
        "-- run the schema tool\n"
        "ALTER ROLE CURRENT_USER RESET lock_timeout;  -- after it",
        lock_safe=True,
        behaviour_change=True,
        note="run both as the role the schema tool connects with; only sessions opened after "
        "the ALTER take it, so restart the tool's pool; the application gives up waiting after "
        "2s too while it is set, if it connects as the same role: upgrade with a role of its "
        "own; a role that keeps it is declared in dbtruth.yaml "
        "(rules.settings.migration_role_lock_timeout: true)",
    )


def _drops_tables(node: object) -> bool:
    return isinstance(node, ast.DropStmt) and node.removeType in (
        ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW,
    )  # fmt: skip
