"""`dbtruth ops`'s report: the findings, and for people the server's readiness at a glance
(each setting with where it comes from) and who blocks whom."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.report.context import ReportContext

if TYPE_CHECKING:
    from dbtruth.ops.run import OpsResult

_EMPTY = "''"
_SHOWN = ("shared_preload_libraries", "statement_timeout", "idle_in_transaction_session_timeout",
          "log_min_duration_statement", "log_lock_waits", "archive_mode", "data_checksums",
          "max_connections")  # fmt: skip


def ops_context(done: OpsResult) -> ReportContext:
    facts = done.facts
    settings = [
        f"{name} = {found.value or _EMPTY}  ({found.where})"
        for name in _SHOWN
        if (found := facts.setting(name)) is not None
    ]
    archiver = facts.archiver
    state = [
        f"client sessions: {facts.connections}; transaction ID age {facts.database_xid_age:,}, "
        f"multixact age {facts.database_mxid_age:,}",
        f"replication slots: {len(facts.slots)}" + ("; a standby" if facts.in_recovery else ""),
    ]
    if archiver is not None:
        state.append(
            f"archiver: {archiver.archived_count:,} archived, {archiver.failed_count:,} failed"
        )
    specs = [s for s in engine.all_specs() if s.kind == "ops" or s.code in done.catalog_codes]
    return ReportContext(
        result=done.result,
        target=done.label,
        source=done.source,
        server_version=done.server_version,
        rules=tuple(specs),
        fail_on=done.threshold or Severity.ERROR,
        tables=len(facts.tables),
        notes=done.notes,
        title="dbtruth ops",
        extra={"server": _server_dict(done)},
        blocks=[("settings (and where each comes from)", settings), ("state", state)],
    )


def _server_dict(done: OpsResult) -> dict[str, Any]:
    facts = done.facts
    return {
        "database": facts.database,
        "collected_at": facts.collected_at,
        "settings": {
            s.name: {"value": s.value, "source": s.source} for s in facts.settings.values()
        },
        "connections": facts.connections,
        "xid_age": facts.database_xid_age,
        "mxid_age": facts.database_mxid_age,
        "in_recovery": facts.in_recovery,
        "slots": [
            {"name": s.name, "kind": s.kind, "active": s.active, "retained_bytes": s.retained_bytes}
            for s in facts.slots
        ],
        "sessions": [
            {
                "pid": s.pid,
                "user": s.user,
                "state": s.state,
                "blocked_by": list(s.blocked_by),
                "transaction_seconds": s.transaction_seconds,
            }
            for s in facts.sessions
        ],
    }
