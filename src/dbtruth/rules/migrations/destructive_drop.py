"""M008 destructive-drop."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.lifetime import short_lived_by_names
from dbtruth.rules.migration_locks import (
    altered_existing_table,
    object_name,
    table_ref,
    where,
)
from dbtruth.spec import Settings, migration_rule


@migration_rule(
    "M008", "destructive-drop", Severity.WARNING, reads=(ast.DropStmt, ast.AlterTableStmt)
)
def destructive_drop(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `DROP TABLE` and `ALTER TABLE … DROP COLUMN` of a table that existed before this
    migration: the contract step of expand/contract.

    ## Why is this bad?
    Dropping is the one step that cannot be rolled back by deploying the previous version:
    the data is gone, and any running code (or report, or replica consumer) that still reads
    the column fails. It belongs at the end of expand → backfill → switch → contract, in its
    own release, after nothing reads the old shape (Principle 7).

    ## Example
    ```sql
    ALTER TABLE orders DROP COLUMN legacy_status;
    ```

    ## Use instead
    Ship the drop alone, after a release in which no code reads the column; keep a backup
    or archive of the data if it may be needed; suppress this finding on that migration with
    `-- dbtruth: ignore[M008] <why it is safe now>`.

    A drop in a migration named for the removal (`drop_unused_prefixes`, `remove_legacy_x`,
    `cleanup_…`), or described as one by the set's own metadata (Temporal's manifest.json:
    "schema update for cluster metadata cleanup"), is graded info: the file says the contract
    step is deliberate; what is left to check is that nothing reads the object any more.

    A column dropped and added again under the same name later in the same migration (a
    reset of its type or default) is info: code reading it keeps working; the finding says its
    values are reset, not kept.

    A column whose values an earlier statement of the same migration copied elsewhere (an
    `UPDATE t SET output = json_build_object('completion', completion)`, an `INSERT … SELECT`
    from its table) is info: the data is kept, and what is left to check is that no code
    reads the old column. So is a drop from a table of short-lived rows — one with an expiry
    column (`expires`, `expires_at`) or named for flows, exchanges or challenges, by the
    columns earlier migrations gave it — since what is lost would have expired anyway.

    ## Fix safety
    No fix: the finding asks for a deliberate decision, recorded by the ignore's reason.

    ## References
    Playbook §3.8 (expand/migrate/contract), §6.7 ("Migration backward-compatible?").
    """
    named = _named_for_removal(statement.file) or _described_as_removal(state.description)
    node = statement.node
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        for obj in node.objects or ():
            table = state.qualify(*object_name(obj))
            if state.is_new(table):
                continue
            why = named or _brief(state, table)
            yield Violation(
                table_ref(table),
                f"DROP TABLE {table} destroys its data and breaks any code still reading it"
                + (f"; {why}" if why else ""),
                Fix("drop only in a contract release after nothing reads it; keep an archive"),
                discriminator=where(statement),
                severity=Severity.INFO if why else None,
            )
    elif (altered := altered_existing_table(statement, state)) is not None:
        table, commands = altered
        for cmd in commands:
            if cmd.subtype == AlterTableType.AT_DropColumn:
                copied = state.copied_columns.get((table, cmd.name or ""))
                why = (
                    named
                    or (
                        f"its values were copied into {copied[1]} at line {copied[0]} of this "
                        "migration first, so the data is kept: confirm nothing reads the old "
                        "column"
                        if copied
                        else None
                    )
                    or _brief(state, table)
                )
                yield Violation(
                    table_ref(table),
                    f"DROP COLUMN {table}.{cmd.name} destroys its data and breaks code still "
                    "reading it" + (f"; {why}" if why else ""),
                    Fix("drop only in a contract release after nothing reads it"),
                    discriminator=f"{where(statement)}:{cmd.name}",
                    severity=Severity.INFO if why else None,
                )


def _brief(state: MigrationState, table: str) -> str | None:
    """Why the table's rows live briefly, by its name and the columns earlier migrations gave
    it (an expiry, a flow): what a drop loses would have expired anyway (a guess, said)."""
    columns = [column for (owner, column) in state.column_types if owner == table]
    lived = short_lived_by_names(table.rsplit(".", 1)[-1], columns)
    if lived is None:
        return None
    return (
        f"its rows are short-lived ({lived}; a guess from the names), so what is lost would "
        "have expired: confirm nothing reads it"
    )


# Words of a migration's name that announce a removal as its purpose.
_REMOVAL_WORDS = frozenset(
    {"drop", "remove", "delete", "cleanup", "clean", "unused", "deprecated", "obsolete", "legacy"}
)


def _named_for_removal(file: str) -> str | None:
    """Why the migration's name (its file, or its folder for `…/migration.sql`) shows the drop
    is its purpose, or None."""
    path = PurePath(file)
    name = path.parent.name if path.stem.split(".")[0] in _GENERIC_NAMES else path.name
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if w]
    found = [w for w in words if w in _REMOVAL_WORDS]
    if not found:
        return None
    return (
        f"the migration is named for it ({name}): a deliberate contract step; confirm "
        "nothing reads it"
    )


def _described_as_removal(description: str | None) -> str | None:
    """Why the set's own description of the migration (Temporal's manifest.json) shows the
    drop is its purpose, or None."""
    words = re.split(r"[^a-z]+", (description or "").lower())
    if not _REMOVAL_WORDS.intersection(words):
        return None
    return (
        f'the migration\'s manifest describes it as a removal ("{description}"): a deliberate '
        "contract step; confirm nothing reads it"
    )


_GENERIC_NAMES = frozenset({"migration", "up", "change", "changes"})
