"""The gate for SQL from dbtruth.yaml that runs on a live target: `prove --data`'s detective
queries, `drift`'s source queries.

A detective query comes from a file a pull request may change. The session it runs in cannot
write (every transaction is read-only, statements are bounded by the statement timeout), but a
read-only transaction still lets a query signal other backends, read server files, reload the
configuration or hold advisory locks. So the query must be one plain SELECT — no data-modifying
WITH, no SELECT INTO, no FOR UPDATE — and call none of the server's administrative functions.
"""

from __future__ import annotations

from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

# Functions that act beyond reading rows: signals, files, configuration, replication, locks,
# other servers, large objects. Matched by name, whatever the schema.
_REFUSED = (
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
    "set_config", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "pg_promote",
    "pg_create_restore_point", "pg_switch_wal", "pg_backup_start", "pg_backup_stop",
    "pg_log_backend_memory_contexts", "pg_notify", "txid_current", "pg_current_xact_id",
    "nextval", "setval", "pg_logical_emit_message",
)  # fmt: skip
_REFUSED_PREFIXES = (
    "lo_", "dblink", "pg_advisory", "pg_try_advisory", "pg_replication_", "pg_create_",
    "pg_drop_", "pg_copy_", "pg_ls_",
)  # fmt: skip


class _Calls(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.writes = False
        self.locks = False

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        if node.funcname:
            self.names.append(str(node.funcname[-1].sval).lower())

    def visit_SelectStmt(self, ancestors: Any, node: ast.SelectStmt) -> None:
        self.locks = self.locks or bool(node.lockingClause)

    def visit_InsertStmt(self, ancestors: Any, node: ast.Node) -> None:
        self.writes = True

    visit_UpdateStmt = visit_InsertStmt
    visit_DeleteStmt = visit_InsertStmt
    visit_MergeStmt = visit_InsertStmt


def refusal(query: str) -> str | None:
    """Why `query` may not run on a live target, or None when it is one plain SELECT."""
    try:
        statements = parse_sql(query)
    except ParseError as exc:
        return f"cannot parse: {exc}"
    except RecursionError:
        return "nested deeper than dbtruth reads"
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return "a detective query is one SELECT statement"
    select = statements[0].stmt
    if select.intoClause is not None:
        return "SELECT INTO creates a table"
    calls = _Calls()
    calls(select)
    if select.lockingClause or calls.locks:
        return "a locking clause (FOR UPDATE, FOR SHARE) takes row locks"
    if calls.writes:
        return "a data-modifying WITH writes"
    return _refused_call(calls)


def administrative_call(node: Any) -> str | None:
    """Why a statement dbtruth runs for the user (a backfill's chunk) may not run: it calls
    a function that acts on the server beyond its rows. None when it calls none."""
    calls = _Calls()
    calls(node)
    return _refused_call(calls)


def _refused_call(calls: _Calls) -> str | None:
    for name in calls.names:
        if name in _REFUSED or name.startswith(_REFUSED_PREFIXES):
            return f"it calls {name}(), which acts on the server beyond reading rows"
    return None
