"""The shapes of CHECK constraints and partial-index predicates that dbtruth can satisfy or
violate on purpose.

PostgreSQL prints both normalised (pg_get_constraintdef, pg_get_expr): `BETWEEN a AND b` as
`((x >= a) AND (x <= b))`, `IN (...)` as `= ANY (ARRAY[...])`, a varchar column cast to text.
pglast reads that text back into a tree; comparisons of a column with a constant or with another
column, NULL tests, IN lists, boolean columns, AND, OR and NOT are understood. Anything else (a
function call, a regular expression, arithmetic) is `Unknown`, and a probe that needs it says
"CHECK shape not understood" instead of guessing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType

# How many different ways to make an expression true or false are tried; a BETWEEN has two
# ways out, an IN list one, a conjunction of five conditions five.
MAX_SOLUTIONS = 8
# Nesting of AND, OR and NOT read; deeper is not understood (and never recursed into).
MAX_DEPTH = 32
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "<>", "<>": "="}


@dataclass(frozen=True, slots=True)
class Atom:
    """`column op constant(s)`, `column op other_column`, or a NULL test (op 'is null')."""

    column: str
    op: str  # = <> < <= > >= in 'not in' 'is null' 'is not null'
    constants: tuple[str, ...] = ()
    other: str | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    text: str


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or | not
    args: tuple[Expr, ...]


Expr = Atom | Unknown | BoolOp


@dataclass(frozen=True, slots=True)
class Need:
    """What one column must hold: a constant, NULL, any non-NULL value, a value just beyond a
    constant (`op` '<' below it, '>' above it, '<>' different from all), or a value relative
    to another column (`other`, with `op` '<', '=' or '>')."""

    op: str  # '=' exact constant | 'null' | 'value' any non-null | '<' | '>' | '<>' | 'rel'
    constants: tuple[str, ...] = ()
    other: str | None = None
    relation: str = "="  # for 'rel': this column '<', '=' or '>' the other
    # A boundary that is one legal value among many (`x >= 1` gives 1): where another part of
    # the expression asks something else of the column (`x <= 5`), the other demand wins.
    soft: bool = False


Solution = dict[str, Need]


def parse(text: str) -> Expr:
    """The expression of a CHECK definition ("CHECK ((x > 0)) NOT VALID") or an index
    predicate."""
    body = text.strip()
    if body.upper().startswith("CHECK"):
        body = body[5:].strip()
    for suffix in (" NOT VALID", " NO INHERIT"):
        while body.upper().endswith(suffix):
            body = body[: -len(suffix)].rstrip()
    try:
        statement: Any = parse_sql(f"SELECT 1 WHERE {body}")[0].stmt
        where = statement.whereClause
    except Exception:  # pglast's ParseError, a RecursionError: all "not understood"
        return Unknown(body)
    return _read(where, body)


def _column(node: Any) -> str | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ColumnRef) and node.fields and len(node.fields) == 1:
        field = node.fields[0]
        if isinstance(field, ast.String):
            return str(field.sval)
    return None


def _constant(node: Any) -> str | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and not node.isnull:
        value = node.val
        if isinstance(value, ast.Integer):
            return str(value.ival)
        if isinstance(value, ast.Float):
            return str(value.fval)
        if isinstance(value, ast.String):
            return str(value.sval)
        if isinstance(value, ast.Boolean):
            return "true" if value.boolval else "false"
    if isinstance(node, ast.A_Expr) and node.lexpr is None and _name(node) == "-":
        inner = _constant(node.rexpr)
        if inner is not None:
            return inner[1:] if inner.startswith("-") else f"-{inner}"
    return None


def _name(node: ast.A_Expr) -> str:
    names = node.name or ()
    last = names[-1] if names else None
    return str(last.sval) if isinstance(last, ast.String) else ""


def _list(node: Any) -> tuple[str, ...] | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    elements = node.elements if isinstance(node, ast.A_ArrayExpr) else node
    if not isinstance(elements, tuple | list):
        return None
    values = [_constant(e) for e in elements]
    return None if any(v is None for v in values) else tuple(v for v in values if v is not None)


def _read(node: Any, text: str, depth: int = 0) -> Expr:
    if depth > MAX_DEPTH:
        return Unknown(text)  # a predicate from dbtruth.yaml may nest NOT a thousand times
    if isinstance(node, ast.BoolExpr):
        kinds = {BoolExprType.AND_EXPR: "and", BoolExprType.OR_EXPR: "or"}
        op = kinds.get(node.boolop, "not") if node.boolop is not None else "not"
        return BoolOp(op, tuple(_read(arg, text, depth + 1) for arg in node.args or ()))
    if isinstance(node, ast.NullTest):
        column = _column(node.arg)
        if column is None:
            return Unknown(text)
        is_null = node.nulltesttype == NullTestType.IS_NULL
        return Atom(column, "is null" if is_null else "is not null")
    column = _column(node)
    if column is not None:  # a boolean column on its own
        return Atom(column, "=", ("true",))
    if isinstance(node, ast.A_Expr):
        return _comparison(node, text)
    return Unknown(text)


def _comparison(node: ast.A_Expr, text: str) -> Expr:
    op = _name(node)
    if node.kind == A_Expr_Kind.AEXPR_OP_ANY and op == "=":
        column, values = _column(node.lexpr), _list(node.rexpr)
        if column is not None and values:
            return Atom(column, "in", values)
        return Unknown(text)
    if node.kind == A_Expr_Kind.AEXPR_IN:
        column, values = _column(node.lexpr), _list(node.rexpr)
        if column is not None and values:
            return Atom(column, "in" if op == "=" else "not in", values)
        return Unknown(text)
    if node.kind != A_Expr_Kind.AEXPR_OP or op not in _FLIPPED:
        return Unknown(text)
    left, right = _column(node.lexpr), _column(node.rexpr)
    if left is not None and right is not None:
        return Atom(left, op, other=right)
    if left is not None and (value := _constant(node.rexpr)) is not None:
        return Atom(left, op, (value,))
    if right is not None and (value := _constant(node.lexpr)) is not None:
        return Atom(right, _FLIPPED[op], (value,))
    return Unknown(text)


def understood(expr: Expr) -> bool:
    if isinstance(expr, Unknown):
        return False
    if isinstance(expr, BoolOp):
        return all(understood(arg) for arg in expr.args)
    return True


def columns(expr: Expr) -> set[str]:
    if isinstance(expr, Atom):
        return {expr.column} | ({expr.other} if expr.other else set())
    if isinstance(expr, BoolOp):
        return set().union(*(columns(arg) for arg in expr.args))
    return set()


def solutions(expr: Expr, truth: bool) -> list[Solution]:
    """Ways to make `expr` true (or false), each a column -> Need map; empty when the shape is
    not understood or contradicts itself."""
    if isinstance(expr, Unknown):
        return []
    if isinstance(expr, Atom):
        return [_atom(expr, truth)]
    if expr.op == "not":
        return solutions(expr.args[0], not truth)
    # AND made true, and OR made false, need every part; the others need any one part.
    if (expr.op == "and") == truth:
        combined: list[Solution] = [{}]
        for arg in expr.args:
            parts = solutions(arg, truth)
            merged = [m for c, p in itertools.product(combined, parts) if (m := _merge(c, p))]
            combined = merged[:MAX_SOLUTIONS]
            if not combined:
                return []
        return combined
    found: list[Solution] = []
    for arg in expr.args:
        found += solutions(arg, truth)
    return found[:MAX_SOLUTIONS]


def _atom(atom: Atom, truth: bool) -> Solution:
    op = atom.op
    if op in ("is null", "is not null"):
        wants_null = (op == "is null") == truth
        return {atom.column: Need("null" if wants_null else "value")}
    if op in ("in", "not in"):
        inside = (op == "in") == truth
        need = Need("=", atom.constants[:1]) if inside else Need("<>", atom.constants)
        return {atom.column: need}
    if not truth:
        op = _NEGATED[op]
    if atom.other is not None:
        relation = {"<": "<", "<=": "=", ">": ">", ">=": "=", "=": "=", "<>": ">"}[op]
        return {atom.column: Need("rel", other=atom.other, relation=relation)}
    constant = atom.constants
    need = {
        "=": Need("=", constant),
        "<>": Need("<>", constant, soft=True),
        ">=": Need("=", constant, soft=True),
        "<=": Need("=", constant, soft=True),
        ">": Need(">", constant, soft=True),
        "<": Need("<", constant, soft=True),
    }[op]
    return {atom.column: need}


def _merge(left: Solution, right: Solution) -> Solution | None:
    merged = dict(left)
    for column, need in right.items():
        have = merged.get(column)
        if have is None or have == need or (have.op == "value" and need.op != "null"):
            merged[column] = need
        elif need.op == "value" and have.op != "null":
            continue
        elif have.soft and need.op != "null":
            merged[column] = need
        elif need.soft and have.op != "null":
            continue
        else:
            return None  # two different demands on one column: this way is closed
    return merged
