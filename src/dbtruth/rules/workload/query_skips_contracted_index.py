"""X007 query-skips-contracted-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery
from dbtruth.rules.workload_evidence import cost_evidence, query_ref, scans_evidence
from dbtruth.spec import Settings, workload_rule


@workload_rule("X007", "query-skips-contracted-index", Severity.ERROR)
def query_skips_contracted_index(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Plans each workload query whose contract names an index (`uses_index`) and reports the
    query when PostgreSQL's plan does not read that index — or when the index no longer exists.

    ## Why is this bad?
    An index is a contract with the queries it serves (Principle 4). A migration that drops
    it, an added column that changes the planner's choice, or an index rebuilt under another
    name silently moves the query to another path; the contract makes that visible in CI
    instead of in production latency (§3.5, §6.6).

    ## Example
    ```yaml
    workload:
      - name: open cases of a tenant
        role: read
        sql: SELECT id FROM casework.case_file WHERE tenant_id = $1 AND current_state = 'OPEN'
        contract: {uses_index: casework.case_file_tenant_state_idx}
    ```
    with the index dropped, or never created.

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY case_file_tenant_state_idx
        ON casework.case_file (tenant_id, current_state);
    ```

    The plan is PostgreSQL's generic plan for a query with parameters (the plan a prepared
    statement settles on), made without ANALYZE: nothing runs. On SQL files it is the plan of
    the copy dbtruth loaded them into, with the rows the files hold: a planner that sees a
    tiny table may prefer a sequential scan where production would not, and the finding's
    evidence gives the estimated rows so that can be told apart.

    ## Fix safety
    No fix is produced: whether to restore the index, change the query or move the contract
    is the owner's decision. `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE (writes
    continue) and cannot run in a transaction block.

    ## References
    PostgreSQL manual 14.1 Using EXPLAIN, 11 Indexes; playbook Principle 4, §3.5, §6.6.
    """
    contract = planned.query.contract
    if contract is None or not contract.uses_index or planned.plan is None:
        return
    wanted = contract.uses_index
    used = planned.plan.indexes()
    if _same(wanted, used):
        return
    exists = _index_exists(catalog, wanted)
    message = f"query '{planned.query.name}' must use index {wanted}, " + (
        "which does not exist"
        if not exists
        else "but PostgreSQL plans it "
        + (f"with {', '.join(used)}" if used else "without any index")
    )
    yield Violation(
        query_ref(planned.query),
        message,
        evidence=(
            ("contract", f"uses_index: {wanted}"),
            ("index exists", "yes (in the catalog)" if exists else "no: not in the catalog"),
            ("indexes the plan uses", ", ".join(used) or "none"),
            *scans_evidence(planned.plan),
            *cost_evidence(planned.plan),
        ),
    )


def _same(wanted: str, used: list[str]) -> bool:
    """The contract may name the index with or without its schema."""
    return wanted in used or ("." not in wanted and any(u.split(".", 1)[1] == wanted for u in used))


def _index_exists(catalog: Catalog, name: str) -> bool:
    return any(
        index.qualified == name or ("." not in name and index.name == name)
        for index in catalog.indexes
    )
