"""M014 workload-uses-dropped-column."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ObjectType
from pglast.parser import ParseError
from pglast.visitors import Visitor

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import object_name, relation_name, table_ref, where
from dbtruth.spec import Settings, migration_rule


class _References(Visitor):
    """Tables (by bare name) and column names a query mentions."""

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.columns: set[str] = set()

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.relname:
            self.tables.add(node.relname)

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
        last = (node.fields or ())[-1] if node.fields else None
        if isinstance(last, ast.String) and last.sval:
            self.columns.add(last.sval)

    def visit_ResTarget(self, ancestors: object, node: ast.ResTarget) -> None:
        if node.name:
            self.columns.add(node.name)  # INSERT (col, …) and UPDATE … SET col


@cache
def _references(sql: str) -> tuple[frozenset[str], frozenset[str]] | None:
    try:
        tree = parse_sql(sql)
    except ParseError:
        return None
    visitor = _References()
    visitor(tree)
    return frozenset(visitor.tables), frozenset(visitor.columns)


def _users(settings: Settings, table: str, column: str | None) -> list[str]:
    name = table.split(".", 1)[1]
    users = []
    for query in settings.design.workload:
        if query.sql is None:
            continue  # only inline SQL is read here; query files are not opened
        found = _references(query.sql)
        if found and name in found[0] and (column is None or column in found[1]):
            users.append(query.name)
    return users


@migration_rule(
    "M014",
    "workload-uses-dropped-column",
    Severity.ERROR,
    reads=(ast.AlterTableStmt, ast.RenameStmt, ast.DropStmt),
)
def workload_uses_dropped_column(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `DROP COLUMN`, `RENAME COLUMN`, `DROP TABLE` and `RENAME TO` of a table or column
    that a query declared in `dbtruth.yaml`'s `workload` section still reads or writes.

    ## Why is this bad?
    The declared workload is the code that runs against the database. A migration that
    removes what it uses breaks it the moment the migration commits — the contract step came
    before the switch (Principle 7: expand, backfill, switch, then contract).

    ## Example
    ```yaml
    workload:
      - name: open cases
        role: read
        sql: SELECT id, title FROM casework.case_file WHERE status = 'OPEN'
    ```
    ```sql
    ALTER TABLE casework.case_file DROP COLUMN status;
    ```

    ## Use instead
    Change the query first (and its entry in dbtruth.yaml), deploy, then drop.

    ## Fix safety
    No automatic fix.

    ## References
    Playbook §3.8, §6.7 ("Consumer diberi contract?"), Principle 7.
    """
    if not settings.design.workload:
        return
    node = statement.node
    targets: list[tuple[str, str | None, str]] = []
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = relation_name(node.relation, state)
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_DropColumn and cmd.name:
                targets.append((table, cmd.name, "drops"))
    elif isinstance(node, ast.RenameStmt) and node.relation is not None:
        table = relation_name(node.relation, state)
        if node.renameType == ObjectType.OBJECT_COLUMN:
            targets.append((table, node.subname, "renames"))
        elif node.renameType == ObjectType.OBJECT_TABLE:
            targets.append((table, None, "renames"))
    elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        for obj in node.objects or ():
            targets.append((state.qualify(*object_name(obj)), None, "drops"))
    for table, column, verb in targets:
        users = _users(settings, table, column)
        if not users:
            continue
        what = f"{table}.{column}" if column else table
        yield Violation(
            table_ref(table),
            f"this migration {verb} {what}, which the declared workload still uses: "
            + ", ".join(users),
            Fix("change and deploy the queries first; contract in a later migration"),
            discriminator=f"{where(statement)}:{column or ''}",
        )
