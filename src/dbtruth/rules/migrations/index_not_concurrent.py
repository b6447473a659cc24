"""M001 index-not-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import (
    altered_existing_table,
    builds_nothing,
    relation_name,
    table_ref,
    where,
)
from dbtruth.spec import Settings, migration_rule


# Said where the statement runs in a transaction, as CONCURRENTLY cannot.
def _key_by_index_note(kind: str, in_transaction: bool) -> str:
    """What the two steps of a key built concurrently cost, and where they may run."""
    note = (
        "CREATE UNIQUE INDEX CONCURRENTLY runs outside a transaction block, in a migration of "
        "its own; ADD CONSTRAINT … USING INDEX then takes a brief ACCESS EXCLUSIVE and builds "
        "nothing"
    )
    if kind == "PRIMARY KEY":
        note += "; a primary key's columns must be NOT NULL first, or the ADD scans to make them so"
    return note + (_WRAPPED if in_transaction else "")


_WRAPPED = (
    "; this file runs in a transaction (its runner wraps it, or it says BEGIN), where "
    "CONCURRENTLY fails: move the build to a file the runner runs outside one (its marker, "
    "in the README's table of runner conventions), or, where the runner has none, to a step "
    "of the deployment outside it"
)


@migration_rule(
    "M001", "index-not-concurrent", Severity.WARNING, reads=(ast.IndexStmt, ast.AlterTableStmt)
)
def index_not_concurrent(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `CREATE INDEX` without `CONCURRENTLY`, and `ADD PRIMARY KEY` / `ADD UNIQUE` (as a
    table constraint or on a new column) and `ADD CONSTRAINT … EXCLUDE` that build their index
    inside `ALTER TABLE`, on a table that already exists. Tables created
    earlier in the same migration (or, with `--against`, absent from the target) are new and
    empty, and stay quiet.

    ## Why is this bad?
    A plain `CREATE INDEX` holds a SHARE lock for the whole build: every INSERT, UPDATE and
    DELETE on the table waits, for minutes on a large table. `ADD UNIQUE`/`ADD PRIMARY KEY`
    build the index under ACCESS EXCLUSIVE, which blocks reads too. The playbook treats
    migration as a product feature with lock risk understood (§3.8, Principle 7).

    ## Example
    ```sql
    CREATE INDEX orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    -- in a migration that runs outside a transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```
    For a unique constraint: `CREATE UNIQUE INDEX CONCURRENTLY …`, then
    `ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …`. An exclusion constraint has no
    concurrent form and cannot adopt an index: one on equality only is a unique index (build
    that concurrently instead); any other (`WITH &&` on ranges) is built in a maintenance
    window, with `lock_timeout` set so it gives up rather than queue every query behind it.

    ## Fix safety
    Safe to apply, with care: CONCURRENTLY cannot run inside a transaction (see M002), and a
    failed concurrent build leaves an INVALID index to drop and retry. The EXCLUDE remedy is
    not lock-safe: it still blocks reads and writes for the build, at a time you choose.

    ## References
    PostgreSQL: CREATE INDEX, "Building Indexes Concurrently"; ALTER TABLE … USING INDEX.
    Playbook §3.8 Migration, Principle 7.
    """
    node = statement.node
    if isinstance(node, ast.IndexStmt) and not node.concurrent:
        table = relation_name(node.relation, state)
        if state.is_new(table) or builds_nothing(node, state):
            return
        text = statement.sql.rstrip().rstrip(";")
        unique = "UNIQUE " if node.unique else ""
        fixed = text.replace(f"CREATE {unique}INDEX", f"CREATE {unique}INDEX CONCURRENTLY", 1)
        yield Violation(
            table_ref(table),
            f"CREATE INDEX {node.idxname or ''} on existing table {table} blocks its writes "
            "for the whole build (SHARE lock)".replace("  ", " "),
            Fix(
                "build it CONCURRENTLY, in a migration that runs outside a transaction",
                safe=True,
                sql=fixed + ";" if fixed != text else None,
                note="a failed concurrent build leaves an INVALID index: drop it and retry"
                + (_WRAPPED if state.in_transaction else ""),
            ),
            discriminator=where(statement),
        )
    elif (altered := altered_existing_table(statement, state)) is not None:
        table, commands = altered
        for cmd in commands:
            constraint = cmd.def_
            if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(constraint, ast.ColumnDef):
                keyed = [
                    c for c in constraint.constraints or ()
                    if c.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                ]  # fmt: skip
                if keyed:
                    kind = (
                        "PRIMARY KEY" if keyed[0].contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
                    )
                    yield Violation(
                        table_ref(table),
                        f"ADD COLUMN {constraint.colname} … {kind} on existing table {table} "
                        "builds its index under ACCESS EXCLUSIVE: reads and writes wait for "
                        "a full scan",
                        Fix(
                            "add the column plain, CREATE UNIQUE INDEX CONCURRENTLY, then ADD "
                            f"CONSTRAINT … {kind} USING INDEX",
                            lock_safe=True,
                            note=_key_by_index_note(kind, state.in_transaction),
                        ),
                        discriminator=f"{where(statement)}:{constraint.colname}",
                    )
                continue
            if (
                cmd.subtype == AlterTableType.AT_AddConstraint
                and isinstance(constraint, ast.Constraint)
                and constraint.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                and constraint.indexname is None
            ):
                kind = (
                    "PRIMARY KEY" if constraint.contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
                )
                yield Violation(
                    table_ref(table),
                    f"ADD {kind} on existing table {table} builds its index under ACCESS "
                    "EXCLUSIVE: reads and writes wait for the whole build",
                    Fix(
                        "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … "
                        f"{kind} USING INDEX",
                        lock_safe=True,
                        note=_key_by_index_note(kind, state.in_transaction),
                    ),
                    discriminator=where(statement),
                )
            elif (
                cmd.subtype == AlterTableType.AT_AddConstraint
                and isinstance(constraint, ast.Constraint)
                and constraint.contype == ConstrType.CONSTR_EXCLUSION
            ):
                name = f" {constraint.conname}" if constraint.conname else ""
                yield Violation(
                    table_ref(table),
                    f"ADD CONSTRAINT{name} … EXCLUDE on existing table {table} builds its "
                    "index under ACCESS EXCLUSIVE: reads and writes wait for the whole build",
                    Fix(
                        "no concurrent form exists for EXCLUDE: run it in a maintenance window "
                        "with SET lock_timeout, so it gives up instead of queueing every query "
                        "behind it",
                        lock_safe=False,
                        note="an exclusion on equality only (WITH =) is a unique index: "
                        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING "
                        "INDEX, without the lock",
                    ),
                    discriminator=where(statement),
                )
