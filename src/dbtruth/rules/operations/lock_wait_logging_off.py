"""O012 lock-wait-logging-off."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O012", "lock-wait-logging-off", Severity.INFO)
def lock_wait_logging_off(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a server with `log_lock_waits` off.

    ## Why is this bad?
    A session that waits longer than `deadlock_timeout` for a lock is then logged with who held
    it: the trace a lock storm leaves behind (§9 "Deadlock storm"). Off, the storm is gone by the
    time anyone looks, and nothing says which transaction started it.

    ## Example
    ```
    log_lock_waits = off   # the default before PostgreSQL 18
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET log_lock_waits = on;
    SELECT pg_reload_conf();
    ```

    ## Fix safety
    A reload, no restart; one log line per wait longer than deadlock_timeout (1 s by default).

    ## References
    PostgreSQL manual 20.8.4 What to Log (log_lock_waits); playbook §9, §10.1.
    """
    setting = facts.setting("log_lock_waits")
    if setting is None or setting.value != "off":
        return
    yield Violation(
        ObjectRef("setting", "", "log_lock_waits"),
        "log_lock_waits is off: a lock wait leaves no trace of who held the lock",
        Fix(
            "log lock waits",
            sql="ALTER SYSTEM SET log_lock_waits = on;\nSELECT pg_reload_conf();",
            lock_safe=True,
            note="a reload, no restart",
        ),
        evidence=(
            ("log_lock_waits", f"off ({setting.where})"),
            ("deadlock_timeout", facts.value("deadlock_timeout", "?")),
        ),
    )
