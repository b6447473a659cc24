"""X003 invalid-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.naming import index_ref
from dbtruth.spec import Settings, rule


@rule("X003", "invalid-index", Severity.ERROR)
def invalid_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds indexes PostgreSQL marks invalid (`pg_index.indisvalid = false`), usually left by a
    `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY` that failed or was cancelled.

    ## Why is this bad?
    An invalid index is never used by queries but is still maintained on every write. If it was
    meant to enforce uniqueness, the invariant it names is not enforced — and the failure that
    left it (often a duplicate row) is still there (§3.8: a migration without validation).

    ## Example
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY account_email_key ON account (email);
    -- fails on a duplicate email and leaves account_email_key INVALID
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY account_email_key;  -- after repairing the data
    ```

    ## Fix safety
    REINDEX CONCURRENTLY (PostgreSQL 12+) builds a new copy without blocking writes and cannot
    run in a transaction block. It fails again if the data still violates a unique index; a
    rebuilt unique index refuses duplicates again (a behaviour change, so not labelled safe).

    ## References
    PostgreSQL manual CREATE INDEX ("Building Indexes Concurrently"), REINDEX; playbook §3.8.
    """
    for index in catalog.indexes:
        if index.valid:
            continue
        yield Violation(
            index_ref(index),
            f"index {index.name} on {index.table_qualified} is INVALID: queries ignore it, "
            "writes still pay for it"
            + (", and its uniqueness is not enforced" if index.unique else ""),
            Fix(
                "rebuild it (after repairing the rows that broke it), or drop it",
                sql=f"REINDEX INDEX CONCURRENTLY {qualified(index.schema, index.name)};",
                lock_safe=True,
                # A rebuilt unique index starts refusing duplicates again.
                behaviour_change=index.unique,
                note="outside a transaction block; blocks no writes",
            ),
            evidence=(("definition", index.definition),),
        )
