"""O011 slow-query-logging-off."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O011", "slow-query-logging-off", Severity.INFO)
def slow_query_logging_off(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a server that logs no slow statement: `log_min_duration_statement` is -1 and
    auto_explain is not loaded.

    ## Why is this bad?
    pg_stat_statements says which query shapes are slow on average; only the log says which
    call was slow, when, with which values — and auto_explain with which plan. After an
    incident, that is the evidence (§10.1 "preserve evidence").

    ## Example
    ```
    log_min_duration_statement = -1
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET log_min_duration_statement = '500ms';
    SELECT pg_reload_conf();
    ```

    ## Fix safety
    A reload, no restart; the log grows with every statement slower than the threshold — set it
    above the latency targets, not at zero.

    ## References
    PostgreSQL manual 20.8.3 When to Log, F.3 auto_explain; playbook §6.9, §10.1.
    """
    duration = facts.setting("log_min_duration_statement")
    libraries = facts.value("shared_preload_libraries")
    if duration is None or duration.value != "-1" or "auto_explain" in libraries:
        return
    yield Violation(
        ObjectRef("setting", "", "log_min_duration_statement"),
        "no slow statement is logged (log_min_duration_statement = -1, auto_explain not "
        "loaded): a slow call leaves no trace with its time and values",
        Fix(
            "log statements slower than the latency targets",
            sql="ALTER SYSTEM SET log_min_duration_statement = '500ms';\nSELECT pg_reload_conf();",
            lock_safe=True,
            note="a reload, no restart",
        ),
        evidence=(("log_min_duration_statement", f"-1 ({duration.where})"),),
    )
