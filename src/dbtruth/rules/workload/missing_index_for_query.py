"""X012 missing-index-for-query."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery
from dbtruth.rules.workload_evidence import query_ref
from dbtruth.spec import Settings, workload_rule
from dbtruth.words import counted

# A saving this large is worth acting on; a smaller one is advice, reported at info.
_LARGE_SAVING = 0.5


@workload_rule("X012", "missing-index-for-query", Severity.WARNING)
def missing_index_for_query(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    With `dbtruth workload --suggest`: reports a query that an index the schema lacks would
    make much cheaper, with that index. Each index was built where the workload was planned —
    the statistics twin of a live target, or the copy of SQL files — and the whole workload
    planned again with it: chosen per table over every query that reads the table, weighed by
    how often each runs (calls per minute declared, else calls observed) against what the
    index costs writers, never one that an existing index already is or begins with.

    ## Why is this bad?
    A frequent query without the index it needs reads far more than it returns, on every
    call; an index is the contract that makes it cheap (Principle 4, §3.5, §6.6). Advice
    tried one query at a time proposes an index per query; chosen over the workload, one
    index serves several, and none is proposed that writes pay for more than reads gain.

    ## Example
    ```yaml
    workload:
      - name: pending orders
        role: read
        sql: SELECT id, total FROM orders WHERE status = 'pending'
        calls_per_minute: 300
    ```
    on a table of 40,000 orders, 3% of them pending, without an index on `status`.

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status) INCLUDE (id, total);
    ```

    A saving of half the query's cost or more is a warning; a smaller one (at least a fifth
    of the weighted cost of the queries it serves) is info. The costs are the planner's,
    before and after, on the twin (or the copy), shown in the evidence with how the query
    reads the table each time.

    ## Fix safety
    `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE: reads and writes continue while
    it builds; it cannot run in a transaction block, and a failed build leaves an invalid
    index to drop (X003). Every write to the table maintains the new index afterwards.

    ## References
    PostgreSQL manual 11 Indexes, 11.9 Index-Only Scans, 14.1 Using EXPLAIN; playbook
    Principle 4, §3.5, §6.6.
    """
    for advice in planned.advice:
        saving = 1 - advice.after / advice.before if advice.before > 0 else 0.0
        others = [q for q in advice.queries if q != planned.query.name]
        yield Violation(
            query_ref(planned.query),
            f"query '{planned.query.name}' would cost {advice.after:,.2f} instead of "
            f"{advice.before:,.2f} ({saving:.0%} less) with an index on {advice.index}"
            + (f", which also serves {counted(len(others), 'other query')}" if others else ""),
            Fix(
                "create the index",
                sql=advice.sql,
                lock_safe=True,
                note="CONCURRENTLY: outside a transaction block; writes continue while it builds",
            ),
            evidence=(
                ("planned on", advice.planned_on),
                ("before", f"cost {advice.before:,.2f}: {advice.scan_before}"),
                ("after", f"cost {advice.after:,.2f}: {advice.scan_after}"),
                ("serves", ", ".join(advice.queries)),
                ("writes", advice.write_note),
            ),
            discriminator=advice.index,
            severity=None if saving >= _LARGE_SAVING else Severity.INFO,
        )
