"""I007 nullable-column-in-unique-key."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Index, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.identity import not_null_key, nullable_key_to_promote, whole_unique_keys
from dbtruth.rules.naming import index_ref, own_tables
from dbtruth.spec import Settings, rule


def _null_case_covered(indexes: tuple[Index, ...], index: Index, nullable: list[str]) -> bool:
    """Synapse's pattern: UNIQUE (room_id, user_id, thread_id) beside a partial
    UNIQUE (room_id, user_id) WHERE thread_id IS NULL — the NULL rows have their own key."""
    for column in nullable:
        covered = any(
            other.unique
            and other.predicate is not None
            and f"{column} IS NULL" in other.predicate
            and set(other.keys) <= set(index.keys)
            for other in indexes
            if other is not index
        )
        if not covered:
            return False
    return True


@rule("I007", "nullable-column-in-unique-key", Severity.WARNING)
def nullable_column_in_unique_key(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds unique constraints and unique indexes over two or more columns where a column may be
    NULL and NULLs are distinct (the default).

    ## Why is this bad?
    PostgreSQL treats NULLs as distinct, so `UNIQUE (tenant_id, external_ref)` accepts any
    number of rows with the same `external_ref` and a NULL `tenant_id`. The key looks like an
    invariant and enforces nothing for exactly the rows that are most likely wrong. A single
    nullable column ("unique when present") is a deliberate and common design and is not
    flagged.

    ## Example
    ```sql
    CREATE TABLE invoice (tenant_id bigint, number text NOT NULL, UNIQUE (tenant_id, number));
    ```

    ## Use instead
    ```sql
    CREATE TABLE invoice (tenant_id bigint NOT NULL, number text NOT NULL,
                          UNIQUE (tenant_id, number));
    -- or, on PostgreSQL 15+: UNIQUE NULLS NOT DISTINCT (tenant_id, number)
    ```

    Not reported when, for each nullable column, a partial unique index `WHERE col IS NULL`
    over the remaining columns gives the NULL rows their own key; when a unique key on part of
    its columns, all NOT NULL, already refuses every duplicate (`UNIQUE (user_id, room_id)`
    beside `UNIQUE (user_id, room_id, thread_id)`); or when the table has no primary key and
    this is the key I001 (table-without-primary-key) makes NOT NULL and promotes — one finding,
    one fix.

    Info when some nullable key column's NULL rows have a unique index of their own on other
    columns (`UNIQUE (item, field, media) WHERE valid_from IS NULL` beside the key): the NULL
    case is designed, and no fix is offered (NULLS NOT DISTINCT or NOT NULL would refuse the
    rows that design allows). Info too, as a guess said to be one, when the key is named by hand for
    its nullable columns (`unique_phone_factor_per_user` over (user_id, phone)): it is meant
    for the rows that have them. A generated name, every key column in order, is no sign.

    Info when the SQL files themselves declare each nullable key column nullable (a
    migration's `ALTER COLUMN … DROP NOT NULL`, not undone later, whether or not the column
    was NOT NULL before: generators write it for "null: true"): the history records that NULL
    was allowed on purpose, and the finding names the file and line where that was decided,
    so the reader can judge whether the key's NULL rows were part of the decision.

    ## Fix safety
    Where NULL can mean something — a nullable foreign key column (no parent: a global row, one
    not yet assigned) or a date or time (an open bound) — the fix on PostgreSQL 15+ builds the
    same key with NULLS NOT DISTINCT, concurrently, and swaps it in (a brief ACCESS EXCLUSIVE,
    no scan): NULL stays allowed and counts as one value. The build fails if duplicates with
    NULL exist already. Where NULL means nothing (a name, a code, a size), on a tenant key,
    and before 15, the fix is SET NOT NULL: it scans the whole table under
    ACCESS EXCLUSIVE unless a validated `CHECK (col IS NOT NULL)` already proves it (PostgreSQL
    12+): add that CHECK NOT VALID and validate it first on a large table. Fails if NULLs
    exist.

    ## References
    PostgreSQL manual 5.5.3 Unique Constraints (NULLS NOT DISTINCT); playbook §3.2, §6.4.
    """
    for table in own_tables(catalog):
        promoted = nullable_key_to_promote(catalog, table)
        for index in catalog.indexes_of(table):
            if not index.unique or index.primary or index.predicate is not None:
                continue
            if len(index.keys) < 2 or not all(index.key_is_column):
                continue
            if index.nulls_not_distinct:
                continue
            nullable = [
                col.name
                for key in index.keys
                if (col := table.column(key.strip('"'))) is not None and not col.not_null
            ]
            if not nullable or _null_case_covered(catalog.indexes_of(table), index, nullable):
                continue
            if index is promoted or _implied(catalog, table, index):
                # Another key already refuses every duplicate, or I001 reports this key on a
                # table without a primary key, with the fix that makes it NOT NULL.
                continue
            history = _made_nullable(catalog, table, nullable)
            keyed_null_case = _null_case_keyed(catalog.indexes_of(table), index, nullable)
            designed = keyed_null_case or _named_for(index, nullable)
            table_sql = qualified(table.schema, table.name)
            sql = "\n".join(
                f"ALTER TABLE {table_sql} ALTER COLUMN {ident(c)} SET NOT NULL;" for c in nullable
            )
            message = (
                f"unique key {index.name} on {table.qualified} ({', '.join(index.keys)}) does "
                f"not stop duplicates when {', '.join(nullable)} is NULL"
            )
            evidence = [("nullable key columns", ", ".join(nullable))]
            if history:
                message += f"; {history}, a decision on record"
                evidence.append(("history", history))
            elif designed:
                message += f"; {designed}: the NULL case is designed, not overlooked"
                evidence.append(("key of the NULL rows", designed))
            # A NULL tenant is no design: the tenant key is made NOT NULL. Elsewhere NULL may
            # mean something (a global row, a value not given), which NULLS NOT DISTINCT keeps.
            tenant_null = any(c in settings.tenant_keys for c in nullable)
            fix = (
                _nulls_not_distinct(table, index)
                if catalog.server_version_num >= 150000
                and not tenant_null
                and _null_may_mean_something(catalog, table, nullable)
                else Fix(
                    "make the key columns NOT NULL",
                    sql=sql,
                    lock_safe=False,
                    behaviour_change=True,  # NULLs are refused from then on
                    note="SET NOT NULL scans under ACCESS EXCLUSIVE; fails on NULLs",
                )
            )
            yield Violation(
                index_ref(index),
                message,
                # the NULL rows have a key of their own: counting NULL as a value here would
                # refuse what that design allows (two pending rows of one item), so no fix
                None if keyed_null_case else fix,
                evidence=tuple(evidence),
                severity=Severity.INFO if history or designed else None,
            )


def _nulls_not_distinct(table: Table, index: Index) -> Fix:
    """On PostgreSQL 15+: the same key with NULLS NOT DISTINCT. NULL keeps its meaning (a
    global row, a value not given) and counts as one value in the key, where SET NOT NULL
    would forbid it."""
    table_sql = qualified(table.schema, table.name)
    new = ident(f"{index.name[:55]}_nnd")
    columns = ", ".join(index.keys)
    create = (
        f"CREATE UNIQUE INDEX CONCURRENTLY {new} ON {table_sql} ({columns}) NULLS NOT DISTINCT;"
    )
    if index.constraint:
        swap = (
            f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(index.constraint)};\n"
            f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(index.constraint)} "
            f"UNIQUE USING INDEX {new};"
        )
    else:
        swap = f"DROP INDEX CONCURRENTLY {qualified(index.schema, index.name)};"
    return Fix(
        "keep NULL allowed and count it as one value: the key with NULLS NOT DISTINCT "
        "(or make the key columns NOT NULL, if NULL means nothing)",
        sql=f"{create}\n{swap}",
        lock_safe=True,
        behaviour_change=True,  # a second row with the same key and NULL is refused
        note="NULLS NOT DISTINCT needs PostgreSQL 15 or later (on an older server, make the "
        "columns NOT NULL instead); the index is built CONCURRENTLY (outside a transaction "
        "block); the swap takes a "
        "brief ACCESS EXCLUSIVE and scans nothing; the build fails if such duplicates exist "
        "— find them first; a foreign key that references the old constraint blocks its drop",
    )


def _implied(catalog: Catalog, table: Table, index: Index) -> bool:
    """Whether a unique key on part of these columns, all NOT NULL and on every row, already
    refuses whatever this one would: two rows equal on the whole key, NULL for NULL, are equal
    on that part, whose values are never NULL (Synapse's `(user_id, room_id)` beside
    `(user_id, room_id, thread_id)`)."""
    keys = set(index.keys)
    return any(
        other is not index and set(other.keys) < keys and not_null_key(table, other)
        for other in whole_unique_keys(catalog, table)
    )


def _null_may_mean_something(catalog: Catalog, table: Table, nullable: list[str]) -> bool:
    """Whether NULL in some nullable key column can carry a meaning worth keeping: a foreign
    key column (no parent: a global row, one not yet assigned) or a date or time (an open
    bound). NULL in a name, a code or a size means nothing, and the fix forbids it."""
    referencing = {
        column
        for constraint in catalog.constraints_of(table)
        if constraint.kind == "foreign key"
        for column in constraint.columns
    }
    return any(
        name in referencing
        or ((col := table.column(name)) is not None and col.type_category == "D")
        for name in nullable
    )


def _null_case_keyed(indexes: tuple[Index, ...], index: Index, nullable: list[str]) -> str | None:
    """A unique index of its own for the rows where a nullable key column is NULL, on other
    columns (langfuse's pending rows: `UNIQUE (…, media_id) WHERE valid_from IS NULL`)."""
    for column in nullable:
        for other in indexes:
            if (
                other is not index
                and other.unique
                and other.predicate is not None
                and f"{column} IS NULL" in other.predicate
            ):
                return f"rows with {column} NULL have their own unique key, {other.name}"
    return None


def _named_for(index: Index, nullable: list[str]) -> str | None:
    """A key named by hand for its nullable columns (`unique_phone_factor_per_user` over
    (user_id, phone)): it is meant for the rows that have them, "unique when present" within
    the other columns. A generated name (`t_user_id_phone_key`, every column in order) says
    nothing of intent. A guess from the name, and said to be one."""
    name = (index.constraint or index.name).lower()
    if "_".join(k.strip('"').lower() for k in index.keys) in name:
        return None
    words = set(re.split(r"[^a-z0-9]+", name))
    if all(set(re.split(r"[^a-z0-9]+", c.lower())) <= words for c in nullable):
        return (
            f"its name {index.constraint or index.name} says it is about "
            f"{', '.join(nullable)} (guessed): unique where present"
        )
    return None


def _made_nullable(catalog: Catalog, table: Table, nullable: list[str]) -> str | None:
    """Where the SQL files declared every one of these columns nullable, if they did."""
    declared = {r.name: r for r in catalog.removed_from(table, "not null")}
    if not all(column in declared for column in nullable):
        return None
    places = ", ".join(f"{c} at {declared[c].where}" for c in nullable)
    return f"the SQL files declare nullable (DROP NOT NULL) {places}"
