"""What a schema does anywhere: the database features its designers use at all.

A schema with no CHECK constraint, no foreign key or no row-level security anywhere has made a
choice: value sets, references or tenant isolation are enforced outside the database (the
application, a data-quality tool, a sharded storage layer). A rule that flags the missing
feature on every table of such a schema repeats one design decision dozens of times and reads
as noise to the people who made it; the same gap on a schema that uses the feature elsewhere is
an inconsistency worth a warning. Rules that judge the presence of one of these features grade
the first case as info and say why, so the decision is still on record (and in the review).

Only a schema of some size has made a choice: eight tables without a CHECK say more about a
schema nobody has reviewed yet than about a policy, so below DESIGN_MIN_TABLES tables the
feature's absence is judged table by table as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from dbtruth.model import Catalog, Column, Table
from dbtruth.rules.naming import own_tables

DESIGN_MIN_TABLES = 15


def large_schema(catalog: Catalog) -> bool:
    return sum(1 for _ in own_tables(catalog)) >= DESIGN_MIN_TABLES


def avoids_checks(catalog: Catalog) -> bool:
    """A schema of some size with no CHECK constraint anywhere (NOT NULL does not count)."""
    return large_schema(catalog) and not any(c.kind == "check" for c in catalog.constraints)


def avoids_foreign_keys(catalog: Catalog) -> bool:
    return large_schema(catalog) and not any(c.kind == "foreign key" for c in catalog.constraints)


def avoids_rls(catalog: Catalog) -> bool:
    return large_schema(catalog) and not any(table.rls_enabled for table in own_tables(catalog))


def avoids_tenant_in_keys(catalog: Catalog, tenant_key: Callable[[Table], Column | None]) -> bool:
    """A schema of some size where no foreign key carries its table's tenant key beside the
    reference (`(tenant_id, case_id) REFERENCES case_file (tenant_id, id)`): the tenant
    boundary is kept by the application, everywhere alike."""
    if not large_schema(catalog):
        return False
    for table in own_tables(catalog):
        key = tenant_key(table)
        if key is None:
            continue
        for constraint in catalog.constraints_of(table):
            if (
                constraint.kind == "foreign key"
                and len(constraint.columns) > 1
                and key.name in constraint.columns
            ):
                return False
    return True


# Short forms for a finding's message; the evidence carries the long ones.
NO_CHECKS_SHORT = "; the schema has no CHECK anywhere, a design decision"
NO_FOREIGN_KEYS_SHORT = "; the schema declares no foreign key anywhere, a design decision"
NO_RLS_SHORT = "; no table enables RLS, a design decision"
NO_TENANT_IN_KEYS_SHORT = (
    "; no foreign key of the schema carries a tenant key, a design decision (the application "
    "keeps the tenant boundary)"
)

NO_CHECKS = (
    "the schema has no CHECK constraint anywhere: its value rules live outside the database "
    "(application or data-quality tooling); graded info as one design decision"
)
NO_FOREIGN_KEYS = (
    "the schema declares no foreign key anywhere: references are kept by the application; "
    "graded info as one design decision"
)
NO_TENANT_IN_KEYS = (
    "no foreign key of the schema carries its table's tenant key beside the reference: tenant "
    "boundaries between rows are the application's, by design; graded info as one design "
    "decision"
)
NO_RLS = (
    "no table of the schema enables row-level security: tenant isolation is the "
    "application's, by design; graded info as one design decision"
)
