"""O018 table-never-analyzed."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import qualified
from dbtruth.spec import Settings, ops_rule

# Fewer rows than this: the planner's defaults for a table it never analysed do little harm.
_MIN_ROWS = 1000


@ops_rule("O018", "table-never-analyzed", Severity.INFO)
def table_never_analyzed(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables holding at least 1,000 live rows that have never been analysed, by hand or by
    autovacuum, since the statistics were last reset.

    ## Why is this bad?
    Without statistics the planner guesses every selectivity and size: joins in the wrong
    order, a sequential scan where an index would do. Autovacuum analyses a table once enough
    rows changed; a table loaded in bulk and never touched again, or one with autovacuum off,
    is planned from defaults (Principle 4).

    ## Example
    ```sql
    COPY country FROM 'countries.csv';   -- and never analysed
    ```

    ## Use instead
    ```sql
    ANALYZE country;
    ```

    ## Fix safety
    ANALYZE takes SHARE UPDATE EXCLUSIVE and reads a sample: reads and writes continue.

    ## References
    PostgreSQL manual 24.1.3 Updating Planner Statistics; playbook Principle 4.
    """
    for table in facts.tables:
        if table.live_rows < _MIN_ROWS or table.last_analyze is not None:
            continue
        yield Violation(
            ObjectRef("table", table.schema, table.name),
            f"table {table.schema}.{table.name} holds about {table.live_rows:,} rows and has "
            "never been analysed: the planner guesses its sizes and selectivities",
            Fix(
                "analyse it",
                sql=f"ANALYZE {qualified(table.schema, table.name)};",
                lock_safe=True,
            ),
            evidence=(("live rows", f"{table.live_rows:,}"), ("last analyze", "never")),
        )
