"""H001 timestamp-without-time-zone."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import own_tables, table_ref
from dbtruth.spec import Settings, rule
from dbtruth.words import counted, verb


@rule("H001", "timestamp-without-time-zone", Severity.INFO)
def timestamp_without_time_zone(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with `timestamp without time zone` columns (one finding per table, naming the
    columns).

    ## Why is this bad?
    A `timestamp` is a wall-clock reading with no zone: the same value means different instants
    for writers in different zones, across DST changes and after a server's TimeZone changes.
    Event, transaction and effective time (§3.4) must be instants to be compared, audited and
    disputed; `timestamptz` stores the instant.

    Info severity: ORMs (Prisma's DateTime, many others) default to it and well-run projects that
    write UTC everywhere live with it; the risk is real but latent.

    ## Example
    ```sql
    CREATE TABLE case_event (id bigint PRIMARY KEY, occurred_at timestamp NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_event (id bigint PRIMARY KEY, occurred_at timestamptz NOT NULL);
    ```

    ## Fix safety
    With the session's TimeZone set to UTC, PostgreSQL 12+ converts `timestamp` to `timestamptz`
    without rewriting the table, but still under ACCESS EXCLUSIVE and only if stored values
    really are UTC; otherwise convert with `USING col AT TIME ZONE '<zone>'`, which rewrites.

    ## References
    PostgreSQL manual 8.5.1.3 Time Stamps; PostgreSQL wiki "Don't Do This: timestamp (without
    time zone)"; playbook §3.4 Time Is a First-Class Dimension.
    """
    for table in own_tables(catalog):
        columns = [c.name for c in table.columns if c.type_name == "timestamp" and not c.generated]
        if not columns:
            continue
        table_sql = qualified(table.schema, table.name)
        sql = "SET timezone = 'UTC';\n" + "\n".join(
            f"ALTER TABLE {table_sql} ALTER COLUMN {ident(c)} TYPE timestamptz;" for c in columns
        )
        yield Violation(
            table_ref(table),
            f"{table.qualified} stores {counted(len(columns), 'timestamp')} without time zone "
            f"({', '.join(columns)}); "
            + verb(
                len(columns),
                "its instant depends on who wrote it",
                "their instant depends on who wrote them",
            ),
            Fix(
                "store instants as timestamptz (values read as UTC)",
                sql=sql,
                lock_safe=False,
                behaviour_change=True,  # values are read as UTC instants from then on
                note="ACCESS EXCLUSIVE; no rewrite on 12+ when TimeZone is UTC",
            ),
            evidence=(("columns", ", ".join(columns)),),
        )
