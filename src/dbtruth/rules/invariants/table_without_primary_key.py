"""I001 table-without-primary-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule


@rule("I001", "table-without-primary-key", Severity.WARNING)
def table_without_primary_key(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables that have no primary key.

    ## Why is this bad?
    A row without identity cannot be referenced, corrected or deduplicated with confidence:
    nothing stops two identical rows, foreign keys cannot point at it, and logical replication
    cannot replicate its UPDATEs and DELETEs. The playbook's first schema question is "Primary
    key tepat?" — one row must represent exactly one thing (§3.3, §6.4).

    ## Example
    ```sql
    CREATE TABLE case_note (case_id bigint, body text);
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_note (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        case_id bigint NOT NULL,
        body text NOT NULL
    );
    ```

    A table whose rows are already identified by a unique key on NOT NULL columns is reported
    at info severity: the invariant holds, only its declaration is missing.

    ## Fix safety
    When a unique index on NOT NULL columns exists, the fix promotes it with
    `ADD PRIMARY KEY USING INDEX`, which takes a brief ACCESS EXCLUSIVE lock and no scan. Otherwise
    the fix adds an identity column, which rewrites the table under ACCESS EXCLUSIVE: unsafe on a
    large, busy table.

    ## References
    PostgreSQL manual 5.5.4 Primary Keys; playbook §3.3 Grain Before Columns, §6.4 Schema.
    """
    for table in own_tables(catalog):
        constraints = catalog.constraints_of(table)
        if any(c.kind == "primary key" for c in constraints):
            continue
        candidate = next(
            (
                index
                for index in catalog.indexes_of(table)
                if index.unique
                and index.valid
                and index.predicate is None
                and all(index.key_is_column)
                and not index.include
                and all(
                    (col := table.column(k.strip('"'))) is not None and col.not_null
                    for k in index.keys
                )
            ),
            None,
        )
        name = qualified(table.schema, table.name)
        if candidate is not None:
            constraint = next((c for c in constraints if c.index == candidate.name), None)
            steps = []
            if constraint is not None:
                # A unique constraint's index cannot be reused while the constraint owns it.
                steps.append(
                    f"ALTER TABLE {name} DROP CONSTRAINT {ident(constraint.name)}, "
                    f"ADD PRIMARY KEY ({', '.join(candidate.keys)});"
                )
            else:
                steps.append(
                    f"ALTER TABLE {name} ADD PRIMARY KEY USING INDEX {ident(candidate.name)};"
                )
            fix = Fix(
                f"promote the unique key {candidate.name} on NOT NULL columns to the primary key",
                sql="\n".join(steps),
                safe=constraint is None,
                note="brief ACCESS EXCLUSIVE lock; reuses the existing index"
                if constraint is None
                else "rebuilds the key's index under ACCESS EXCLUSIVE",
            )
            message = (
                f"table {table.qualified} has no primary key, though the unique key "
                f"{candidate.name} on NOT NULL columns could be one"
            )
        else:
            column = "id" if table.column("id") is None else f"{table.name}_id"
            fix = Fix(
                "give every row an identity",
                sql=f"ALTER TABLE {name} ADD COLUMN {ident(column)} bigint "
                "GENERATED ALWAYS AS IDENTITY PRIMARY KEY;",
                safe=False,
                note="rewrites the table under ACCESS EXCLUSIVE; prefer a natural key if one "
                "exists",
            )
            message = f"table {table.qualified} has no primary key and no unique key to promote"
        yield Violation(
            table_ref(table),
            message,
            fix,
            evidence=(("columns", ", ".join(table.column_names)),),
            # Rows already have an identity; only its declaration (replica identity, tools) is
            # missing, so this is the weaker case.
            severity=Severity.INFO if candidate is not None else None,
        )
