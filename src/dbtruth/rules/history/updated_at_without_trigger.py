"""H002 updated-at-without-trigger."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import column_ref, normalized, own_tables, short_name
from dbtruth.spec import Settings, rule

_UPDATED = {
    "updatedat",
    "modifiedat",
    "updatedon",
    "modifiedon",
    "lastmodified",
    "lastmodifiedat",
    "lastupdated",
    "lastupdatedat",
    "updatetime",
    "modifytime",
}


def maintained_by_trigger(catalog: Catalog, table: Table, column: str) -> bool:
    """A BEFORE UPDATE row trigger whose function assigns the column (or moddatetime(col))."""
    pattern = re.compile(rf"\bnew\s*\.\s*\"?{re.escape(column)}\"?\s*:?=", re.IGNORECASE)
    for trigger in catalog.triggers_of(table):
        if not (
            trigger.enabled
            and trigger.timing == "before"
            and trigger.row_level
            and "update" in trigger.events
        ):
            continue
        if trigger.function.endswith(".moddatetime") and column in trigger.definition:
            return True
        if any(pattern.search(f.body) for f in catalog.function(trigger.function)):
            return True
    return False


@rule("H002", "updated-at-without-trigger", Severity.INFO, opt_in=True)
def updated_at_without_trigger(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds `updated_at`-style columns (`updated_at`, `modified_at`, `last_modified`, ...) that no
    BEFORE UPDATE trigger maintains.

    ## Why is this bad?
    Without a trigger the column is only as true as every code path, script and console session
    that remembers to set it; a bulk fix from psql silently leaves it stale. And even when
    maintained it only answers "when was this row last touched" — never hide temporal semantics
    in `updated_at` (§3.4). Opt-in (select H002): ORMs such as Prisma maintain it in the
    application, and on such projects the rule would fire on most tables.

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
    CREATE TRIGGER case_file_set_updated_at BEFORE UPDATE ON case_file
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    ```

    ## Fix safety
    CREATE TRIGGER takes SHARE ROW EXCLUSIVE briefly (blocks writes for an instant, not reads)
    and can run in a transaction. Lock-safe, but it changes behaviour: a writer that sets the
    column itself (an import, a sync keeping the source's time) is overridden.

    ## References
    PostgreSQL manual 43.10 Trigger Functions; playbook §3.4 ("Never hide temporal semantics in
    updated_at").
    """
    for table in own_tables(catalog):
        for column in table.columns:
            if normalized(column.name) not in _UPDATED or column.type_category != "D":
                continue
            if maintained_by_trigger(catalog, table, column.name):
                continue
            function = qualified(table.schema, short_name("set", column.name, suffix="trg"))
            trigger = short_name(table.name, "set", column.name, suffix="trg")
            sql = (
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS\n"
                f"$$ BEGIN NEW.{ident(column.name)} := now(); RETURN NEW; END $$;\n"
                f"CREATE TRIGGER {ident(trigger)} BEFORE UPDATE ON "
                f"{qualified(table.schema, table.name)}\n"
                f"    FOR EACH ROW EXECUTE FUNCTION {function}();"
            )
            yield Violation(
                column_ref(table, column.name),
                f"{table.qualified}.{column.name} is maintained by no trigger; it is only as "
                "true as every writer",
                Fix(
                    "maintain it in the database with a BEFORE UPDATE trigger",
                    sql=sql,
                    lock_safe=True,
                    # A writer that sets the column itself (an import, a sync) is overridden.
                    behaviour_change=True,
                    note="SHARE ROW EXCLUSIVE for an instant",
                ),
            )
