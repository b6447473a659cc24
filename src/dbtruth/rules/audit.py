"""Which tables are audit logs: records of who did what, to what, when, kept as evidence.

Three ways to know, strongest first: dbtruth.yaml declares the table's role `audit`; its head
noun says it records history (`case_audit`, `case_state_transition`, `ledger_entry`); or its
name speaks of a log, events or activity and its shape is that of a log — an actor column, a
time column, an action or a target, and nothing that marks a row as meant to change later
(`updated_at`, `status`, `processed_at`). Shape is what tells `secret_access_logs` (who read
which secret when) from `webhook_events` (a queue) or Matrix's `events` (the product's data).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from dbtruth.model import Catalog, Column, Table
from dbtruth.rules.naming import tenant_key, tokens
from dbtruth.spec import Settings

APPEND_ONLY_WORDS = frozenset(
    [
        "audit",
        "audits",
        "ledger",
        "journal",
        "transition",
        "transitions",
        "history",
        "histories",
        "custody",
    ]
)

# Two-word heads that name a record of what happened.
_APPEND_ONLY_PAIRS = (
    ("audit", "log"),
    ("audit", "logs"),
    ("event", "log"),
    ("audit", "event"),
    ("audit", "events"),
    ("audit", "trail"),
    ("log", "entries"),
    ("ledger", "entry"),
    ("ledger", "entries"),
    ("journal", "entry"),
    ("journal", "entries"),
)

# Head nouns of tables that may be logs; only the shape decides.
_LOG_HEADS = frozenset(
    ["log", "logs", "event", "events", "activity", "activities", "trail", "trails"]
)
_ACTOR_WORDS = frozenset(
    ["actor", "principal", "performer", "initiator", "accessor", "impersonator", "ip"]
)
_ACTOR_TAILS = frozenset(
    [("user", "id"), ("users", "id"), ("member", "id"), ("identity", "id"), ("user", "agent")]
)
_ACTION_WORDS = frozenset(
    ["action", "event", "operation", "op", "verb", "activity", "method", "type", "kind"]
)
_TARGET_WORDS = frozenset(
    ["resource", "target", "object", "entity", "subject", "record", "path", "endpoint"]
)
# Columns that say a row is meant to change after it is written: a queue, a cache, a state.
_MUTABLE_WORDS = frozenset(
    [
        "updated",
        "modified",
        "processed",
        "published",
        "consumed",
        "delivered",
        "acknowledged",
        "attempts",
        "retries",
        "locked",
        "deleted",
        "expires",
    ]
)


def is_append_only_by_name(table: Table) -> bool:
    """The table's head noun (its last word) says it records history: `case_audit`,
    `case_state_transition`, `audit_log_entries` — but not `history_tasks` or `history_node`,
    where "history" only qualifies the thing the table holds."""
    parts = tokens(table.name)
    return bool(parts) and (parts[-1] in APPEND_ONLY_WORDS or parts[-2:] in _APPEND_ONLY_PAIRS)


def declared(patterns: dict[str, object], table: Table) -> str | None:
    """The dbtruth.yaml key (a table name or glob) that names `table`, if any."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(table.qualified, pattern) or fnmatch.fnmatchcase(
            table.name, pattern
        ):
            return pattern
    return None


def _is_actor(column: Column) -> bool:
    parts = tokens(column.name)
    return bool(parts) and (
        parts[-1] == "by" or bool(_ACTOR_WORDS & set(parts)) or parts[-2:] in _ACTOR_TAILS
    )


def _is_mutable_marker(column: Column) -> bool:
    parts = tokens(column.name)
    return bool(_MUTABLE_WORDS & set(parts)) or parts in (("status",), ("state",))


@dataclass(frozen=True, slots=True)
class LogShape:
    actor: str
    time: str
    subject: str  # the action or target column


def log_shape(catalog: Catalog, table: Table, settings: Settings) -> LogShape | None:
    """Actor, time and action/target columns of a table shaped like a log, or None when one is
    missing or a column marks rows as meant to change."""
    if any(_is_mutable_marker(c) for c in table.columns):
        return None
    tenant = tenant_key(table, settings)
    referencing = {
        name
        for fk in catalog.constraints_of(table)
        if fk.kind == "foreign key"
        for name in fk.columns
    }
    actor = time = subject = None
    for column in table.columns:
        parts = tokens(column.name)
        if tenant is not None and column.name == tenant.name:
            continue
        if actor is None and _is_actor(column):
            actor = column.name
        elif time is None and column.type_category == "D":
            time = column.name
        elif subject is None and (
            (parts and parts[-1] in _ACTION_WORDS)
            or bool(_TARGET_WORDS & set(parts))
            or (column.name in referencing and parts != ("id",))
        ):
            subject = column.name
    if actor is None or time is None or subject is None:
        return None
    return LogShape(actor, time, subject)


def audit_evidence(catalog: Catalog, table: Table, settings: Settings) -> str | None:
    """How we know `table` is an audit log, or None when it is not one."""
    truth = settings.design.truth
    key = declared(dict(truth), table)
    if key is not None and truth[key].role == "audit":
        return f"declared role audit ({key} in dbtruth.yaml)"
    if is_append_only_by_name(table):
        return "name"
    parts = tokens(table.name)
    if not parts or not (parts[-1] in _LOG_HEADS or "audit" in parts):
        return None
    shape = log_shape(catalog, table, settings)
    if shape is None:
        return None
    return f"name and shape (actor {shape.actor}, time {shape.time}, action/target {shape.subject})"
