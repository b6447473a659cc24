"""S004 cross-tenant-foreign-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import column_list, ident, qualified
from dbtruth.rules.naming import constraint_ref, fresh_name, own_tables, tenant_key
from dbtruth.spec import Settings, rule


@rule("S004", "cross-tenant-foreign-key", Severity.WARNING)
def cross_tenant_foreign_key(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds foreign keys between two tenant-scoped tables whose columns do not include the tenant
    key, so a row of one tenant can reference a row of another.

    ## Why is this bad?
    `case_note(tenant_id, case_id) REFERENCES case_file(id)` accepts a note of tenant A on a
    case of tenant B: the tenant boundary is not in the data's shape. "Security is a data shape
    problem" — the FK shape should carry the tenant (§3.9, §9 "Cross-tenant leak").

    ## Example
    ```sql
    CREATE TABLE case_note (id bigint PRIMARY KEY, tenant_id bigint NOT NULL,
                            case_id bigint REFERENCES case_file (id));
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_file ADD UNIQUE (tenant_id, id);
    CREATE TABLE case_note (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, case_id bigint,
                            FOREIGN KEY (tenant_id, case_id)
                                REFERENCES case_file (tenant_id, id));
    ```

    ## Fix safety
    The unique key on the parent is built by ADD UNIQUE (SHARE lock: blocks writes while it
    builds; build it CONCURRENTLY and attach with USING INDEX on a large table). The new key is
    added NOT VALID and validated (writes continue) before the old one is dropped.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys; playbook §3.9, §6.8, §9.
    """
    for table in own_tables(catalog):
        key = tenant_key(table, settings)
        if key is None:
            continue
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.inherited or key.name in fk.columns:
                continue
            parent = catalog.table(fk.ref_qualified or "")
            if parent is None or parent is table:
                continue
            parent_key = tenant_key(parent, settings)
            if parent_key is None:
                continue
            parent_sql = qualified(parent.schema, parent.name)
            table_sql = qualified(table.schema, table.name)
            unique_cols = (parent_key.name, *fk.ref_columns)
            has_unique = any(
                c.kind in ("unique", "primary key") and set(c.columns) == set(unique_cols)
                for c in catalog.constraints_of(parent)
            )
            unique_name = fresh_name(
                catalog, parent.schema, parent.name, parent_key.name, *fk.ref_columns, suffix="key"
            )
            name = fresh_name(catalog, table.schema, table.name, *fk.columns, suffix="tenant_fkey")
            steps = (
                []
                if has_unique
                else [
                    f"ALTER TABLE {parent_sql} ADD CONSTRAINT "
                    f"{ident(unique_name)}"
                    f" UNIQUE ({column_list(unique_cols)});"
                ]
            )
            steps += [
                f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
                f"({column_list((key.name, *fk.columns))}) REFERENCES {parent_sql} "
                f"({column_list(unique_cols)}) NOT VALID;",
                f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)};",
                f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(fk.name)};",
            ]
            yield Violation(
                constraint_ref(fk),
                f"foreign key {fk.name} from {table.qualified} to {parent.qualified} does not "
                f"include {key.name}: a row can reference another tenant's row",
                Fix(
                    "make the foreign key carry the tenant key",
                    sql="\n".join(steps),
                    safe=False,
                    note="parent unique key build blocks writes unless built CONCURRENTLY first",
                ),
                evidence=(("columns", ", ".join(fk.columns)), ("tenant key", key.name)),
            )
