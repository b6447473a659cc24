"""S003 rls-without-policy."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("S003", "rls-without-policy", Severity.INFO)
def rls_without_policy(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with row-level security enabled and no policy at all.

    ## Why is this bad?
    With no policy, RLS denies every row to every role except the owner and BYPASSRLS roles.
    That is sometimes the intent (a table only a privileged backend may touch), and often a
    policy that was forgotten — the table then works in development as the owner and fails, or
    is silently bypassed, in production. Info severity: say which it is with an ignore and a
    reason (§3.9).

    ## Example
    ```sql
    ALTER TABLE case_file ENABLE ROW LEVEL SECURITY;  -- and no CREATE POLICY
    ```

    ## Use instead
    ```sql
    CREATE POLICY case_file_tenant_isolation ON case_file
        USING (tenant_id = current_setting('app.tenant_id')::bigint);
    ```

    ## Fix safety
    No SQL fix: the policy expresses who may see which rows, which only the designer knows.

    ## References
    PostgreSQL manual 5.9 Row Security Policies ("default-deny policy"); playbook §3.9.
    """
    for table in own_tables(catalog):
        if not table.rls_enabled or catalog.policies_of(table):
            continue
        yield Violation(
            table_ref(table),
            f"row-level security on {table.qualified} has no policy: every role but the owner "
            "and BYPASSRLS roles sees no rows",
            Fix(
                "write the policies that say who sees which rows, or record that deny-all is "
                "intended with an ignore and its reason"
            ),
        )
