"""M017 index-named-by-table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import object_name, where
from dbtruth.spec import Settings, migration_rule

# Schemas every database has, whatever the migrations create.
_BUILT_IN_SCHEMAS = frozenset({"public", "pg_catalog", "information_schema", "pg_temp"})


@migration_rule("M017", "index-named-by-table", Severity.ERROR, reads=(ast.DropStmt,))
def index_named_by_table(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds `DROP INDEX table.index`: an index qualified by the name of a table the migrations
    know, where no relation lives in a schema of that name.

    ## Why is this bad?
    PostgreSQL reads the first part of a qualified index name as its schema, never as its
    table (`DROP INDEX index ON table` is MySQL). `DROP INDEX IF EXISTS sessions.sessions_ip`
    looks in a schema named sessions, finds nothing and does nothing: the migration passes
    and the index it meant to drop stays, with whatever it enforces (a unique key the change
    meant to lift keeps refusing rows). Without IF EXISTS the migration fails. Ory Kratos's
    `DROP INDEX IF EXISTS session_devices.unique_session_device` is such a statement.

    Known schemas are those of the relations the migrations create, those of an `--against`
    target, and PostgreSQL's own; a schema that holds no relation yet is not known.

    ## Example
    ```sql
    DROP INDEX IF EXISTS session_devices.unique_session_device;
    ```

    ## Use instead
    ```sql
    DROP INDEX IF EXISTS public.unique_session_device;
    -- an index a UNIQUE or PRIMARY KEY constraint made goes with its constraint:
    ALTER TABLE session_devices DROP CONSTRAINT IF EXISTS unique_session_device;
    ```

    ## Fix safety
    No automatic fix: the index may belong to a constraint, which only ALTER TABLE … DROP
    CONSTRAINT removes. Either way the fixed migration now drops what it names: what the
    index enforced stops being enforced, which is what the migration meant.

    ## References
    PostgreSQL: DROP INDEX (the name may be schema-qualified); Object names (schema.name).
    """
    node = statement.node
    if not isinstance(node, ast.DropStmt) or node.removeType != ObjectType.OBJECT_INDEX:
        return
    relations = set(state.created_in_set) | set(state.existing or ())
    schemas = {r.split(".", 1)[0] for r in relations} | _BUILT_IN_SCHEMAS
    schemas.add(state.search_path_schema)
    tables = {r.split(".", 1)[1]: r for r in relations if "." in r}
    for obj in node.objects or ():
        qualifier, index = object_name(obj)
        if qualifier is None or qualifier in schemas or qualifier not in tables:
            continue
        table = tables[qualifier]
        schema = table.split(".", 1)[0]
        outcome = "does nothing" if node.missing_ok else "fails: the schema does not exist"
        yield Violation(
            ObjectRef("index", schema, index),
            f"DROP INDEX {qualifier}.{index} names {qualifier} as the index's schema, but "
            f"{qualifier} is the table {table}: PostgreSQL looks for the index in a schema "
            f"{qualifier}, which holds nothing, so the statement {outcome} and the index stays",
            Fix(
                "qualify the index by its schema, or drop the constraint that owns it",
                note=f"DROP INDEX IF EXISTS {schema}.{index}; an index a UNIQUE or PRIMARY KEY "
                f"constraint made: ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {index}",
                behaviour_change=True,  # what the index enforced stops being enforced
            ),
            discriminator=where(statement),
        )
