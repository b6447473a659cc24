"""S004 cross-tenant-foreign-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Constraint, Table
from dbtruth.model.sqlnames import column_list, ident, qualified
from dbtruth.rules.naming import constraint_ref, fresh_name, own_tables, tenant_key
from dbtruth.rules.practices import (
    NO_TENANT_IN_KEYS,
    NO_TENANT_IN_KEYS_SHORT,
    avoids_tenant_in_keys,
)
from dbtruth.rules.tenancy import Tenancy
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

    Foreign keys to tables without a tenant key (shared reference data) are not reported. In a
    schema of 15 tables or more where no foreign key carries a tenant key at all, the tenant
    boundary between rows is the application's everywhere: one design decision, reported at
    info on each key so it stays on record; where some keys carry it, those that do not are
    the inconsistency and stay warnings.

    ## Fix safety
    Lock-safe, and it changes behaviour on purpose: references across tenants are refused. The
    parent's unique index on (tenant key, referenced columns) is built CONCURRENTLY (writes
    continue; not in a transaction block); the new key is added NOT VALID and validated (writes
    continue) before the old one is dropped, with the old key's ON DELETE / ON UPDATE actions
    (SET NULL clears only the reference, never the tenant key). Where the tenant key may be
    NULL but every parent row has a tenant (NOT NULL, or RLS that shows NULL-tenant rows to
    nobody), MATCH SIMPLE would skip the check for rows without a tenant: the fix adds MATCH
    FULL (a required reference) or a CHECK that a reference comes with a tenant (an optional
    one). Where both tables allow a NULL tenant (rows outside any tenant), those rows are left
    unchecked, as the evidence says. Where only the referencing side may lack the tenant, the
    finding is info: such a row may belong to another scope by design (a project-level API key
    beside organization-level ones), which the schema cannot tell from an escape.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys; playbook §3.9, §6.8, §9.
    """
    tenancy = Tenancy(catalog, settings)
    keys: dict[str, Column | None] = {}  # a parent is asked once, not once per key into it

    def key_of(table: Table) -> Column | None:
        if table.qualified not in keys:
            keys[table.qualified] = tenant_key(table, settings)
        return keys[table.qualified]

    by_design = avoids_tenant_in_keys(catalog, key_of)
    for table in own_tables(catalog):
        key = key_of(table)
        if key is None:
            continue
        for fk in catalog.constraints_of(table):
            # A key that involves the tenant column is the tenant reference itself or carries it.
            if fk.kind != "foreign key" or fk.inherited or key.name in fk.columns:
                continue
            parent = catalog.table(fk.ref_qualified or "")
            if parent is None or parent is table:
                continue
            parent_key = key_of(parent)
            if parent_key is None:
                continue  # a global table: every tenant may reference its rows
            unique_cols = (parent_key.name, *fk.ref_columns)
            evidence = [("columns", ", ".join(fk.columns)), ("tenant key", key.name)]
            # Rows without a tenant escape a composite key's check (MATCH SIMPLE). That is an
            # escape when every parent row has a tenant; where NULL is a state both tables
            # allow (no tenant, or shared), such rows stay as they are.
            close_null = not key.not_null and tenancy.requires_tenant(parent, parent_key)
            if close_null:
                evidence.append(("tenant key nullable", "rows without a tenant are refused"))
            elif not key.not_null:
                evidence.append(
                    ("tenant key nullable", "NULL allowed on both sides: such rows stay unchecked")
                )
            yield Violation(
                constraint_ref(fk),
                f"foreign key {fk.name} from {table.qualified} to {parent.qualified} does not "
                f"include {key.name}: a row can reference another tenant's row"
                + (
                    f"; {key.name} is nullable here while every {parent.qualified} row has "
                    "one, so rows without it may belong to another scope by design (a "
                    "project-level row beside organization-level ones): confirm before "
                    "applying the fix"
                    if close_null
                    else ""
                )
                + (NO_TENANT_IN_KEYS_SHORT if by_design else ""),
                Fix(
                    "make the foreign key carry the tenant key",
                    sql="\n".join(_steps(catalog, table, fk, key, parent, unique_cols, close_null)),
                    lock_safe=True,
                    behaviour_change=True,
                    note="unique index built CONCURRENTLY (outside a transaction block); new key "
                    "NOT VALID then validated; references across tenants are refused",
                ),
                evidence=(*evidence, *((("design", NO_TENANT_IN_KEYS),) if by_design else ())),
                # a child that may lack the tenant its parent always has may be a second scope
                severity=Severity.INFO if close_null or by_design else None,
            )


def _steps(
    catalog: Catalog,
    table: Table,
    fk: Constraint,
    key: Column,
    parent: Table,
    unique_cols: tuple[str, ...],
    close_null: bool,
) -> list[str]:
    parent_sql = qualified(parent.schema, parent.name)
    table_sql = qualified(table.schema, table.name)
    steps = []
    if not _unique_on(catalog, parent, unique_cols):
        # A unique index is all a foreign key needs. Built CONCURRENTLY so writes continue, and
        # IF NOT EXISTS: the fixes of every key into this parent build the same one.
        index = fresh_name(catalog, parent.schema, parent.name, *unique_cols, suffix="key")
        steps.append(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {ident(index)} ON {parent_sql} "
            f"({column_list(unique_cols)});"
        )
    columns = [c for name in fk.columns if (c := table.column(name)) is not None]
    reference_required = len(columns) == len(fk.columns) and all(c.not_null for c in columns)
    # MATCH SIMPLE skips the whole check when any column is NULL, so a row whose tenant key is
    # NULL could still reach any parent. A required reference: MATCH FULL (all or nothing). An
    # optional one: a CHECK that a reference comes with a tenant.
    match = " MATCH FULL" if close_null and reference_required else ""
    name = fresh_name(catalog, table.schema, table.name, *fk.columns, suffix="tenant_fkey")
    steps.append(
        f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
        f"({column_list((key.name, *fk.columns))}) REFERENCES {parent_sql} "
        f"({column_list(unique_cols)}){match}{_actions(catalog, fk)} NOT VALID;"
    )
    steps.append(f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)};")
    if close_null and not reference_required:
        check = fresh_name(catalog, table.schema, table.name, *fk.columns, suffix="tenant_check")
        # The old key checked a reference only when all its columns were set: so must this one.
        absent = " OR ".join(f"{ident(c)} IS NULL" for c in fk.columns)
        steps.append(
            f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(check)} "
            f"CHECK ({absent} OR {ident(key.name)} IS NOT NULL) NOT VALID;"
        )
        steps.append(f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(check)};")
    steps.append(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(fk.name)};")
    return steps


def _unique_on(catalog: Catalog, table: Table, columns: tuple[str, ...]) -> bool:
    """A foreign key can reference `columns`: a valid, whole-table unique index on exactly them
    (in any order), such as the one behind a primary key or unique constraint."""
    wanted = set(columns)
    return any(
        index.unique
        and index.valid
        and index.predicate is None
        and len(index.leading) == len(index.keys) == len(wanted)  # plain columns only
        and set(index.leading) == wanted
        for index in catalog.indexes_of(table)
    )


def _actions(catalog: Catalog, fk: Constraint) -> str:
    """The old key's ON DELETE / ON UPDATE and deferral, kept: the fix changes which rows may be
    referenced, not what happens to them. SET NULL and SET DEFAULT name the reference's own
    columns (PostgreSQL 15+), so the tenant key is never cleared."""
    parts = []
    for event, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update)):
        if not action or action == "no action":
            continue
        clause = f" ON {event} {action.upper()}"
        if (
            event == "DELETE"
            and action in ("set null", "set default")
            and catalog.server_version_num >= 150000
        ):
            clause += f" ({column_list(fk.columns)})"
        parts.append(clause)
    definition = fk.definition.upper()
    if "NOT DEFERRABLE" not in definition and "DEFERRABLE" in definition:
        parts.append(" DEFERRABLE")
        if "INITIALLY DEFERRED" in definition:
            parts.append(" INITIALLY DEFERRED")
    return "".join(parts)
