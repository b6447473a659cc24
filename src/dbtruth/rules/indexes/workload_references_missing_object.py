"""X006 workload-references-missing-object."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog, Table, View
from dbtruth.spec import Settings, rule


@dataclass
class _Names(Visitor):
    """Relations, column references and output names of one statement."""

    relations: list[tuple[str | None, str, str | None]] = field(default_factory=list)
    columns: list[tuple[str, ...]] = field(default_factory=list)
    targets: list[tuple[str | None, str, list[str]]] = field(default_factory=list)
    ctes: set[str] = field(default_factory=set)
    output_names: set[str] = field(default_factory=set)
    opaque_from: bool = False  # a subquery or function in FROM: its columns are unknown

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        alias = node.alias.aliasname if node.alias else None
        self.relations.append((node.schemaname, node.relname or "", alias))

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> None:
        self.columns.append(tuple(getattr(f, "sval", "*") for f in node.fields or ()))

    def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
        self.ctes.add(node.ctename or "")

    def visit_RangeSubselect(self, ancestors: Any, node: Any) -> None:
        self.opaque_from = True

    def visit_RangeFunction(self, ancestors: Any, node: Any) -> None:
        self.opaque_from = True

    def visit_SelectStmt(self, ancestors: Any, node: ast.SelectStmt) -> None:
        for target in node.targetList or ():
            if getattr(target, "name", None):
                self.output_names.add(target.name)

    def visit_InsertStmt(self, ancestors: Any, node: ast.InsertStmt) -> None:
        self._target(node.relation, node.cols)

    def visit_UpdateStmt(self, ancestors: Any, node: ast.UpdateStmt) -> None:
        self._target(node.relation, node.targetList)

    def _target(self, relation: ast.RangeVar | None, columns: Any) -> None:
        """INSERT and UPDATE name columns of their target table directly."""
        if relation is not None:
            self.targets.append(
                (
                    relation.schemaname,
                    relation.relname or "",
                    [t.name for t in columns or () if t.name],
                )
            )


def _resolve(catalog: Catalog, schema: str | None, name: str) -> Table | View | None:
    """A relation by schema-qualified name, or by bare name when exactly one schema has it."""
    relations: list[Table | View] = [*catalog.tables, *catalog.views]
    if schema:
        return next((r for r in relations if r.schema == schema and r.name == name), None)
    found = [r for r in relations if r.name == name]
    public = [r for r in found if r.schema == "public"]
    return public[0] if public else (found[0] if len(found) == 1 else None)


def _columns_of(catalog: Catalog, relation: Table | View) -> set[str]:
    if isinstance(relation, Table):
        return set(relation.column_names)
    return set(relation.columns)


def missing_objects(catalog: Catalog, sql: str) -> list[str]:
    """What the query names that the schema does not have."""
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        return [f"the query does not parse: {exc.args[0]}"]
    problems: list[str] = []
    for statement in statements:
        names = _Names()
        names(statement)
        resolved: dict[str, Table | View] = {}
        unresolved = False
        for schema, relation, alias in names.relations:
            if not schema and relation in names.ctes:
                unresolved = True
                continue
            found = _resolve(catalog, schema, relation)
            if found is None:
                problems.append(
                    f"relation {schema + '.' if schema else ''}{relation} does not exist"
                )
                unresolved = True
                continue
            resolved[alias or relation] = found
            resolved.setdefault(relation, found)
        for target_schema, target_name, columns in names.targets:
            found = _resolve(catalog, target_schema, target_name)
            if found is not None:
                known = _columns_of(catalog, found)
                problems += [
                    f"column {found.qualified}.{c} does not exist"
                    for c in columns
                    if c not in known
                ]
        every_column = (
            set().union(*(_columns_of(catalog, r) for r in resolved.values()))
            if resolved
            else set()
        )
        for ref in names.columns:
            if ref[-1] == "*":
                continue
            if len(ref) >= 2 and ref[-2] in resolved:
                source = resolved[ref[-2]]
                if ref[-1] not in _columns_of(catalog, source):
                    problems.append(f"column {source.qualified}.{ref[-1]} does not exist")
            elif (
                len(ref) == 1
                and resolved
                and not unresolved
                and not names.opaque_from
                and ref[0] not in every_column
                and ref[0] not in names.output_names
            ):
                problems.append(
                    f"column {ref[0]} is in none of "
                    f"{', '.join(sorted({r.qualified for r in resolved.values()}))}"
                )
    return list(dict.fromkeys(problems))


@rule("X006", "workload-references-missing-object", Severity.ERROR)
def workload_references_missing_object(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Parses every workload query declared inline in `dbtruth.yaml` (with PostgreSQL's own
    parser, through pglast) and finds tables, views and columns it names that the schema does
    not have.

    ## Why is this bad?
    The workload is the contract the schema serves (3.5, Principle 4). A declared query that
    no longer matches the schema means either the manifest is stale — so index contracts and
    reviews are judged against queries nobody runs — or a migration dropped or renamed
    something production still reads (3.8: contract only after the readers moved).

    ## Example
    ```yaml
    workload:
      - name: open cases
        role: read
        sql: SELECT id FROM casework.case_file WHERE status = 'OPEN'   # column was renamed
    ```

    ## Use instead
    ```yaml
        sql: SELECT id FROM casework.case_file WHERE current_state = 'OPEN'
    ```

    ## Fix safety
    No SQL fix: update the declared query, or restore what the migration removed.

    ## References
    Playbook 3.5 Workload Shapes Schema, 3.8 Migration Is a Product Feature, Principle 4.
    """
    for query in settings.design.workload:
        if query.sql is None:
            continue  # only inline SQL is read by catalog rules; query files are not opened
        for problem in missing_objects(catalog, query.sql):
            yield Violation(
                ObjectRef("workload query", "", query.name),
                f"workload query '{query.name}': {problem}",
                Fix("bring the declared query and the schema back in line"),
                evidence=(("sql", query.sql),),
                discriminator=problem,
            )
