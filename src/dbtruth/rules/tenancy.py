"""Which rows belong to one tenant: the tenancy model the security rules share.

A table's tenant key is found by name (`naming.tenant_key`). A table *requires* its tenant when
its tenant key is NOT NULL, or when row-level security filters on the key and no policy admits
rows whose key is NULL (such rows would be nobody's: no tenant sees them). Where neither holds,
a NULL tenant key is a state the design allows: rows shared by every tenant, or outside any
(ory-kratos's identities without an organization).

A row is *tenant-bound* when it belongs to exactly one tenant whatever it holds: its table
requires its tenant, it is a row of the tenant table itself (the table tenant keys reference),
or it reaches a tenant-bound row through a foreign key whose columns are NOT NULL. A reference
to a tenant-bound row therefore pins the tenant of whatever holds it.
"""

from __future__ import annotations

import re

from dbtruth.model import Catalog, Column, Constraint, Table
from dbtruth.rules.naming import tenant_key
from dbtruth.spec import Settings


class Tenancy:
    """Tenancy facts of one catalog under one set of settings, computed on demand and kept."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings
        self._bound: dict[str, bool] = {}
        self._roots: frozenset[str] | None = None

    @property
    def roots(self) -> frozenset[str]:
        """Tables a tenant key references on its own: `tenant_id REFERENCES tenant (id)`."""
        if self._roots is None:
            roots: set[str] = set()
            for table in self.catalog.tables:
                key = tenant_key(table, self.settings)
                if key is None:
                    continue
                for fk in self.catalog.constraints_of(table):
                    if fk.kind == "foreign key" and fk.columns == (key.name,) and fk.ref_qualified:
                        roots.add(fk.ref_qualified)
            self._roots = frozenset(roots)
        return self._roots

    def requires_tenant(self, table: Table, key: Column) -> bool:
        """Every row of `table` has a tenant: NOT NULL, or RLS makes NULL-tenant rows nobody's."""
        if key.not_null:
            return True
        if not table.rls_enabled:
            return False
        mentions = re.compile(rf"\b{re.escape(key.name)}\b", re.IGNORECASE)
        admits_null = re.compile(rf"\b{re.escape(key.name)}\b\W*\s+IS\s+NULL\b", re.IGNORECASE)
        texts = [
            text
            for policy in self.catalog.policies_of(table)
            for text in (policy.using, policy.with_check)
            if text
        ]
        return any(mentions.search(t) for t in texts) and not any(
            admits_null.search(t) for t in texts
        )

    def bound(self, table: Table) -> bool:
        """Every row of `table` belongs to exactly one tenant."""
        known = self._bound.get(table.qualified)
        if known is not None:
            return known
        self._bound[table.qualified] = False  # a cycle of references binds nothing by itself
        result = self._binds(table)
        self._bound[table.qualified] = result
        return result

    def _binds(self, table: Table) -> bool:
        if table.qualified in self.roots:
            return True
        key = tenant_key(table, self.settings)
        if key is not None and self.requires_tenant(table, key):
            return True
        return any(
            self.pinning_parent(table, fk) is not None for fk in self.catalog.constraints_of(table)
        )

    def pinning_parent(self, table: Table, fk: Constraint) -> Table | None:
        """The parent of `fk` when every row holding the reference is pinned to the parent's
        tenant: a NOT NULL foreign key to a tenant-bound table."""
        if fk.kind != "foreign key" or not fk.ref_qualified:
            return None
        columns = [table.column(c) for c in fk.columns]
        if any(c is None or not c.not_null for c in columns):
            return None
        parent = self.catalog.table(fk.ref_qualified)
        if parent is None or not self.bound(parent):
            return None
        return parent
