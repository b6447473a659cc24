"""X008 sequential-scan-against-contract."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.workload import PlannedQuery
from dbtruth.rules.workload_evidence import cost_evidence, query_ref
from dbtruth.spec import Settings, workload_rule


@workload_rule("X008", "sequential-scan-against-contract", Severity.ERROR)
def sequential_scan_against_contract(
    planned: PlannedQuery, catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Reports a workload query whose plan reads a table with a Seq Scan when its contract says
    `no_seq_scan_on` that table.

    ## Why is this bad?
    A sequential scan reads every page of the table on every call: its cost grows with the
    table, not with the rows the query returns. For a frequent read path that is the latency
    and I/O a contract exists to keep out (Principle 4, §3.5).

    ## Example
    ```yaml
    workload:
      - name: notes of a case
        role: read
        sql: SELECT body FROM casework.case_note WHERE case_id = $1
        contract: {no_seq_scan_on: [casework.case_note]}
    ```
    with no index leading with `case_id`.

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY case_note_case_id_idx ON casework.case_note (case_id);
    ```

    The table may be named with or without its schema. The plan is made without ANALYZE (see
    X007 on generic plans and on what a copy of SQL files can show).

    ## Fix safety
    No fix is produced: the index the query needs depends on its predicates, which
    `dbtruth workload --suggest` reasons about. `CREATE INDEX CONCURRENTLY` lets writes
    continue and cannot run in a transaction block.

    ## References
    PostgreSQL manual 14.1 Using EXPLAIN; playbook Principle 4, §3.5, §6.6.
    """
    contract = planned.query.contract
    if contract is None or not contract.no_seq_scan_on or planned.plan is None:
        return
    for node in planned.plan.seq_scanned():
        assert node.relation is not None  # seq_scanned keeps scans of a relation
        bare = node.relation.split(".", 1)[-1]
        named = next((t for t in contract.no_seq_scan_on if t in (node.relation, bare)), None)
        if named is None:
            continue
        filters = "; ".join(f"{k}: {v}" for k, v in node.details) or "no filter"
        yield Violation(
            query_ref(planned.query),
            f"query '{planned.query.name}' reads {node.relation} with a Seq Scan, which its "
            "contract rules out",
            evidence=(
                ("contract", f"no_seq_scan_on: {named}"),
                ("scan", f"{node.label}: rows {node.rows:,.0f}, cost {node.total_cost:,.2f}"),
                ("scan condition", filters),
                *cost_evidence(planned.plan),
            ),
            discriminator=node.relation,
        )
