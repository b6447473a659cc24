"""S002 rls-not-forced."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("S002", "rls-not-forced", Severity.INFO)
def rls_not_forced(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with row-level security enabled but not forced.

    ## Why is this bad?
    Without FORCE, the table's owner bypasses every policy. When the application connects as
    the owner — common where migrations and the app share one role — RLS is decoration. Info
    severity: where the application uses a separate, non-owner role, the owner bypass is
    intended (§3.9, §6.8 "Role/grant minimal?").

    ## Example
    ```sql
    ALTER TABLE case_file ENABLE ROW LEVEL SECURITY;
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_file ENABLE ROW LEVEL SECURITY;
    ALTER TABLE case_file FORCE ROW LEVEL SECURITY;
    ```

    ## Fix safety
    Takes ACCESS EXCLUSIVE for an instant (lock-safe), and changes behaviour: the owner role
    then sees only what the policies allow. Jobs that run as the owner and rely on seeing all
    rows need BYPASSRLS or a policy of their own first.

    ## References
    PostgreSQL manual 5.9 Row Security Policies, ALTER TABLE ... FORCE ROW LEVEL SECURITY;
    playbook §3.9.
    """
    for table in own_tables(catalog):
        if not table.rls_enabled or table.rls_forced:
            continue
        yield Violation(
            table_ref(table),
            f"row-level security on {table.qualified} is not forced: its owner "
            f"({table.owner}) bypasses every policy",
            Fix(
                "force RLS so the owner is bound too",
                sql=f"ALTER TABLE {qualified(table.schema, table.name)} FORCE ROW LEVEL SECURITY;",
                lock_safe=True,
                behaviour_change=True,
                note="owner-run jobs then need a policy or BYPASSRLS",
            ),
        )
