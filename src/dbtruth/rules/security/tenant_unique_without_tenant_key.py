"""S005 tenant-unique-without-tenant-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Constraint, Index, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import (
    fresh_name,
    index_ref,
    is_generated_identifier,
    own_tables,
    tenant_key,
    tokens,
)
from dbtruth.rules.tenancy import Tenancy
from dbtruth.spec import Settings, rule

# The last words of a column holding a DNS name: `domain`, `custom_domain`, `domain_name`,
# `hostname`. The world keeps these unique (one owner per domain), so a tenant claims one
# only if no other tenant has.
_DNS_NAME_ENDINGS = (("domain",), ("domain", "name"), ("hostname",), ("host", "name"), ("fqdn",))


def _dns_name(column: Column) -> bool:
    words = tokens(column.name)
    return column.type_category == "S" and any(
        words[-len(ending) :] == ending for ending in _DNS_NAME_ENDINGS
    )


def _identifies_globally(table: Table, index: Index) -> bool:
    """A key over a value unique everywhere: a generated identifier (an id, a UUID, a token),
    or a DNS name, which one tenant can verify or claim only if no other has."""
    columns = [table.column(k.strip('"')) for k in index.keys]
    return any(c is not None and (is_generated_identifier(c) or _dns_name(c)) for c in columns)


def _scoped_by_reference(
    tenancy: Tenancy, table: Table, index: Index
) -> tuple[Constraint, Table] | None:
    """A foreign key inside the unique key whose parent rows each belong to one tenant: two rows
    can then only collide under the same parent, so within that parent's tenant. Rows whose
    reference is NULL never collide, unless the index treats NULLs as equal."""
    pairs = zip(index.keys, index.key_is_column, strict=True)
    keys = {k.strip('"') for k, is_column in pairs if is_column}
    for fk in tenancy.catalog.constraints_of(table):
        if fk.kind != "foreign key" or not fk.ref_qualified or not set(fk.columns) <= keys:
            continue
        parent = tenancy.catalog.table(fk.ref_qualified)
        if parent is None or not tenancy.bound(parent):
            continue
        columns = [table.column(name) for name in fk.columns]
        if index.nulls_not_distinct and any(c is None or not c.not_null for c in columns):
            continue
        return fk, parent
    return None


@rule("S005", "tenant-unique-without-tenant-key", Severity.WARNING)
def tenant_unique_without_tenant_key(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    On tenant-scoped tables, finds unique constraints and unique indexes (primary keys aside)
    that do not lead with the tenant key and are not held inside one tenant by a foreign key to
    a tenant-bound row.

    ## Why is this bad?
    `UNIQUE (email)` on a tenant's users makes an address unique across all tenants: tenant B
    cannot invite someone tenant A already has, and the error message tells B that the address
    exists elsewhere — a cross-tenant information leak. Uniqueness is almost always per tenant,
    and an index that leads with the tenant key also serves every tenant-scoped lookup (§3.9).

    ## Example
    ```sql
    CREATE TABLE app_user (id bigint PRIMARY KEY, tenant_id bigint NOT NULL,
                           email text NOT NULL UNIQUE);
    ```

    ## Use instead
    ```sql
    CREATE TABLE app_user (id bigint PRIMARY KEY, tenant_id bigint NOT NULL,
                           email text NOT NULL, UNIQUE (tenant_id, email));
    ```

    Keys over generated identifiers — ids, UUIDs, tokens, secrets, hashes — are meant to be
    unique everywhere and are not reported, nor are keys over a DNS name (`domain`,
    `custom_domain`, `hostname`): a domain has one owner in the world, and a tenant that could
    claim one another tenant verified would be the leak. Nor are keys that contain a foreign
    key to a row that belongs to one tenant — `UNIQUE (environment_id, name)` where each
    environment has a NOT NULL tenant key, is a row of the tenant table, or reaches one
    through NOT NULL foreign keys: two rows can only collide under the same parent row,
    inside its tenant. A reference
    to a table whose tenant key may be NULL (rows shared by all tenants) does not count. A key
    that includes the tenant key but does not lead with it is reported at info severity:
    uniqueness is per tenant, only index use suffers.

    ## Fix safety
    The per-tenant index is built CONCURRENTLY (writes continue; not in a transaction block)
    and keeps the old key's predicate and NULLS NOT DISTINCT; dropping the global key
    afterwards changes behaviour on purpose (values then repeat across tenants).

    ## References
    PostgreSQL manual 5.5.3 Unique Constraints; playbook §3.9, §6.8.
    """
    tenancy = Tenancy(catalog, settings)
    for table in own_tables(catalog):
        key = tenant_key(table, settings)
        if key is None:
            continue
        for index in catalog.indexes_of(table):
            if not index.unique or index.primary or not index.valid:
                continue
            leading = index.keys[0].strip('"') if index.keys else ""
            if leading == key.name or _identifies_globally(table, index):
                continue
            included = any(k.strip('"') == key.name for k in index.keys)
            if not included and _scoped_by_reference(tenancy, table, index) is not None:
                continue
            table_sql = qualified(table.schema, table.name)
            others = [k for k in index.keys if k.strip('"') != key.name]
            name = fresh_name(
                catalog,
                table.schema,
                table.name,
                key.name,
                *[k.strip('"') for k in others][:2],
                suffix="key",
            )
            where = f" WHERE {index.predicate}" if index.predicate else ""
            nulls = " NULLS NOT DISTINCT" if index.nulls_not_distinct else ""
            drop = (
                f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(index.constraint)};"
                if index.constraint
                else f"DROP INDEX CONCURRENTLY {qualified(table.schema, index.name)};"
            )
            sql = (
                f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {table_sql} "
                f"({', '.join([ident(key.name), *others])}){nulls}{where};\n{drop}"
            )
            problem = (
                f"does not lead with {key.name}, so tenant-scoped lookups cannot use it"
                if included
                else f"does not include {key.name}: values are unique across all tenants"
            )
            yield Violation(
                index_ref(index),
                f"unique key {index.name} on {table.qualified} ({', '.join(index.keys)}) "
                + problem,
                Fix(
                    "make uniqueness per tenant, led by the tenant key",
                    sql=sql,
                    lock_safe=True,
                    # Reordering a per-tenant key changes nothing but the index's use.
                    behaviour_change=not included,
                    note="CONCURRENTLY: outside a transaction block",
                ),
                evidence=(("definition", index.definition), ("tenant key", key.name)),
                # Per-tenant already; only the column order costs (index usability).
                severity=Severity.INFO if included else None,
            )
