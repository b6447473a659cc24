"""O017 table-bloat."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.ops_text import size
from dbtruth.spec import Settings, ops_rule


@ops_rule("O017", "table-bloat", Severity.WARNING)
def table_bloat(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables where dead rows are more than `dead_row_share` (default 0.2) of all rows and
    at least `dead_row_min_bytes` (default 100 MiB) of the table, estimated from the statistics
    collector's live and dead row counts and the table's size: an estimate, labelled so. With
    `dbtruth ops --precise` and the pgstattuple extension installed, the tables the estimate
    points at are measured with pgstattuple_approx instead (it reads the pages the visibility
    map does not mark all-visible), and the measure decides.

    ## Why is this bad?
    Dead rows are space that every sequential scan still reads and every cache still holds,
    and a sign that vacuum is not keeping up: autovacuum is off for the table, its thresholds
    are too high for its size, or something holds back the horizon (O005, O006, O009)
    (§6.9).

    ## Example
    ```sql
    ALTER TABLE event SET (autovacuum_enabled = off);
    DELETE FROM event WHERE at < now() - interval '90 days';  -- half the table
    ```

    ## Use instead
    ```sql
    VACUUM (VERBOSE, ANALYZE) event;
    ```

    ## Fix safety
    VACUUM takes SHARE UPDATE EXCLUSIVE: reads and writes continue. It makes the space reusable
    inside the table; only VACUUM FULL or pg_repack return it to the disk, and VACUUM FULL
    takes ACCESS EXCLUSIVE for the whole rewrite.

    ## References
    PostgreSQL manual 24.1.2 Recovering Disk Space, 28.2.21 pg_stat_all_tables, F.33
    pgstattuple; playbook §6.9.
    """
    share = settings.ops.dead_row_share
    minimum = settings.ops.dead_row_min_bytes
    for table in facts.tables:
        rows = table.live_rows + table.dead_rows
        measured = table.measured_dead_share
        dead = measured if measured is not None else (table.dead_rows / rows if rows else 0.0)
        if dead < share:
            continue
        dead_bytes = table.total_bytes * dead
        if dead_bytes < minimum:
            continue
        how = (
            f"measured by pgstattuple_approx; {table.measured_free_share or 0:.0%} more is free "
            "space"
            if measured is not None
            else "estimated from the statistics collector's counts"
        )
        yield Violation(
            ObjectRef("table", table.schema, table.name),
            f"table {table.schema}.{table.name} is about {dead:.0%} dead rows "
            f"(~{size(dead_bytes)} of {size(table.total_bytes)}, {how})",
            Fix(
                "vacuum it, and find why autovacuum did not",
                sql=f"VACUUM (VERBOSE, ANALYZE) {qualified(table.schema, table.name)};",
                lock_safe=True,
                note="SHARE UPDATE EXCLUSIVE: reads and writes continue",
            ),
            evidence=(
                ("live rows", f"{table.live_rows:,}"),
                ("dead rows", f"{table.dead_rows:,}"),
                ("last vacuum", table.last_vacuum or "never"),
                (
                    "how known",
                    "measured: pgstattuple_approx"
                    if measured is not None
                    else "estimated: n_live_tup and n_dead_tup, not measured",
                ),
            ),
        )
