"""The statement each chunk runs: the spec's UPDATE, DELETE or INSERT … SELECT, with the chunk's
key range added to its WHERE clause where it reads the backfill's table.

The range goes into the statement's own tree (pglast), not around it: a chunk given as a list
of keys to join against lets the planner choose a hash join over the whole table once chunks
grow, which turns a backfill quadratic; a range on the key is an index range scan of the
chunk's rows whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import BoolExprType, SetOperation
from pglast.parser import ParseError
from pglast.stream import RawStream
from pglast.visitors import Visitor

from dbtruth.sources.readonly import administrative_call

KINDS = {ast.UpdateStmt: "UPDATE", ast.DeleteStmt: "DELETE", ast.InsertStmt: "INSERT"}


class StatementError(ValueError):
    """Why the spec's statement cannot be a backfill's chunk."""


@dataclass
class ChunkStatement:
    node: Any  # the statement's tree
    kind: str  # UPDATE, DELETE, INSERT
    holder: Any  # the node whose WHERE gets the range (the statement, or INSERT's SELECT)
    reference: str  # how the statement names the backfill's table: its alias or its name
    writes_table: bool  # the table the statement writes is the backfill's own
    normalized: str = ""  # the statement as PostgreSQL's parser reads it: spacing and case gone

    def with_range(self, predicate: str) -> str:
        """The statement's text with `predicate` (SQL over `reference`) added to its WHERE.
        The tree is restored afterwards: each chunk starts from the spec's statement."""
        select: Any = parse_sql(f"SELECT WHERE {predicate}")[0].stmt
        extra = select.whereClause
        original = self.holder.whereClause
        self.holder.whereClause = (
            extra
            if original is None
            else ast.BoolExpr(boolop=BoolExprType.AND_EXPR, args=(original, extra))
        )
        try:
            return str(RawStream()(self.node))
        finally:
            self.holder.whereClause = original


class _Writes(Visitor):
    """Data-modifying statements nested in the chunk's statement (a WITH … UPDATE)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def visit_InsertStmt(self, ancestors: Any, node: Any) -> None:
        self.count += 1

    visit_UpdateStmt = visit_InsertStmt
    visit_DeleteStmt = visit_InsertStmt
    visit_MergeStmt = visit_InsertStmt


def parse_statement(text: str, is_table: Callable[[Any], bool]) -> ChunkStatement:
    """The spec's statement, checked: one UPDATE, DELETE or INSERT … SELECT that reads the
    backfill's table (`is_table(rangevar)`) once at its top level, writes nothing else, and
    calls nothing that acts on the server."""
    try:
        statements = parse_sql(text)
    except ParseError as exc:
        raise StatementError(f"cannot parse: {exc}") from exc
    except RecursionError as exc:
        raise StatementError("nested deeper than dbtruth reads") from exc
    if len(statements) != 1:
        raise StatementError("a chunk runs one statement; the spec gives several")
    node: Any = statements[0].stmt
    kind = KINDS.get(type(node))
    if kind is None:
        raise StatementError(
            "a chunk's statement is one UPDATE, DELETE or INSERT … SELECT, got "
            f"{type(node).__name__.removesuffix('Stmt').upper()}"
        )
    refused = administrative_call(node)
    if refused:
        raise StatementError(refused)
    writes = _Writes()
    writes(node)
    if writes.count > 1:
        raise StatementError(
            "a WITH clause of the chunk's statement writes too: it would not be bounded by the "
            "chunk"
        )
    holder, places = _where_the_table_is_read(node)
    found = [rangevar for rangevar in places if is_table(rangevar)]
    if not found:
        raise StatementError(
            "the statement does not read the backfill's table at its top level (as the table "
            "it updates or deletes from, or in its FROM / USING list, or in the FROM of "
            "INSERT's SELECT): the chunk's key range has nowhere to go"
        )
    if len(found) > 1:
        raise StatementError(
            "the statement reads the backfill's table more than once at its top level; the "
            "chunk's key range would be ambiguous"
        )
    table = found[0]
    reference = table.alias.aliasname if table.alias is not None else table.relname
    normalized = str(RawStream()(node))
    return ChunkStatement(node, kind, holder, str(reference), table is node.relation, normalized)


def _where_the_table_is_read(node: Any) -> tuple[Any, list[Any]]:
    if isinstance(node, ast.UpdateStmt):
        return node, [node.relation, *_range_vars(node.fromClause)]
    if isinstance(node, ast.DeleteStmt):
        return node, [node.relation, *_range_vars(node.usingClause)]
    select = node.selectStmt
    if (
        not isinstance(select, ast.SelectStmt)
        or select.valuesLists
        or (select.op is not None and select.op != SetOperation.SETOP_NONE)
    ):
        raise StatementError("an INSERT backfill reads its table through one SELECT … FROM")
    return select, list(_range_vars(select.fromClause))


def _range_vars(items: Any) -> Iterator[Any]:
    """The tables a FROM list names at its own level, through joins; not in subqueries."""
    for item in items or ():
        if isinstance(item, ast.RangeVar):
            yield item
        elif isinstance(item, ast.JoinExpr):
            yield from _range_vars((item.larg, item.rarg))
