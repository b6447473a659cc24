"""O004 blocked-session."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts, Session
from dbtruth.rules.ops_text import duration, statement
from dbtruth.spec import Settings, ops_rule


@ops_rule("O004", "blocked-session", Severity.WARNING)
def blocked_session(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds sessions that have waited for a lock longer than `lock_wait_seconds` (default 10),
    and names the chain of sessions blocking each, down to the one that blocks without waiting
    (pg_blocking_pids): who it is, how long its transaction has been open, its last statement.

    ## Why is this bad?
    A lock queue grows behind its head: every later writer (and, behind an ACCESS EXCLUSIVE
    request, every reader) waits too, and the application sees timeouts everywhere at once.
    The playbook's incident order starts with stopping the blast radius (§10.1): that needs the
    head of the queue, not the hundred sessions behind it.

    ## Example
    ```sql
    -- session 1                              -- session 2
    BEGIN; UPDATE account SET balance = 0     UPDATE account SET balance = 1 WHERE id = 7;
     WHERE id = 7;  -- and then nothing       -- waits
    ```

    ## Use instead
    Short transactions that commit or roll back, `lock_timeout` on the waiting side, and
    `idle_in_transaction_session_timeout` for the application role (O013).

    ## Fix safety
    The fix terminates the session at the head of the chain: its open transaction is rolled
    back (its uncommitted work is lost), and the application sees a broken connection.
    dbtruth never runs it; it is the responder's decision, after preserving the evidence
    (`dbtruth incident`).

    ## References
    PostgreSQL manual 13.3 Explicit Locking, 28.2.3 pg_stat_activity, 9.27.2 pg_blocking_pids;
    playbook §9 "Deadlock storm", §10.1.
    """
    by_pid = {s.pid: s for s in facts.sessions}
    limit = settings.ops.lock_wait_seconds
    for session in facts.sessions:
        waiting = (session.wait or "").startswith("Lock")
        if not session.blocked_by or not waiting or (session.state_seconds or 0) < limit:
            continue
        chain = _chain(session, by_pid)
        head = chain[-1]
        opened = (
            f", its transaction open {duration(head.transaction_seconds)}"
            if head.transaction_seconds
            else ""
        )
        yield Violation(
            ObjectRef("session", "", f"pid {session.pid}"),
            f"session {session.pid} ({session.user or '?'}) has waited "
            f"{duration(session.state_seconds)} for a lock held by session {head.pid} "
            f"({head.user or '?'}, {head.state or 'state unknown'}{opened})",
            Fix(
                "end the session at the head of the chain (its transaction rolls back)",
                sql=f"SELECT pg_terminate_backend({head.pid});",
                lock_safe=True,
                behaviour_change=True,
                data_loss=True,
                note="never run by dbtruth; preserve the evidence first",
            ),
            evidence=(
                ("waiting", f"{session.wait}; {statement(session)}"),
                *(
                    (f"blocked by {s.pid}", f"{s.user or '?'}, {s.state or '?'}, {statement(s)}")
                    for s in chain
                ),
            ),
        )


def _chain(session: Session, by_pid: dict[int, Session]) -> list[Session]:
    """The sessions blocking `session`, following the first blocker until one waits for no
    one (or a cycle, which PostgreSQL's deadlock detector will break)."""
    chain: list[Session] = []
    seen = {session.pid}
    current = session
    while current.blocked_by:
        nxt = by_pid.get(current.blocked_by[0])
        if nxt is None or nxt.pid in seen:
            break
        chain.append(nxt)
        seen.add(nxt.pid)
        current = nxt
    return chain or [Session(session.blocked_by[0], None, "", None, None, None, None, "")]
