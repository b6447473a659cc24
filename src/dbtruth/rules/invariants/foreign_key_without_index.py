"""I002 foreign-key-without-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import column_list, ident, qualified
from dbtruth.rules.naming import constraint_ref, covering_index, fresh_name, own_tables
from dbtruth.spec import Settings, rule

# A table this many foreign keys point at is a vocabulary or reference table (OMOP's concept,
# a country list): its rows are rarely deleted, so unindexed references to it are the weaker case.
HUB_REFERENCES = 10


@rule("I002", "foreign-key-without-index", Severity.WARNING)
def foreign_key_without_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds foreign keys whose columns are not the leading columns of any index on the
    referencing table.

    ## Why is this bad?
    Every DELETE or key UPDATE on the referenced row must find the referencing rows; without an
    index that is a sequential scan of the child table, taken while holding locks, and joins
    from parent to child scan too. The invariant is enforced, but at a cost that grows with the
    child table — an index is part of the contract the foreign key implies (Principle 4).

    ## Example
    ```sql
    CREATE TABLE case_note (id bigint PRIMARY KEY,
                            case_id bigint NOT NULL REFERENCES case_file (id));
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY case_note_case_id_idx ON case_note (case_id);
    ```

    References to a hub — a table at least ten foreign keys point at, typically reference data
    such as a vocabulary — are reported at info severity: they cost something only if the hub's
    rows are deleted or re-keyed.

    ## Fix safety
    `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE, so reads and writes continue; it
    cannot run inside a transaction block. On a partitioned table, CONCURRENTLY is not available
    and the fix creates the index on the parent, which locks writes on every partition.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys ("declaring an index on the referencing columns");
    playbook Principle 4, §6.6 Query and Index.
    """
    for table in own_tables(catalog):
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.inherited:
                continue
            if covering_index(catalog, table, fk.columns) is not None:
                continue
            partitioned = table.kind == "partitioned table"
            name = fresh_name(catalog, table.schema, table.name, *fk.columns, suffix="idx")
            concurrently = "" if partitioned else "CONCURRENTLY "
            sql = (
                f"CREATE INDEX {concurrently}{ident(name)} ON "
                f"{qualified(table.schema, table.name)} ({column_list(fk.columns)});"
            )
            parent = catalog.table(fk.ref_qualified or "")
            references = len(catalog.foreign_keys_to(parent)) if parent else 0
            hub = references >= HUB_REFERENCES
            message = (
                f"foreign key {fk.name} on {table.qualified} ({', '.join(fk.columns)}) has no "
                f"index leading with its columns; deletes on {fk.ref_qualified} scan "
                f"{table.qualified}"
            )
            if hub:
                message += (
                    f" ({fk.ref_qualified} is referenced by {references} foreign keys: if it is "
                    "reference data whose rows are never deleted, this costs nothing)"
                )
            yield Violation(
                constraint_ref(fk),
                message,
                Fix(
                    "index the referencing columns",
                    sql=sql,
                    safe=not partitioned,
                    note="run outside a transaction block"
                    if not partitioned
                    else "locks writes on all partitions while it builds",
                ),
                evidence=(
                    ("references", f"{fk.ref_qualified} ({', '.join(fk.ref_columns)})"),
                    ("on delete", fk.on_delete or ""),
                    ("foreign keys to the referenced table", str(references)),
                ),
                severity=Severity.INFO if hub else None,
            )
