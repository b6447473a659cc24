"""X002 redundant-prefix-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.naming import index_ref, own_tables
from dbtruth.spec import Settings, rule


@rule("X002", "redundant-prefix-index", Severity.INFO)
def redundant_prefix_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds btree indexes whose keys are a strict leading prefix of another btree index on the
    same table with the same predicate — `(case_id)` next to `(case_id, created_at)`. Unique
    and constraint indexes are never reported: they enforce something.

    ## Why is this bad?
    The longer index serves every lookup the shorter one serves, so the shorter one mostly
    costs writes and cache. Info severity: the shorter index is smaller and can still be the
    faster choice for a hot query — check the workload before dropping it (Principle 4).

    ## Example
    ```sql
    CREATE INDEX case_note_case_idx ON case_note (case_id);
    CREATE INDEX case_note_case_created_idx ON case_note (case_id, created_at);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY case_note_case_idx;
    ```

    ## Fix safety
    DROP INDEX CONCURRENTLY blocks no reads or writes; it cannot run in a transaction block.

    ## References
    PostgreSQL manual 11.3 Multicolumn Indexes; playbook Principle 4.
    """
    for table in own_tables(catalog):
        indexes = [i for i in catalog.indexes_of(table) if i.valid and i.method == "btree"]
        for short in indexes:
            if short.unique or short.constraint or short.include:
                continue
            longer = next(
                (
                    other
                    for other in indexes
                    if other is not short
                    and len(other.keys) > len(short.keys)
                    and other.keys[: len(short.keys)] == short.keys
                    and other.predicate == short.predicate
                ),
                None,
            )
            if longer is None:
                continue
            yield Violation(
                index_ref(short),
                f"index {short.name} on {table.qualified} ({', '.join(short.keys)}) is a prefix "
                f"of {longer.name} ({', '.join(longer.keys)})",
                Fix(
                    "drop the prefix index once the workload confirms the longer one serves it",
                    sql=f"DROP INDEX CONCURRENTLY {qualified(short.schema, short.name)};",
                    safe=True,
                    note="outside a transaction block; blocks no writes",
                ),
                evidence=(("covered by", longer.definition),),
            )
