"""M003 constraint-without-not-valid."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import JsonExpr, MigrationState, MigrationStatement
from dbtruth.model.sqlnames import ident
from dbtruth.rules.migration_locks import (
    altered_existing_table,
    new_column_fk_scans,
    sql_name,
    table_ref,
    where,
)
from dbtruth.spec import Settings, migration_rule


@migration_rule(
    "M003", "constraint-without-not-valid", Severity.WARNING, reads=(ast.AlterTableStmt,)
)
def constraint_without_not_valid(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `ALTER TABLE … ADD CONSTRAINT` of a FOREIGN KEY or CHECK without `NOT VALID` on a
    table that already exists, a new column with an inline `REFERENCES` and a value for the
    existing rows (a DEFAULT — even `DEFAULT NULL` —, serial, identity or generated), and a
    `VALIDATE CONSTRAINT` run in the same transaction that added the constraint NOT VALID.
    A new column without a default is NULL in every row: PostgreSQL marks its foreign key
    valid without reading the table (1 ms on a million rows against 70–130 ms for the same
    key on a filled column, on PostgreSQL 15 and 18), and it stays quiet.

    ## Why is this bad?
    Without NOT VALID, PostgreSQL reads every row to validate the constraint while holding
    its lock: SHARE ROW EXCLUSIVE on both tables for a foreign key (writes wait), ACCESS
    EXCLUSIVE for a CHECK (reads wait too). Adding the constraint NOT VALID is instant and
    already guards new rows; `VALIDATE CONSTRAINT` then scans under a lock that lets reads
    and writes go on — but only in a later transaction: validated in the same one, the ADD's
    stronger lock is still held for the whole scan. Expand, then validate (§3.8, Principle 7).

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
      FOREIGN KEY (customer_id) REFERENCES customers (id);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
      FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    -- in the next migration (its own transaction):
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    ```

    ## Fix safety
    Safe: the same constraint, enforced for new rows at once and for old rows after
    VALIDATE. Name the constraint so the VALIDATE can refer to it.

    ## References
    PostgreSQL: ALTER TABLE, ADD table_constraint … NOT VALID; VALIDATE CONSTRAINT.
    """
    altered = altered_existing_table(statement, state)
    if altered is None:
        return
    table, commands = altered
    node = statement.node
    for cmd in commands:
        constraint = cmd.def_
        if cmd.subtype == AlterTableType.AT_ValidateConstraint:
            if cmd.name in state.not_valid_in_transaction:
                yield Violation(
                    table_ref(table),
                    f"VALIDATE CONSTRAINT {cmd.name} on {table} runs in the transaction that "
                    "added it NOT VALID: the ADD's lock is held for the whole scan",
                    Fix("validate in a separate migration (its own transaction)", safe=True),
                    discriminator=f"{where(statement)}:{cmd.name}",
                )
            continue
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(constraint, ast.ColumnDef):
            # Without a value for the old rows the column is all NULL and PostgreSQL skips
            # the check (transformAlterTableStmt): only a default makes it read the table.
            if new_column_fk_scans(constraint):
                given = (
                    "DEFAULT NULL (PostgreSQL skips the check only without any DEFAULT clause)"
                    if _default_null(constraint)
                    else "a value for the existing rows"
                )
                yield Violation(
                    table_ref(table),
                    f"ADD COLUMN {constraint.colname} … REFERENCES with {given} checks every "
                    f"row of {table} while ALTER TABLE holds ACCESS EXCLUSIVE",
                    Fix(
                        "add the column without REFERENCES, then ADD CONSTRAINT … FOREIGN KEY "
                        "… NOT VALID and VALIDATE CONSTRAINT in a separate transaction (a "
                        "DEFAULT NULL can simply go: without a default the check is skipped)",
                        safe=True,
                    ),
                    discriminator=f"{where(statement)}:{constraint.colname}",
                )
            continue
        if (
            cmd.subtype != AlterTableType.AT_AddConstraint
            or not isinstance(constraint, ast.Constraint)
            or constraint.contype not in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK)
            or constraint.skip_validation
        ):
            continue
        kind = "FOREIGN KEY" if constraint.contype == ConstrType.CONSTR_FOREIGN else "CHECK"
        lock = "SHARE ROW EXCLUSIVE" if kind == "FOREIGN KEY" else "ACCESS EXCLUSIVE"
        sql = note = None
        if constraint.conname and len(node.cmds or ()) == 1:
            # The VALIDATE belongs to the next migration: in this one's transaction it would
            # keep the ADD's lock for the whole scan.
            sql = statement.sql.rstrip().rstrip(";") + " NOT VALID;"
            note = (
                f"then, in the next migration: ALTER TABLE {sql_name(node.relation)} "
                f"VALIDATE CONSTRAINT {ident(constraint.conname)};"
            )
        yield Violation(
            table_ref(table),
            f"ADD {kind} {constraint.conname or ''} on existing table {table} validates every "
            f"row under a {lock} lock".replace("  ", " "),
            Fix(
                "add it NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
                safe=True,
                sql=sql,
                note=note or "name the constraint so VALIDATE can refer to it",
            ),
            discriminator=where(statement),
        )


def _default_null(column: ast.ColumnDef) -> bool:
    """`DEFAULT NULL`: no value for the old rows, yet a DEFAULT clause all the same."""
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            value = constraint.raw_expr
            if isinstance(value, JsonExpr):  # a statement read from PostgreSQL's JSON tree
                return value.is_null_constant()
            return isinstance(value, ast.A_Const) and bool(value.isnull)
    return False
