"""O005 idle-in-transaction-session."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import ident
from dbtruth.rules.ops_text import duration, statement
from dbtruth.spec import Settings, ops_rule


@ops_rule("O005", "idle-in-transaction-session", Severity.WARNING)
def idle_in_transaction_session(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds sessions that have sat idle inside an open transaction for longer than
    `idle_in_transaction_seconds` (default 60): a transaction begun and neither committed nor
    rolled back, usually an application that took a connection from its pool and forgot it.

    ## Why is this bad?
    The open transaction keeps every lock it took, so writers queue behind it (O004), and it
    holds back the xmin horizon, so VACUUM cannot remove any row version that died since it
    began, on any table: bloat grows everywhere while it sits (§9 "Deadlock storm", §6.9).

    ## Example
    ```sql
    BEGIN;
    SELECT * FROM case_file WHERE id = 1 FOR UPDATE;
    -- the request handler returned; the connection went back to the pool
    ```

    ## Use instead
    ```sql
    ALTER ROLE app SET idle_in_transaction_session_timeout = '60s';
    ```

    ## Fix safety
    The setting applies to new sessions of the role; a session idle in a transaction longer
    than it is then ended by the server and its transaction rolled back — a changed behaviour
    the application must handle (retry, or not leaving transactions open).

    ## References
    PostgreSQL manual 20.11.1 idle_in_transaction_session_timeout, 28.2.3 pg_stat_activity;
    playbook §6.9, §9.
    """
    limit = settings.ops.idle_in_transaction_seconds
    for session in facts.sessions:
        if not (session.state or "").startswith("idle in transaction"):
            continue
        if (session.state_seconds or 0) < limit:
            continue
        role = session.user or "the application role"
        yield Violation(
            ObjectRef("session", "", f"pid {session.pid}"),
            f"session {session.pid} ({role}, {session.application or 'no application name'}) "
            f"has been {session.state} for {duration(session.state_seconds)}, its transaction "
            f"open {duration(session.transaction_seconds)}: its locks stay held and VACUUM "
            "cannot remove rows that died since it began",
            Fix(
                "let the server end transactions left idle",
                sql=f"ALTER ROLE {ident(role)} SET idle_in_transaction_session_timeout = '60s';"
                if session.user
                else None,
                lock_safe=True,
                behaviour_change=True,
                note="applies to the role's new sessions",
            ),
            evidence=(("last statement", statement(session)),),
        )
