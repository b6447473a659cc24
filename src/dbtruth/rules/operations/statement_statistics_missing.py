"""O010 statement-statistics-missing."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O010", "statement-statistics-missing", Severity.WARNING)
def statement_statistics_missing(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a server that does not count its statements: `pg_stat_statements` is not in
    `shared_preload_libraries`, or it is loaded but the extension was not created in this
    database (its view cannot be read here).

    ## Why is this bad?
    Which queries cost the most time, how often each runs, how slow it is on average: without
    these, a slow-query incident starts from guesses, index advice has no workload to weigh
    (`dbtruth workload` reads it), and a schema cannot be judged apart from its workload
    (Principle 4, §6.9 "monitoring").

    ## Example
    ```
    shared_preload_libraries = ''
    ```

    ## Use instead
    ```
    shared_preload_libraries = 'pg_stat_statements'   -- then, in the database:
    CREATE EXTENSION pg_stat_statements;
    ```

    ## Fix safety
    Loading the library needs a restart; creating the extension does not, and takes no lock
    on user tables. The library adds a small overhead to every statement.

    ## References
    PostgreSQL manual F.32 pg_stat_statements; playbook Principle 4, §6.9.
    """
    libraries = [x.strip() for x in facts.value("shared_preload_libraries").split(",")]
    loaded = "pg_stat_statements" in libraries
    created = "pg_stat_statements" in facts.extensions
    if loaded and created:
        return
    setting = facts.setting("shared_preload_libraries")
    if not loaded:
        message = (
            "pg_stat_statements is not in shared_preload_libraries: the server does not count "
            "its statements (calls, time, rows)"
        )
        fix = Fix(
            "load pg_stat_statements",
            sql="ALTER SYSTEM SET shared_preload_libraries = "
            + repr(",".join([*[x for x in libraries if x], "pg_stat_statements"]))
            + ";  -- restart, then CREATE EXTENSION pg_stat_statements;",
            lock_safe=True,
            note="takes effect after a restart",
        )
    else:
        message = (
            f"pg_stat_statements is loaded but not created in database {facts.database}: "
            "its statistics cannot be read here"
        )
        fix = Fix("create the extension", sql="CREATE EXTENSION pg_stat_statements;",
                  lock_safe=True)  # fmt: skip
    yield Violation(
        ObjectRef("setting", "", "shared_preload_libraries"),
        message,
        fix,
        evidence=(
            (
                "shared_preload_libraries",
                f"{facts.value('shared_preload_libraries') or '(empty)'} "
                f"({setting.where if setting else '?'})",
            ),
            ("extension in this database", "yes" if created else "no"),
        ),
    )
