"""O001 sequence-near-exhaustion."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.spec import Settings, rule

_COLUMN_MAX = {"int2": 32767, "int4": 2147483647, "int8": 9223372036854775807}


@rule("O001", "sequence-near-exhaustion", Severity.WARNING, live_only=True)
def sequence_near_exhaustion(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    On a live database, finds sequences that have used at least `sequence_usage_share` (default
    half) of their range — the range being the smaller of the sequence's maximum and the maximum
    of the column it feeds (a bigint sequence feeding an integer column stops at 2^31 - 1).

    ## Why is this bad?
    When the sequence or the column runs out, every INSERT fails: a full outage of the write
    path, and the fix (widening the column) rewrites the table under ACCESS EXCLUSIVE — hours on
    the large tables that run out first. Capacity must be modelled before it is an incident
    (§6.9 "Capacity model ada?", §3.10).

    ## Example
    ```sql
    CREATE TABLE event (id serial PRIMARY KEY);  -- 1.6 billion rows later: 75% used
    ```

    ## Use instead
    ```sql
    CREATE TABLE event (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
    ```

    ## Fix safety
    ALTER COLUMN TYPE bigint rewrites the table and its indexes under ACCESS EXCLUSIVE: on a
    large table, migrate with a new column, a batched backfill and a swap instead.

    ## References
    PostgreSQL manual 9.17 Sequence Manipulation Functions, CREATE SEQUENCE; playbook §3.10,
    §6.9.
    """
    for sequence in catalog.sequences:
        if sequence.last_value is None or sequence.increment <= 0:
            continue
        limit = sequence.max_value
        column_type = None
        table_sql = column = None
        if sequence.owned_by:
            schema, table_name, column = sequence.owned_by.split(".", 2)
            table = catalog.table(f"{schema}.{table_name}")
            owner_column = table.column(column) if table else None
            if owner_column is not None and owner_column.type_name in _COLUMN_MAX:
                column_type = owner_column.type_name
                limit = min(limit, _COLUMN_MAX[column_type])
                table_sql = qualified(schema, table_name)
        span = limit - sequence.min_value
        used = (sequence.last_value - sequence.min_value) / span if span > 0 else 1.0
        if used < settings.sequence_usage_share:
            continue
        steps = []
        if table_sql and column and column_type != "int8":
            steps.append(f"ALTER TABLE {table_sql} ALTER COLUMN {ident(column)} TYPE bigint;")
        if sequence.data_type != "bigint":
            steps.append(f"ALTER SEQUENCE {qualified(sequence.schema, sequence.name)} AS bigint;")
        yield Violation(
            ObjectRef("sequence", sequence.schema, sequence.name),
            f"sequence {sequence.qualified} has used {used:.0%} of its range "
            f"({sequence.last_value:,} of {limit:,})"
            + (f", feeding {sequence.owned_by} ({column_type})" if sequence.owned_by else ""),
            Fix(
                "widen the sequence and the column to bigint before they run out",
                sql="\n".join(steps) or None,
                lock_safe=False,
                note="ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE",
            ),
            evidence=(("last_value", str(sequence.last_value)), ("limit", str(limit))),
        )
