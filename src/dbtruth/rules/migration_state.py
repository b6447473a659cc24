"""What a statement leaves behind that decides what later statements cost: tables the
migration emptied, the session's TimeZone, and the functions the set creates with their
volatility. The lint runner calls `after_statement` after each statement (next to
`dbtruth.migrate.lint.advance`, which keeps the rest of the state)."""

from __future__ import annotations

import json
import re
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, TransactionStmtKind, VariableSetKind
from pglast.parser import ParseError, parse_sql_json
from pglast.visitors import Visitor

from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import fills_every_row, relation_name

_END = (
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
)
# Statements that may write rows into any table (COPY, MERGE, a DO block, a procedure, a
# SELECT of a function): a table emptied before them is no longer known to be empty.
_MAY_WRITE_ANYWHERE = frozenset(
    {"CopyStmt", "MergeStmt", "DoStmt", "CallStmt", "SelectStmt", "ExecuteStmt"}
)
_IDENTIFIER = r'(?:"(?:[^"]|"")+"|[^\s."(]+)'
_FUNCTION_NAME = re.compile(
    rf"(?:CREATE\s+(?:OR\s+REPLACE\s+)?|ALTER\s+)FUNCTION\s+(?:{_IDENTIFIER}\s*\.\s*)?"
    rf"({_IDENTIFIER})",
    re.I,
)


def statement_kind(node: Any) -> str:
    """PostgreSQL's name for a statement's kind, whether its tree was built or only its
    syntax checked (then the node keeps the kind as a string)."""
    kind = getattr(node, "kind", None)
    return kind if isinstance(kind, str) else type(node).__name__


def requires_empty(node: Any, state: MigrationState) -> str | None:
    """The table a statement can only succeed on when it is empty: an ALTER TABLE that adds a
    NOT NULL column with nothing to fill it (PostgreSQL refuses it as soon as a row exists)."""
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return None
    for cmd in node.cmds or ():
        column = cmd.def_
        if (
            cmd.subtype == AlterTableType.AT_AddColumn
            and isinstance(column, ast.ColumnDef)
            and any(c.contype == ConstrType.CONSTR_NOTNULL for c in column.constraints or ())
            and not fills_every_row(column)
        ):
            return relation_name(node.relation, state)
    return None


def after_statement(state: MigrationState, statement: MigrationStatement) -> None:
    node = statement.node
    _copies(state, node, statement.line)
    if (table := requires_empty(node, state)) is not None:
        state.emptied.add(table)  # had it held a row, the migration would have stopped here
    if isinstance(node, ast.TruncateStmt):
        state.emptied |= {relation_name(r, state) for r in node.relations or ()}
    elif isinstance(node, ast.DeleteStmt) and node.relation is not None:
        if node.whereClause is None and not node.usingClause:
            state.emptied.add(relation_name(node.relation, state))
    elif isinstance(node, ast.InsertStmt) and node.relation is not None:
        state.emptied.discard(relation_name(node.relation, state))
    elif isinstance(node, ast.VariableSetStmt):
        _set(state, node)
    elif isinstance(node, ast.TransactionStmt):
        if node.kind in _END:
            state.local_timezone = None
    else:
        kind = statement_kind(node)
        writes = kind in _MAY_WRITE_ANYWHERE
        if kind in ("CreateFunctionStmt", "AlterFunctionStmt"):
            _function(state, statement.sql)
        elif kind == "SelectStmt" and "set_config" in statement.sql.lower():
            writes = not _set_config(state, statement.sql)
        elif kind == "DiscardStmt" and "all" in statement.sql.lower():
            state.timezone = state.local_timezone = None  # DISCARD ALL resets the session
        if writes:
            state.emptied.clear()
    if state.emptied and state.unfilled_columns:
        # a table with no rows has no old rows left without a value
        state.unfilled_columns = {c for c in state.unfilled_columns if c[0] not in state.emptied}


class _ColumnNames(Visitor):
    """The column names an expression reads (the last part of each column reference)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> None:
        last = (node.fields or ())[-1:]
        if last and isinstance(last[0], ast.String) and last[0].sval:
            self.found.add(last[0].sval)


def _read_columns(expression: Any) -> set[str]:
    names = _ColumnNames()
    names(expression)
    return names.found


def _copies(state: MigrationState, node: Any, line: int) -> None:
    """Columns whose values this statement writes somewhere else, so that dropping them later
    in the file loses nothing: an UPDATE setting one column from another of the same row
    (`SET output = json_build_object('completion', completion)`), an INSERT … SELECT reading
    one table."""
    if isinstance(node, ast.UpdateStmt) and node.relation is not None:
        table = relation_name(node.relation, state)
        for target in node.targetList or ():
            written = target.name or ""
            for name in _read_columns(target.val) - {written}:
                state.copied_columns.setdefault((table, name), (line, f"{table}.{written}"))
    elif isinstance(node, ast.InsertStmt) and node.relation is not None:
        select = getattr(node, "selectStmt", None)
        sources = (select.fromClause or ()) if isinstance(select, ast.SelectStmt) else ()
        if len(sources) != 1 or not isinstance(sources[0], ast.RangeVar):
            return
        source = relation_name(sources[0], state)
        into = relation_name(node.relation, state)
        for target in select.targetList or ():  # type: ignore[union-attr]
            for name in _read_columns(target.val):
                state.copied_columns.setdefault((source, name), (line, into))


def _zone(node: ast.VariableSetStmt) -> str | None:
    """The value of SET TIME ZONE / SET timezone as text ('UTC', '0', '+00:00'), or None for
    DEFAULT, LOCAL and RESET (the server's setting)."""
    if node.kind != VariableSetKind.VAR_SET_VALUE or not node.args:
        return None
    value = node.args[0]
    if isinstance(value, ast.TypeCast):  # SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE
        value = value.arg
    constant = getattr(value, "val", None)
    for attribute in ("sval", "ival", "fval"):
        found = getattr(constant, attribute, None)
        if found is not None:
            return str(found)
    return None


def _set(state: MigrationState, node: ast.VariableSetStmt) -> None:
    if node.kind == VariableSetKind.VAR_RESET_ALL:
        state.timezone = state.local_timezone = None
    elif (node.name or "").lower() == "timezone":
        _apply(state, _zone(node), bool(node.is_local))


def _apply(state: MigrationState, zone: str | None, local: bool) -> None:
    if not local:
        state.timezone, state.local_timezone = zone, None
    elif state.in_transaction:  # SET LOCAL outside a transaction block does nothing
        state.local_timezone = zone
        if zone is None:
            state.timezone = None  # back to the server's for now: unknown


def _parsed(sql: str) -> Any:
    try:
        return json.loads(parse_sql_json(sql))
    except (ParseError, ValueError, RecursionError):  # nested deeper than the decoder goes
        return None


def _walk(value: Any, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get(key), dict):
                found.append(item[key])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _constant(node: Any) -> Any:
    """An A_Const's string or boolean value; None when the argument is not a constant."""
    const = node.get("A_Const") if isinstance(node, dict) else None
    if const is None:
        return None
    if "sval" in const:
        return str(const["sval"].get("sval", ""))
    if "boolval" in const:
        return bool(const["boolval"].get("boolval", False))
    return None


def _set_config(state: MigrationState, sql: str) -> bool:
    """Follows `SELECT set_config('TimeZone', 'UTC', is_local)`; whether the statement calls
    nothing else (then it writes no rows)."""
    tree = _parsed(sql)
    if tree is None:
        return False
    calls = _walk(tree, "FuncCall")
    for call in calls:
        name = call["funcname"][-1]["String"]["sval"]
        args = call.get("args") or []
        if name != "set_config" or len(args) != 3:
            continue
        setting = _constant(args[0])
        if isinstance(setting, str) and setting.lower() != "timezone":
            continue
        # a setting or value computed at run time: the TimeZone may have changed, to anything
        zone = _constant(args[1]) if isinstance(setting, str) else None
        local = _constant(args[2])
        if isinstance(local, str):
            local = local.strip().lower() not in ("false", "f", "off", "no", "0")
        _apply(state, zone if isinstance(zone, str) else None, local is not False)
    return all(c["funcname"][-1]["String"]["sval"] == "set_config" for c in calls)


def _function(state: MigrationState, sql: str) -> None:
    """Keeps CREATE/ALTER FUNCTION by the function's name: parsed only if a default calls it."""
    match = _FUNCTION_NAME.match(sql)
    if match:
        name = match.group(1)
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
        state.functions.setdefault(name, []).append(sql)
