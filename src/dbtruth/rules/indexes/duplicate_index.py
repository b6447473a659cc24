"""X001 duplicate-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Index
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import index_ref
from dbtruth.rules.reference import Reference, reference_tables
from dbtruth.spec import Settings, rule


def _keep_first(index: Index) -> tuple[int, int, str]:
    # Keep the index a constraint relies on, then a unique one (dropping it would lose the
    # uniqueness it enforces); among equals, the first by name.
    return (0 if index.constraint else 1, 0 if index.unique else 1, index.name)


@rule("X001", "duplicate-index", Severity.WARNING)
def duplicate_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds indexes identical to another index on the same table: same method, keys, operator
    classes, INCLUDE columns and predicate, whatever their names.

    ## Why is this bad?
    Every write maintains both, the buffer cache holds both, and neither answers a query the
    other cannot. An index is a contract with a query (Principle 4); a second copy is only cost.

    ## Example
    ```sql
    CREATE INDEX case_note_case_idx ON case_note (case_id);
    CREATE INDEX idx_case_note_case_id ON case_note (case_id);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY idx_case_note_case_id;
    ```

    A copy on a lookup table — reference data by dbtruth.yaml's `reference` role, an
    extension's table, or a lookup's shape (a label, a few columns, keys only to other
    lookups: a guess, and the finding says so) — is info: a short list written seldom costs
    a copy of its index little. A vocabulary many keys point at (OMOP's concept) may hold
    millions of rows and stays a warning.

    ## Fix safety
    DROP INDEX CONCURRENTLY waits for running queries and blocks no reads or writes; it cannot
    run in a transaction block. The index a constraint uses is always the one kept, and a unique
    index is kept over a plain copy of it. When the table is clustered on the copy (`CLUSTER …
    USING`), the fix first marks the kept index for CLUSTER (`ALTER TABLE … CLUSTER ON`, SHARE
    UPDATE EXCLUSIVE), so that the next `CLUSTER` still orders the table.

    ## References
    PostgreSQL manual DROP INDEX; playbook Principle 4.
    """
    lookups: dict[str, Reference] | None = None  # read only once a copy is found: most have none
    groups: dict[tuple[str, str], list[Index]] = {}
    for index in catalog.indexes:
        if index.valid:
            groups.setdefault((index.table_qualified, index.signature), []).append(index)
    for (table, _), members in groups.items():
        if len(members) < 2:
            continue
        keep, *extra = sorted(members, key=_keep_first)
        for index in extra:
            if index.constraint:
                fix = Fix(
                    f"drop the constraint {index.constraint} if {keep.name} already "
                    "enforces the same rule"
                )
            elif index.clustered:
                # Dropping the index CLUSTER uses would leave the next plain `CLUSTER t` with
                # nothing to order by; the mark moves to the kept index first.
                fix = Fix(
                    f"cluster on {keep.name}, then drop the copy",
                    sql=(
                        f"ALTER TABLE {qualified(index.schema, index.table)} CLUSTER ON "
                        f"{ident(keep.name)};\n"
                        f"DROP INDEX CONCURRENTLY {qualified(index.schema, index.name)};"
                    ),
                    lock_safe=True,
                    note="CLUSTER ON takes SHARE UPDATE EXCLUSIVE (writes continue); the DROP "
                    "runs outside a transaction block and blocks no writes",
                )
            else:
                fix = Fix(
                    "drop the copy",
                    sql=f"DROP INDEX CONCURRENTLY {qualified(index.schema, index.name)};",
                    safe=True,
                    note="outside a transaction block; blocks no writes",
                )
            clustered = (("clustered on", index.name),) if index.clustered else ()
            if lookups is None:
                lookups = {
                    name: reference
                    for name, reference in reference_tables(catalog, settings).items()
                    if not reference.vocabulary
                }
            lookup = lookups.get(table)
            small = (
                (("table", f"reference data ({lookup.how}): {lookup.reason}"),) if lookup else ()
            )
            yield Violation(
                index_ref(index),
                f"index {index.name} on {table} duplicates {keep.name}"
                + ("; the table is clustered on it" if index.clustered else "")
                + (
                    f"; {table} is a lookup ({lookup.how}), short and seldom written, so the "
                    "copy costs little"
                    if lookup
                    else ""
                ),
                fix,
                evidence=(
                    ("definition", index.definition),
                    ("kept", keep.definition),
                    *clustered,
                    *small,
                ),
                severity=Severity.INFO if lookup else None,
            )
