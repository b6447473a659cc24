"""O006 long-running-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.rules.ops_text import duration, statement
from dbtruth.spec import Settings, ops_rule


@ops_rule("O006", "long-running-transaction", Severity.WARNING)
def long_running_transaction(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds sessions whose transaction has been open longer than `long_transaction_seconds`
    (default 300) while working (idle-in-transaction sessions are O005's).

    ## Why is this bad?
    A long transaction holds back the xmin horizon: VACUUM cannot remove row versions that died
    after it began, on any table, and the tables it writes stay locked against conflicting
    changes for its whole length. A report or a backfill run as one transaction is the usual
    cause (Principle 7: a backfill is chunked).

    ## Example
    ```sql
    BEGIN; UPDATE event SET kind = lower(kind);  -- 200 million rows, one transaction
    ```

    ## Use instead
    Chunked work committing per chunk (`dbtruth backfill`), reports on a replica, and a
    `statement_timeout` for application roles (O013).

    ## Fix safety
    No fix is produced: ending a working transaction loses its work; whether it may finish is
    the owner's decision.

    ## References
    PostgreSQL manual 24.1.5 Preventing Transaction ID Wraparound Failures, 28.2.3
    pg_stat_activity; playbook Principle 7, §6.9.
    """
    limit = settings.ops.long_transaction_seconds
    for session in facts.sessions:
        if (session.state or "").startswith("idle in transaction"):
            continue  # O005
        if (session.transaction_seconds or 0) < limit:
            continue
        yield Violation(
            ObjectRef("session", "", f"pid {session.pid}"),
            f"session {session.pid} ({session.user or '?'}) has had a transaction open for "
            f"{duration(session.transaction_seconds)} ({session.state or 'state unknown'}): "
            "VACUUM cannot remove rows that died since it began",
            evidence=(("statement", statement(session)), ("waiting", session.wait or "no")),
        )
