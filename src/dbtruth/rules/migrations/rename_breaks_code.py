"""M009 rename-breaks-code."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import relation_name, table_ref, where
from dbtruth.spec import Settings, migration_rule


@migration_rule("M009", "rename-breaks-code", Severity.WARNING, reads=(ast.RenameStmt,))
def rename_breaks_code(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ALTER TABLE … RENAME TO` and `RENAME COLUMN` on a table that existed before this
    migration.

    A column the same migration added is not reported when it is renamed: no running code
    reads it yet. That is the swap a migration writes to change a column's type by copying
    (add `prompt_new`, copy, drop `prompt`, rename `prompt_new` to `prompt`): readers keep
    the name they know, and the drop is the change to review (M008).

    ## Why is this bad?
    The rename is instant, but every running instance of the application, every report and
    every consumer that names the old identifier fails from that moment: during a rolling
    deploy old and new code run side by side. It is a backward-incompatible change (§6.7).

    ## Example
    ```sql
    ALTER TABLE orders RENAME COLUMN amount TO amount_cents;
    ```

    ## Use instead
    Expand/contract: add the new column (or a view with the new name), write both, move
    readers over, then drop the old name in a later release.

    ## Fix safety
    No automatic fix.

    ## References
    Playbook §3.8, §6.7; Principle 7.
    """
    node = statement.node
    if not isinstance(node, ast.RenameStmt) or node.relation is None:
        return
    if node.renameType not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
        return
    table = relation_name(node.relation, state)
    if state.is_new(table):
        return
    if node.renameType == ObjectType.OBJECT_COLUMN and (table, node.subname) in state.added_here:
        return  # added by this migration: nothing reads it yet
    what = (
        f"column {table}.{node.subname} to {node.newname}"
        if node.renameType == ObjectType.OBJECT_COLUMN
        else f"table {table} to {node.newname}"
    )
    yield Violation(
        table_ref(table),
        f"renaming {what} breaks every running reader of the old name",
        Fix("expand/contract: add the new name beside the old, move readers, drop the old"),
        discriminator=where(statement),
    )
