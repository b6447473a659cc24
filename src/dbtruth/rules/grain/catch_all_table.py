"""G004 catch-all-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.lifetime import short_lived
from dbtruth.rules.naming import own_tables, table_ref, tokens
from dbtruth.spec import Settings, rule

_DISCRIMINATOR_WORDS = ("type", "kind", "category")


@rule("G004", "catch-all-table", Severity.WARNING)
def catch_all_table(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with a type discriminator (`type`, `kind`, `*_type`, `category`) and many
    nullable columns — more than half of the columns, and at least `catch_all_min_nullable`
    (default 12).

    ## Why is this bad?
    One table holding tasks, notes, decisions and emails has no single grain: each row uses a
    different subset of columns, so NOT NULL, CHECK and FK cannot express any one kind's rules,
    reports are ambiguous and plans unpredictable — the playbook's `case_activity` example of
    ambiguous grain (§3.3).

    ## Example
    ```sql
    CREATE TABLE case_activity (id bigint PRIMARY KEY, activity_type text, note_body text,
        task_due date, decision_code text, email_to text, email_subject text, ...);
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_note (...);      -- one row per authored note
    CREATE TABLE case_task (...);      -- one row per task
    CREATE TABLE case_decision (...);  -- one row per decision
    ```

    A table of short-lived rows (an expiry column, or a name that says it holds flows,
    exchanges or challenges) is reported at info: a login flow's optional columns per provider
    live for minutes, and nothing reports on them later.

    ## Fix safety
    No SQL fix: splitting a table by grain is a migration with a backfill and a read switch.

    ## References
    Playbook §3.3 Grain Before Columns, §6.2 Entity and Grain.
    """
    for table in own_tables(catalog):
        discriminator = next(
            (
                c.name
                for c in table.columns
                if (parts := tokens(c.name))
                and parts[-1] in _DISCRIMINATOR_WORDS
                and c.type_category in ("S", "E", "N")
            ),
            None,
        )
        if discriminator is None:
            continue
        nullable = [c.name for c in table.columns if not c.not_null]
        if len(nullable) < settings.catch_all_min_nullable or len(nullable) * 2 <= len(
            table.columns
        ):
            continue
        brief = short_lived(table)
        yield Violation(
            table_ref(table),
            f"{table.qualified} mixes kinds of rows under {discriminator} with "
            f"{len(nullable)} of {len(table.columns)} columns nullable: its grain is ambiguous"
            + (
                f"; its rows are short-lived ({brief}): state held for minutes, not history "
                "to report on"
                if brief
                else ""
            ),
            Fix(
                "split it into one table per kind of row, each with its own NOT NULL and CHECK "
                "constraints"
            ),
            evidence=(
                ("discriminator", discriminator),
                ("nullable columns", str(len(nullable))),
                *((("short-lived rows", brief),) if brief else ()),
            ),
            severity=Severity.INFO if brief else None,
        )
