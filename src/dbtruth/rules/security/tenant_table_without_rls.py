"""S001 tenant-table-without-rls."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import own_tables, short_name, table_ref, tenant_key
from dbtruth.rules.practices import NO_RLS, NO_RLS_SHORT, avoids_rls
from dbtruth.spec import Settings, rule


@rule("S001", "tenant-table-without-rls", Severity.WARNING)
def tenant_table_without_rls(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tenant-scoped tables — tables with the tenant key column (`tenancy.key`, by default
    `tenant_id`, `org_id`, `organization_id` or `account_id`) — that do not enable row-level
    security. Tables without the key, and tables listed in `tenancy.exempt`, are not judged.
    When no table of a schema of 15 tables or more enables RLS, isolation is the application's
    by design: the findings are info, one decision on record rather than a warning per table.

    ## Why is this bad?
    "If access control depends on every developer remembering to add WHERE tenant_id = ?, the
    design is weak" (§3.9). One forgotten predicate in a report, export or support tool is a
    cross-tenant leak; RLS makes the database refuse it.

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, title text);
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_file ENABLE ROW LEVEL SECURITY;
    ALTER TABLE case_file FORCE ROW LEVEL SECURITY;
    CREATE POLICY case_file_tenant_isolation ON case_file
        USING (tenant_id = current_setting('app.tenant_id')::bigint)
        WITH CHECK (tenant_id = current_setting('app.tenant_id')::bigint);
    ```

    ## Fix safety
    Unsafe until the application sets `app.tenant_id` in every session: with RLS on, a session
    that does not sees no rows. ENABLE ROW LEVEL SECURITY takes ACCESS EXCLUSIVE for an instant.

    ## References
    PostgreSQL manual 5.9 Row Security Policies; playbook §3.9, §6.8, §9 (cross-tenant leak).
    """
    no_rls = avoids_rls(catalog)
    for table in own_tables(catalog):
        key = tenant_key(table, settings)
        if key is None or table.rls_enabled:
            continue
        name = qualified(table.schema, table.name)
        expression = f"{ident(key.name)} = current_setting('app.tenant_id')::{key.type}"
        sql = (
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\n"
            f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n"
            f"CREATE POLICY {ident(short_name(table.name, suffix='tenant_isolation'))} ON {name}\n"
            f"    USING ({expression})\n    WITH CHECK ({expression});"
        )
        yield Violation(
            table_ref(table),
            f"{table.qualified} is tenant-scoped ({key.name}) but row-level security is off: "
            "isolation depends on every query remembering the tenant filter"
            + (NO_RLS_SHORT if no_rls else ""),
            Fix(
                "enable and force RLS with a tenant policy",
                sql=sql,
                lock_safe=True,
                behaviour_change=True,
                note="the application must set app.tenant_id per session first",
            ),
            evidence=(("tenant key", key.name), *((("design", NO_RLS),) if no_rls else ())),
            severity=Severity.INFO if no_rls else None,
        )
