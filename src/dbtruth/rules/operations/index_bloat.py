"""O021 index-bloat."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.ops_text import size
from dbtruth.spec import Settings, ops_rule

# A freshly built btree fills its leaves to 90% (the default fillfactor); under half full, most
# of the index is empty space every scan and every cache carries.
_DENSITY = 50.0


@ops_rule("O021", "index-bloat", Severity.WARNING)
def index_bloat(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    With `dbtruth ops --precise`, where the pgstattuple extension is installed: finds btree
    indexes of at least `dead_row_min_bytes` whose leaf pages are less than half full, as
    pgstatindex measures them (it reads the whole index, so only indexes up to the size
    `--precise` allows are measured). Without `--precise` nothing is reported: an estimate of
    index bloat from statistics is too rough to act on.

    ## Why is this bad?
    A btree does not give back the space of deleted entries until its pages empty entirely: an
    index on a table where rows come and go (a queue, a sliding window of events) can grow to
    many times its useful size, and every scan reads, and the cache holds, the empty space
    (§6.9, Principle 4).

    ## Example
    ```sql
    -- a queue: 10 million rows inserted and deleted a day, never reindexed
    CREATE INDEX job_run_at_idx ON job (run_at);
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY job_run_at_idx;
    ```

    ## Fix safety
    REINDEX CONCURRENTLY builds a new index beside the old one (writes continue; it needs the
    index's size again in free disk) and swaps them; it cannot run in a transaction block, and
    a failed run leaves an invalid index to drop (X003).

    ## References
    PostgreSQL manual 24.2 Routine Reindexing, F.33 pgstattuple (pgstatindex); playbook §6.9.
    """
    minimum = settings.ops.dead_row_min_bytes
    for index in facts.indexes:
        if index.leaf_density >= _DENSITY or index.size_bytes < minimum:
            continue
        wasted = index.size_bytes * (1 - index.leaf_density / 90.0)
        yield Violation(
            ObjectRef("index", index.schema, index.name),
            f"index {index.schema}.{index.name} on {index.table} is {size(index.size_bytes)} with "
            f"its leaf pages {index.leaf_density:.0f}% full (about {size(max(wasted, 0))} more "
            "than a rebuilt one; measured by pgstatindex)",
            Fix(
                "rebuild it beside the old one",
                sql=f"REINDEX INDEX CONCURRENTLY {qualified(index.schema, index.name)};",
                lock_safe=True,
                note="outside a transaction block; needs the index's size in free disk",
            ),
            evidence=(
                ("avg_leaf_density", f"{index.leaf_density:.1f}%"),
                ("how known", "measured: pgstatindex"),
            ),
        )
