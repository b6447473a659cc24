"""Whether a column default is computed once or for every row. Since PostgreSQL 11, ADD COLUMN
with a default that calls no volatile function evaluates it once and stores the value in the
catalog (instant); a volatile call is evaluated for every existing row, which rewrites the
table under ACCESS EXCLUSIVE.

Built-in functions carry PostgreSQL's own volatility (pg_functions.txt, read from pg_proc and
checked against it on every server the tests run); functions the migration set creates carry
the volatility they were declared with (VOLATILE when the declaration says nothing, as in
PostgreSQL); any other function is unknown, and assumed volatile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from pglast import ast
from pglast.parser import ParseError, parse_sql_json

from dbtruth.model.migration import JsonExpr

# Extensions' functions seen in defaults that differ per row (uuid-ossp, pgcrypto).
EXTENSION_VOLATILE = frozenset(
    {"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "gen_random_bytes", "gen_salt"}
)
_VOLATILITY = {"volatile": "v", "stable": "s", "immutable": "i"}


@cache
def builtin_volatility() -> dict[str, str]:
    """pg_catalog's function names -> 'v', 's' or 'i' (the most volatile of the overloads)."""
    text = resources.files("dbtruth.rules").joinpath("pg_functions.txt").read_text("utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, volatility = line.partition(" ")
            found[name] = volatility
    return found


def called_functions(expr: Any) -> list[tuple[str | None, str]]:
    """(schema or None, name) of every function an expression calls, outermost first."""
    calls: list[tuple[str | None, str]] = []
    stack = [expr.data if isinstance(expr, JsonExpr) else expr]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            call = value.get("FuncCall")
            if isinstance(call, dict) and call.get("funcname"):
                parts = [str(p["String"]["sval"]) for p in call["funcname"]]
                calls.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list | tuple):
            stack.extend(reversed(value))
        elif isinstance(value, ast.Node):
            if isinstance(value, ast.FuncCall) and value.funcname:
                parts = [p.sval for p in value.funcname]
                calls.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
            stack.extend(reversed([getattr(value, slot) for slot in value]))
    return calls


@dataclass(frozen=True, slots=True)
class VolatileCall:
    """The call that makes a default volatile, and how dbtruth knows."""

    name: str
    known: bool  # False: neither built in nor created by the migration set, assumed volatile
    defined_in_set: bool

    def reason(self) -> str:
        if not self.known:
            return (
                f"the default calls {self.name}(), which is neither built in nor created by the "
                "migration set: assumed volatile (PostgreSQL's default), so it is evaluated for "
                "every row — declared STABLE or IMMUTABLE, the column would be added instantly"
            )
        where = ", declared VOLATILE in the migration set" if self.defined_in_set else ""
        return f"the default calls {self.name}(){where}: volatile, a new value for every row"


def volatile_call(
    expr: Any, functions: Mapping[str, Sequence[str]], _seen: frozenset[str] = frozenset()
) -> VolatileCall | None:
    """The first call in a default that is volatile (known) or unknown (assumed volatile),
    preferring a known one; None when every call is stable or immutable. `functions` holds
    the CREATE/ALTER FUNCTION statements of the migration set by function name."""
    builtins: dict[str, str] | None = None
    unknown: VolatileCall | None = None
    for schema, name in called_functions(expr):
        if schema in (None, "pg_catalog"):
            builtins = builtins if builtins is not None else builtin_volatility()
            if name in builtins:
                if builtins[name] == "v":
                    return VolatileCall(name, known=True, defined_in_set=False)
                continue
        if name in functions and name not in _seen:
            if function_volatility(name, functions, _seen | {name}) == "v":
                return VolatileCall(name, known=True, defined_in_set=True)
            continue
        if name in EXTENSION_VOLATILE:
            return VolatileCall(name, known=True, defined_in_set=False)
        shown = f"{schema}.{name}" if schema else name
        unknown = unknown or VolatileCall(shown, known=False, defined_in_set=False)
    return unknown


def _parsed(sql: str) -> Any:
    try:
        return json.loads(parse_sql_json(sql))
    except (ParseError, ValueError, RecursionError):  # nested deeper than the decoder goes
        return None


@dataclass(frozen=True, slots=True)
class _Declaration:
    """What one CREATE or ALTER FUNCTION statement says about volatility."""

    creates: bool
    volatility: str | None  # as written; None when the statement says nothing
    inlined: Any  # the expression a call is replaced with (CREATE of a VOLATILE sql function)


@lru_cache(maxsize=4096)
def _declarations(sql: str) -> tuple[_Declaration, ...]:
    """Parsed once per statement text: a migration set may define one function hundreds of
    times, and every default that calls it asks again."""
    tree = _parsed(sql)
    found: list[_Declaration] = []
    for raw in tree.get("stmts", []) if tree else ():
        stmt = raw.get("stmt", {})
        if created := stmt.get("CreateFunctionStmt"):
            volatility = _declared(created.get("options"))
            inlined = _inlined(created) if volatility in (None, "v") else None
            found.append(_Declaration(True, volatility, inlined))
        elif altered := stmt.get("AlterFunctionStmt"):
            found.append(_Declaration(False, _declared(altered.get("actions")), None))
    return tuple(found)


def function_volatility(
    name: str, functions: Mapping[str, Sequence[str]], _seen: frozenset[str] = frozenset()
) -> str:
    """'v', 's' or 'i' for a function the set defines, from its last CREATE FUNCTION (VOLATILE
    unless it says otherwise, as in PostgreSQL) and any ALTER FUNCTION after it."""
    altered: str | None = None
    for sql in reversed(functions.get(name, ())):
        for declaration in reversed(_declarations(sql)):
            if not declaration.creates:
                altered = altered or declaration.volatility
                continue
            if altered:
                return altered
            if declaration.volatility not in (None, "v"):
                return declaration.volatility
            if declaration.inlined is None:
                return "v"
            # The planner replaces a call of such a function by its expression before
            # PostgreSQL asks whether a default is volatile: the body decides.
            called = volatile_call(JsonExpr(declaration.inlined), functions, _seen)
            return "v" if called else "s"
    return altered or "v"


def _declared(options: Any) -> str | None:
    for option in options or ():
        element = option.get("DefElem", {})
        if element.get("defname") == "volatility":
            word = str(element.get("arg", {}).get("String", {}).get("sval", "")).lower()
            return _VOLATILITY.get(word)
    return None


def _has_key(value: Any, key: str) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _inlined(created: dict[str, Any]) -> Any:
    """The expression a call of this function is replaced with when the planner inlines it
    (inline_function in clauses.c: LANGUAGE sql, one SELECT of one expression and nothing
    else, no SETOF, STRICT, SECURITY DEFINER, SET or subquery); None when it is not."""
    options: dict[str, Any] = {}
    for option in created.get("options") or ():
        element = option.get("DefElem", {})
        options[element.get("defname")] = element.get("arg")
    language = (options.get("language") or {}).get("String", {}).get("sval", "")
    flagged = any(
        (options.get(flag) or {}).get("Boolean", {}).get("boolval")
        for flag in ("strict", "security")
    )
    if language.lower() != "sql" or flagged or "set" in options:
        return None
    if (created.get("returnType") or {}).get("setof"):
        return None
    body = created.get("sql_body")
    if isinstance(body, dict) and "ReturnStmt" in body:
        expr = body["ReturnStmt"].get("returnval")
    else:
        select = None
        if isinstance(body, dict):  # BEGIN ATOMIC … END: a list of statement lists
            items = [i for group in body.get("List", {}).get("items", [])
                     for i in group.get("List", {}).get("items", [])]  # fmt: skip
            select = items[0].get("SelectStmt") if len(items) == 1 else None
        elif isinstance(options.get("as"), dict):
            texts = options["as"].get("List", {}).get("items", [])
            tree = _parsed(texts[0]["String"]["sval"]) if len(texts) == 1 else None
            stmts = tree.get("stmts", []) if tree else []
            select = stmts[0]["stmt"].get("SelectStmt") if len(stmts) == 1 else None
        if not select or set(select) - {"targetList", "limitOption", "op"}:
            return None
        targets = select.get("targetList") or []
        expr = targets[0].get("ResTarget", {}).get("val") if len(targets) == 1 else None
    if expr is None or _has_key(expr, "SubLink"):
        return None
    return expr
