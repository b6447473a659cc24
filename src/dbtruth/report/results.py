"""The ReportContext of each command's result: what the renderers of `check` and
`migrate lint` are given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.report.context import ReportContext

if TYPE_CHECKING:  # each command imports its own capability, not the other's (psycopg)
    from dbtruth.check import CheckedTarget
    from dbtruth.migrate.run import MigrationLint, Replayed


def check_context(checked: CheckedTarget) -> ReportContext:
    catalog = checked.catalog
    return ReportContext(
        result=checked.result,
        target=checked.label,
        source=catalog.source,
        server_version=catalog.server_version,
        rules=tuple(s for s in engine.all_specs() if s.kind == "catalog"),
        fail_on=checked.threshold or Severity.ERROR,
        tables=len(catalog.tables),
        load_problems=catalog.load_problems,
        notes=checked.notes,
    )


def migration_context(linted: MigrationLint, target: str) -> ReportContext:
    """`target`: the migration paths as the user named them."""
    phases = [{"file": file, "phase": phase} for file, phase in linted.phases.items()]
    replay = {} if linted.replayed is None else {"replay": replay_section(linted.replayed)}
    return ReportContext(
        extra={"migrations": phases, **replay},
        result=linted.result,
        target=target,
        source=linted.source,
        server_version=str(linted.pg_major),
        rules=engine.migration_specs()
        + (engine.workload_specs() if linted.replayed and linted.replayed.workload_planned else ()),
        fail_on=linted.threshold or Severity.ERROR,
        tables=linted.statements,
        load_problems=tuple(linted.problems),
        notes=linted.notes,
        subject="statement",
        title="dbtruth migrate lint",
    )


def replay_section(replayed: Replayed) -> dict[str, object]:
    """The JSON of what the clone showed, statement by statement."""
    statements = [
        {
            "file": o.file,
            "line": o.line,
            "locks": o.locks,
            "rewritten": list(o.rewritten),
            "observable": o.observable,
        }
        for o in replayed.observations
    ]
    failure = replayed.failure
    return {
        "server": replayed.server,
        "statements": statements,
        "differences": [d.__dict__ for d in replayed.differences],
        "failure": None if failure is None else failure.__dict__,
    }
