"""I004 constraint-not-validated."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import constraint_ref, own_tables
from dbtruth.spec import Settings, rule


@rule("I004", "constraint-not-validated", Severity.WARNING)
def constraint_not_validated(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds CHECK and FOREIGN KEY constraints added NOT VALID and never validated.

    ## Why is this bad?
    NOT VALID is the expand step of a safe migration: new rows are checked, existing rows are
    not. Left there, the invariant is only half true — old rows may violate it, and the planner
    cannot use the constraint for proofs. The migration's "validate" step never happened
    (§3.8 expand → backfill → validate).

    ## Example
    ```sql
    ALTER TABLE case_file ADD CONSTRAINT case_file_priority_check
        CHECK (priority BETWEEN 1 AND 5) NOT VALID;
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_file VALIDATE CONSTRAINT case_file_priority_check;
    ```

    ## Fix safety
    VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE (reads and writes continue;
    for a foreign key the referenced table gets ROW SHARE). It fails if a row violates the
    constraint — repair those rows first.

    ## References
    PostgreSQL manual ALTER TABLE (VALIDATE CONSTRAINT); playbook §3.8, §6.7.
    """
    for table in own_tables(catalog):
        for constraint in catalog.constraints_of(table):
            if constraint.validated or constraint.inherited:
                continue
            yield Violation(
                constraint_ref(constraint),
                f"{constraint.kind} constraint {constraint.name} on {table.qualified} was added "
                "NOT VALID and never validated; existing rows may violate it",
                Fix(
                    "validate it once existing rows are repaired",
                    sql=f"ALTER TABLE {qualified(table.schema, table.name)} "
                    f"VALIDATE CONSTRAINT {ident(constraint.name)};",
                    safe=True,
                    note="SHARE UPDATE EXCLUSIVE: reads and writes continue",
                ),
                evidence=(("definition", constraint.definition),),
            )
