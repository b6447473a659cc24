"""Index candidates read from a query's text: for each table it reads, the columns its
predicates compare with `=` or `IN` (the index's leading columns), then one range column or
the columns it sorts by, the columns it returns (as INCLUDE, for an index-only scan), a partial
index where a predicate compares a column with a constant, and GIN or GiST where the operator
needs one (jsonb and array containment, full-text search, range overlap).

Only the shapes a btree, GIN or GiST can serve are proposed, and never one that an existing
index already is or begins with: the planner decides on the twin which of them pay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.enums.parsenodes import A_Expr_Kind, SetOperation
from pglast.enums.primnodes import BoolExprType, NullTestType
from pglast.stream import RawStream
from pglast.visitors import Visitor

from dbtruth.model import Catalog, Index, Table
from dbtruth.model.sqlnames import column_list, ident, qualified

_EQUALITY = {"="}
_RANGE = {"<", ">", "<=", ">="}
# Operators a GIN index serves, by the column's type category (A array, U jsonb and others).
_GIN_OPERATORS = {"@>", "<@", "?", "?|", "?&", "@@", "&&"}
_GIST_OPERATORS = {"&&", "@>", "<@", "-|-", "<<", ">>"}
# INCLUDE only a few narrow columns: a wide covering index costs more writes than it saves.
_MAX_INCLUDE = 3
_MAX_KEYS = 4


@dataclass(frozen=True, slots=True)
class Candidate:
    table: str  # schema.name
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    method: str = "btree"
    predicate: str | None = None  # a partial index's WHERE, as SQL

    def create_sql(self, name: str, *, concurrently: bool) -> str:
        schema, table = self.table.split(".", 1)
        using = f" USING {self.method}" if self.method != "btree" else ""
        include = f" INCLUDE ({column_list(self.include)})" if self.include else ""
        where = f" WHERE {self.predicate}" if self.predicate else ""
        return (
            f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}{ident(name)} ON "
            f"{qualified(schema, table)}{using} ({column_list(self.columns)}){include}{where}"
        )

    @property
    def label(self) -> str:
        using = f" USING {self.method}" if self.method != "btree" else ""
        text = f"{self.table}{using} ({', '.join(self.columns)})"
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        return text + (f" WHERE {self.predicate}" if self.predicate else "")


@dataclass
class _Use:
    """What one query does with one table's columns."""

    equal: list[str] = field(default_factory=list)
    constant: list[tuple[str, str]] = field(default_factory=list)  # column, `col = 'v'` SQL
    ranged: list[str] = field(default_factory=list)
    ordered: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    returns_all: bool = False
    gin: list[str] = field(default_factory=list)
    gist: list[str] = field(default_factory=list)


def candidates(sql: str, catalog: Catalog) -> list[Candidate]:
    """The index candidates of one (gated) query, existing indexes left out."""
    statement = parse_sql(sql)[0].stmt
    reader = _Reader(catalog)
    reader.statement(statement)
    found: list[Candidate] = []
    for table, use in reader.uses.items():
        for candidate in _shapes(table, use):
            if candidate not in found and not _exists(catalog, table, candidate):
                found.append(candidate)
    return found


def _shapes(table: Table, use: _Use) -> list[Candidate]:
    shapes: list[Candidate] = []
    equal = _unique(use.equal)[:_MAX_KEYS]
    ranged = [c for c in _unique(use.ranged) if c not in equal][:1]
    ordered = [c for c in _unique(use.ordered) if c not in equal]
    if equal or ranged:
        keys = tuple(equal + ranged)
        shapes.append(Candidate(table.qualified, keys))
        returned = [c for c in _unique(use.returned) if c not in keys]
        if returned and not use.returns_all and len(returned) <= _MAX_INCLUDE:
            shapes.append(Candidate(table.qualified, keys, include=tuple(returned)))
    if ordered and len(equal) + len(ordered) <= _MAX_KEYS:
        shapes.append(Candidate(table.qualified, tuple(equal + ordered)))
    for column, predicate in use.constant:
        rest = tuple(c for c in equal + ranged + ordered if c != column)
        if rest:
            shapes.append(Candidate(table.qualified, rest[:_MAX_KEYS], predicate=predicate))
    shapes += [Candidate(table.qualified, (c,), method="gin") for c in _unique(use.gin)]
    shapes += [Candidate(table.qualified, (c,), method="gist") for c in _unique(use.gist)]
    return shapes


def _exists(catalog: Catalog, table: Table, candidate: Candidate) -> bool:
    """An index already is the candidate or begins with it (the same method and predicate):
    PostgreSQL can use it for everything the candidate would serve."""
    return any(_covers(index, candidate) for index in catalog.indexes_of(table))


def _covers(index: Index, candidate: Candidate) -> bool:
    if not index.valid or index.method != candidate.method:
        return False
    if index.predicate is not None and index.predicate != candidate.predicate:
        return False
    keys = candidate.columns
    if index.leading[: len(keys)] != keys:
        return False
    return set(candidate.include) <= set(index.keys) | set(index.include)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


class _Reader:
    """Walks one statement, resolving each column to the table it belongs to."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.uses: dict[Table, _Use] = {}

    def statement(self, node: Any) -> None:
        if isinstance(node, ast.SelectStmt):
            self._select(node)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            scope = self._scope([node.relation], getattr(node, "fromClause", None) or ())
            self._where(node.whereClause, scope)
        elif isinstance(node, ast.InsertStmt) and isinstance(node.selectStmt, ast.SelectStmt):
            self._select(node.selectStmt)

    def _select(self, node: ast.SelectStmt) -> None:
        if node.op != SetOperation.SETOP_NONE and node.larg is not None:  # UNION and friends
            self._select(node.larg)
            if node.rarg is not None:
                self._select(node.rarg)
            return
        for cte in (node.withClause.ctes or ()) if node.withClause else ():
            if isinstance(cte.ctequery, ast.SelectStmt):
                self._select(cte.ctequery)
        scope = self._scope([], node.fromClause or ())
        self._where(node.whereClause, scope)
        for item in node.fromClause or ():
            self._joins(item, scope)
        for target in node.targetList or ():
            self._returned(target.val, scope)
        if len(scope) == 1 or _one_table(node.sortClause, scope):
            for sort in node.sortClause or ():
                resolved = _column(sort.node, scope)
                if resolved is not None:
                    self._use(resolved[0]).ordered.append(resolved[1])
        for group in node.groupClause or ():
            resolved = _column(group, scope)
            if resolved is not None:
                self._use(resolved[0]).equal.append(resolved[1])

    def _scope(self, relations: list[Any], from_clause: Any) -> dict[str, Table]:
        """Names a column may be qualified with (alias or table name) -> the table."""
        scope: dict[str, Table] = {}
        stack = [*relations, *from_clause]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.RangeVar):
                table = self._table(item)
                if table is not None:
                    alias = item.alias.aliasname if item.alias else None
                    scope[alias or table.name] = table
            elif isinstance(item, ast.JoinExpr):
                stack += [item.larg, item.rarg]
            elif isinstance(item, ast.RangeSubselect) and isinstance(item.subquery, ast.SelectStmt):
                self._select(item.subquery)
        return scope

    def _table(self, node: ast.RangeVar) -> Table | None:
        name = node.relname or ""
        if node.schemaname:
            return self.catalog.table(f"{node.schemaname}.{name}")
        found = [t for t in self.catalog.tables if t.name == name]
        public = [t for t in found if t.schema == "public"]
        return public[0] if public else (found[0] if len(found) == 1 else None)

    def _use(self, table: Table) -> _Use:
        return self.uses.setdefault(table, _Use())

    def _joins(self, item: Any, scope: dict[str, Table]) -> None:
        if isinstance(item, ast.JoinExpr):
            self._where(item.quals, scope)
            self._joins(item.larg, scope)
            self._joins(item.rarg, scope)

    def _where(self, node: Any, scope: dict[str, Table]) -> None:
        for conjunct in _conjuncts(node):
            self._predicate(conjunct, scope)

    def _predicate(self, node: Any, scope: dict[str, Table]) -> None:
        if isinstance(node, ast.SubLink) and isinstance(node.subselect, ast.SelectStmt):
            self._select(node.subselect)
            return
        if isinstance(node, ast.NullTest):
            resolved = _column(node.arg, scope)
            if resolved is not None and node.nulltesttype == NullTestType.IS_NULL:  # partial
                table, column = resolved
                self._use(table).constant.append((column, f"{ident(column)} IS NULL"))
            return
        if not isinstance(node, ast.A_Expr):
            return
        operator = _operator(node)
        left, right = _column(node.lexpr, scope), _column(node.rexpr, scope)
        kind = node.kind
        if kind == A_Expr_Kind.AEXPR_OP and operator in _EQUALITY:
            for one, other, other_node in ((left, right, node.rexpr), (right, left, node.lexpr)):
                if one is None:
                    continue
                table, column = one
                self._use(table).equal.append(column)
                if other is None and isinstance(other_node, ast.A_Const):
                    literal = RawStream()(other_node)
                    self._use(table).constant.append((column, f"{ident(column)} = {literal}"))
        elif kind == A_Expr_Kind.AEXPR_OP and operator in _RANGE:
            for one in (left, right):
                if one is not None:
                    self._use(one[0]).ranged.append(one[1])
        elif kind == A_Expr_Kind.AEXPR_OP and operator in _GIN_OPERATORS | _GIST_OPERATORS:
            if left is not None:
                self._operator_index(left[0], left[1], operator)
        elif kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_BETWEEN) and left is not None:
            use = self._use(left[0])
            (use.equal if kind == A_Expr_Kind.AEXPR_IN else use.ranged).append(left[1])

    def _operator_index(self, table: Table, column: str, operator: str) -> None:
        found = next((c for c in table.columns if c.name == column), None)
        if found is None:
            return
        category, name = found.type_category, found.type_name
        if category == "R" and operator in _GIST_OPERATORS:  # ranges
            self._use(table).gist.append(column)
        elif (category == "A" or name in ("jsonb", "tsvector")) and operator in _GIN_OPERATORS:
            self._use(table).gin.append(column)

    def _returned(self, node: Any, scope: dict[str, Table]) -> None:
        if isinstance(node, ast.ColumnRef):
            if any(isinstance(f, ast.A_Star) for f in node.fields or ()):
                for table in _star_tables(node, scope):
                    self._use(table).returns_all = True
                return
            resolved = _column(node, scope)
            if resolved is not None:
                self._use(resolved[0]).returned.append(resolved[1])
            return
        # An expression or aggregate: every column it reads must be in the index to cover it.
        for ref in _column_refs(node):
            resolved = _column(ref, scope)
            if resolved is not None:
                self._use(resolved[0]).returned.append(resolved[1])


def _operator(node: ast.A_Expr) -> str:
    names = node.name or ()
    return str(getattr(names[-1], "sval", "")) if names else ""


def _conjuncts(node: Any) -> list[Any]:
    if node is None:
        return []
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [c for arg in node.args or () for c in _conjuncts(arg)]
    return [node]


def _column(node: Any, scope: dict[str, Table]) -> tuple[Table, str] | None:
    """The table and column a ColumnRef names, when it names one of `scope` unambiguously."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.ColumnRef):
        return None
    fields = [getattr(f, "sval", None) for f in node.fields or ()]
    if not fields or any(f is None for f in fields):
        return None
    names = [str(f) for f in fields]
    if len(names) >= 2:
        table = scope.get(names[-2])
        return (table, names[-1]) if table is not None and _has(table, names[-1]) else None
    owners = [t for t in scope.values() if _has(t, names[0])]
    return (owners[0], names[0]) if len(set(owners)) == 1 else None


def _has(table: Table, column: str) -> bool:
    return any(c.name == column for c in table.columns)


def _one_table(sort: Any, scope: dict[str, Table]) -> bool:
    """Every ORDER BY key is a column of one and the same table."""
    resolved = [_column(item.node, scope) for item in sort or ()]
    tables = {r[0] if r is not None else None for r in resolved}
    return len(tables) == 1 and None not in tables


def _star_tables(node: ast.ColumnRef, scope: dict[str, Table]) -> list[Table]:
    fields = node.fields or ()
    if len(fields) >= 2 and isinstance(getattr(fields[-2], "sval", None), str):
        table = scope.get(fields[-2].sval)
        return [table] if table is not None else []
    return list(scope.values())


class _ColumnRefs(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[ast.ColumnRef] = []

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> None:
        self.found.append(node)


def _column_refs(node: Any) -> list[ast.ColumnRef]:
    """Every ColumnRef inside an expression."""
    refs = _ColumnRefs()
    refs(node)
    return refs.found
