"""X011 query-does-not-plan."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery
from dbtruth.rules.workload_evidence import query_ref
from dbtruth.spec import Settings, workload_rule


@workload_rule("X011", "query-does-not-plan", Severity.ERROR)
def query_does_not_plan(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Reports a workload query PostgreSQL refuses to plan on the schema: a table or column it
    names is gone, a type no longer matches, a function was dropped.

    ## Why is this bad?
    The schema no longer serves a query the application runs: the first call after the
    deploy fails. PostgreSQL's own parser and planner say so, with its error, before the
    migration ships (Principle 4, §3.5; §6.7 backward-compatible change).

    ## Example
    ```yaml
    workload:
      - name: open cases
        role: read
        sql: SELECT id FROM casework.case_file WHERE status = 'OPEN'
    ```
    after `status` was renamed to `current_state`.

    ## Use instead
    Rename in two steps (add the new column, move the readers, then drop the old one), or
    update the query and its declaration together.

    X006 reads inline queries statically during `check`; this rule is PostgreSQL's verdict
    when the query is planned. A query that runs out of the planning time is reported here
    too, with the timeout. Statements observed in pg_stat_statements are not: the server ran
    them with the application's values, and their normalised text may not plan without them
    (a `$1` of unknown type), which the report notes instead.

    ## Fix safety
    No fix is produced.

    ## References
    PostgreSQL manual 14.1 Using EXPLAIN; playbook Principle 4, §6.7.
    """
    if planned.error is None or planned.query.origin == "observed":
        # The server ran an observed statement with the application's values; failing to plan
        # its normalised text ($1 of unknown type) is dbtruth's limit, not the schema's.
        return
    yield Violation(
        query_ref(planned.query),
        f"query '{planned.query.name}' cannot be planned on this schema: {planned.error}",
        evidence=(("PostgreSQL said", planned.error),),
    )
