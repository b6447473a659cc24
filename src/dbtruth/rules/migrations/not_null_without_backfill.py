"""M015 not-null-without-backfill."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import fills_every_row, relation_name, table_ref, where
from dbtruth.spec import Settings, migration_rule


def _required_without_default(column: ast.ColumnDef) -> bool:
    required = any(c.contype == ConstrType.CONSTR_NOTNULL for c in column.constraints or ())
    return required and not fills_every_row(column)


@migration_rule("M015", "not-null-without-backfill", Severity.ERROR, reads=(ast.AlterTableStmt,))
def not_null_without_backfill(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ADD COLUMN … NOT NULL` without a default on an existing table, and `SET NOT NULL`
    or a new foreign key on a column that the same migration added to an existing table
    without a default, when no UPDATE or INSERT of that table came in between to give the old
    rows a value (a foreign key is graded info: on NULLs it holds, it just guards nothing yet — the
    usual expand step of a nullable reference).
    A serial or identity column has a default. A table the same migration emptied first
    (`TRUNCATE`, `DELETE` without WHERE, and no row written into it since) has no old rows.

    ## Why is this bad?
    The old rows hold NULL in the new column: SET NOT NULL fails on any table that has rows
    (so the migration passes on an empty development database and fails in production), and
    a foreign key on a column nobody filled constrains nothing yet. The playbook's order is
    expand, backfill, validate: the backfill step is missing (Principle 7).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN region_id bigint;
    ALTER TABLE orders ALTER COLUMN region_id SET NOT NULL;
    ```

    ## Use instead
    Add the column, backfill it in a batched job (or give it a default), then validate and
    set NOT NULL in a later migration. Emptying the table first also works, inside one
    transaction: outside one, rows the application writes between the DELETE and the ALTER
    still fail it.

    ## Fix safety
    No automatic fix: the backfill needs the business rule for the old rows.

    ## References
    Playbook Principle 7, §3.8.
    """
    node = statement.node
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return
    table = relation_name(node.relation, state)
    for cmd in node.cmds or ():
        if (
            cmd.subtype == AlterTableType.AT_AddColumn
            and isinstance(cmd.def_, ast.ColumnDef)
            and not state.is_new(table)
            and table not in state.emptied
            and _required_without_default(cmd.def_)
        ):
            yield Violation(
                table_ref(table),
                f"ADD COLUMN {cmd.def_.colname} NOT NULL without a default on existing table "
                f"{table}: the migration fails as soon as the table has a row",
                Fix("add it nullable (or with a default), backfill, then SET NOT NULL"),
                discriminator=f"{where(statement)}:{cmd.def_.colname}",
            )
            continue
        columns: list[str] = []
        what = ""
        if cmd.subtype == AlterTableType.AT_SetNotNull and cmd.name:
            columns, what = [cmd.name], "SET NOT NULL"
        elif (
            cmd.subtype == AlterTableType.AT_AddConstraint
            and isinstance(cmd.def_, ast.Constraint)
            and cmd.def_.contype == ConstrType.CONSTR_FOREIGN
        ):
            columns = [
                a.sval for a in cmd.def_.fk_attrs or () if isinstance(a, ast.String) and a.sval
            ]
            what = "a foreign key"
        for column in columns:
            if (table, column) in state.unfilled_columns:
                yield Violation(
                    table_ref(table),
                    f"{what} on {table}.{column}, added by this migration with no value for "
                    "the existing rows and never backfilled"
                    + (": it fails on any row" if what == "SET NOT NULL" else ""),
                    Fix("backfill the column (or give it a default) before constraining it"),
                    discriminator=f"{where(statement)}:{column}",
                    # a foreign key on NULLs holds and constrains nothing yet: the normal expand
                    # step of a nullable reference (filled later, by the application or a job)
                    severity=None if what == "SET NOT NULL" else Severity.INFO,
                )
