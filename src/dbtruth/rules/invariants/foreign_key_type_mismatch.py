"""I008 foreign-key-type-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import constraint_ref, own_tables
from dbtruth.spec import Settings, rule


@rule("I008", "foreign-key-type-mismatch", Severity.WARNING)
def foreign_key_type_mismatch(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds foreign keys whose referencing column has a different type from the referenced column
    (for example `integer` pointing at `bigint`).

    ## Why is this bad?
    The smaller side caps the key space: once the parent's bigint ids pass 2^31 the child cannot
    store them, and the failure arrives in production years later. Mixed types also force casts
    in joins, which can keep the planner from using indexes (§6.4 "Type sesuai semantic?").

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY);
    CREATE TABLE case_note (id bigint PRIMARY KEY, case_id integer REFERENCES case_file (id));
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_note (id bigint PRIMARY KEY, case_id bigint REFERENCES case_file (id));
    ```

    ## Fix safety
    Changing a column's type rewrites the table and its indexes under ACCESS EXCLUSIVE: plan it
    as an expand/backfill/contract migration on a large table.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys; playbook §6.4.
    """
    for table in own_tables(catalog):
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.inherited or not fk.ref_qualified:
                continue
            target = catalog.table(fk.ref_qualified)
            if target is None:
                continue
            for mine, theirs in zip(fk.columns, fk.ref_columns, strict=False):
                a, b = table.column(mine), target.column(theirs)
                if a is None or b is None or a.type == b.type:
                    continue
                yield Violation(
                    constraint_ref(fk),
                    f"foreign key {fk.name}: {table.qualified}.{mine} is {a.type} but "
                    f"{target.qualified}.{theirs} is {b.type}",
                    Fix(
                        "give the referencing column the referenced column's type",
                        sql=f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
                        f"{ident(mine)} TYPE {b.type};",
                        safe=False,
                        note="rewrites the table under ACCESS EXCLUSIVE",
                    ),
                    evidence=(("referencing type", a.type), ("referenced type", b.type)),
                    discriminator=mine,
                )
