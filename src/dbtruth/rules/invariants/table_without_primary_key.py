"""I001 table-without-primary-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Constraint, Index, Table
from dbtruth.model.sqlnames import column_list, ident, qualified
from dbtruth.rules.identity import (
    has_primary_key,
    not_null_key,
    nullable_key_to_promote,
    whole_unique_keys,
)
from dbtruth.rules.naming import fresh_name, own_tables, table_ref, tokens
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
    `ADD PRIMARY KEY USING INDEX`, which takes a brief ACCESS EXCLUSIVE lock and no scan. A
    unique constraint owns its index, so a copy is built `CONCURRENTLY` and made the key; the
    old constraint is dropped after, or kept when a foreign key references its columns (the
    drop would fail: that foreign key depends on its index). Otherwise the fix declares the
    key the rows most likely have: a unique key whose columns may be NULL (SET NOT NULL, then
    promoted), an id column named for the table (`id`, `cohort_definition_id` in
    cohort_definition), in a link table its NOT NULL foreign keys together (one row per
    link), or its NOT NULL columns together when they are at most five of plain key types (a
    row stored twice is refused; the real grain may be narrower). These build or check under
    ACCESS EXCLUSIVE and refuse what was accepted before (NULLs, repeats). Only when none
    exists does it add an identity column, which rewrites the table under ACCESS EXCLUSIVE:
    unsafe on a large, busy table, and it stops no row being stored twice. The new column
    changes what loads and readers see (COPY without a column list expects it, SELECT *
    returns it): a behaviour change.

    ## References
    PostgreSQL manual 5.5.4 Primary Keys; playbook §3.3 Grain Before Columns, §6.4 Schema.
    """
    for table in own_tables(catalog):
        constraints = catalog.constraints_of(table)
        if has_primary_key(catalog, table):
            continue
        candidate = next(
            (i for i in whole_unique_keys(catalog, table) if not_null_key(table, i)), None
        )
        if candidate is not None:
            constraint = next((c for c in constraints if c.index == candidate.name), None)
            steps, note = _promotion(catalog, table, candidate, constraint)
            fix = Fix(
                f"promote the unique key {candidate.name} on NOT NULL columns to the primary key",
                sql="\n".join(steps),
                safe=True,
                note=note,
            )
            message = (
                f"table {table.qualified} has no primary key, though the unique key "
                f"{candidate.name} on NOT NULL columns could be one"
            )
        else:
            fix, message = _natural_key(catalog, table)
        yield Violation(
            table_ref(table),
            message,
            fix,
            evidence=(("columns", ", ".join(table.column_names)),),
            # Rows already have an identity; only its declaration (replica identity, tools) is
            # missing, so this is the weaker case.
            severity=Severity.INFO if candidate is not None else None,
        )


def _promotion(
    catalog: Catalog, table: Table, index: Index, owner: Constraint | None
) -> tuple[list[str], str]:
    """The statements that make a unique key on NOT NULL columns the primary key, and what
    they cost. A plain unique index becomes the key as it is. A unique constraint's index
    cannot: the constraint owns it. A copy is built concurrently and made the key; the old
    constraint is dropped after, unless a foreign key references its columns — the key's
    index serves that foreign key, and dropping it would fail — and then it stays."""
    name = qualified(table.schema, table.name)
    if owner is None:
        return (
            [f"ALTER TABLE {name} ADD PRIMARY KEY USING INDEX {ident(index.name)};"],
            "brief ACCESS EXCLUSIVE lock; reuses the existing index",
        )
    key = fresh_name(catalog, table.schema, table.name, suffix="pkey")
    steps = [
        f"CREATE UNIQUE INDEX CONCURRENTLY {ident(key)} ON {name} ({', '.join(index.keys)});",
        f"ALTER TABLE {name} ADD CONSTRAINT {ident(key)} PRIMARY KEY USING INDEX {ident(key)};",
    ]
    columns = {k.strip('"') for k in index.keys}
    referenced_by = [
        fk.name for fk in catalog.foreign_keys_to(table) if set(fk.ref_columns) == columns
    ]
    if referenced_by:
        return (
            steps,
            "builds a copy of the key concurrently (outside a transaction block), then a brief "
            f"ACCESS EXCLUSIVE; {owner.name} stays, since {', '.join(referenced_by)} "
            "references its columns through it",
        )
    steps.append(f"ALTER TABLE {name} DROP CONSTRAINT {ident(owner.name)};")
    return (
        steps,
        "builds a copy of the key concurrently (outside a transaction block), then a brief "
        f"ACCESS EXCLUSIVE to make it the key and drop {owner.name}",
    )


_CONCURRENT_NOTE = (
    "the index is built concurrently (outside a transaction block; a failed build leaves an "
    "INVALID index to drop), then a brief ACCESS EXCLUSIVE makes it the key"
)
# A key of at most this many columns, of types an index compares cheaply.
WHOLE_ROW_KEY_COLUMNS = 5
_UNKEYED_TYPES = frozenset({"float4", "float8", "json", "jsonb", "bytea", "xml"})
# Text that holds a document rather than a name (Synapse's message_json, actions): too long
# for an index entry, and never what tells one row from another.
_DOCUMENT_WORDS = frozenset(
    {"json", "body", "content", "data", "payload", "message", "messages", "html", "actions",
     "description", "comment", "notes", "text", "blob"}
)  # fmt: skip


def _document(name: str) -> bool:
    """A column named for a document it holds (`message_json`), not for an id (`message_id`)."""
    words = tokens(name)
    return bool(words) and words[-1] != "id" and bool(_DOCUMENT_WORDS.intersection(words))


def _whole_row_key(table: Table) -> list[str]:
    """Every NOT NULL column together, as the key of a table that has no other: two rows equal
    on all of them are one thing stored twice (Synapse's users_pending_deactivation (user_id),
    OMOP's cohort and its four columns). Only when they are few and of plain key types —
    numbers but not floating point, text that names rather than holds a document, dates and
    times, UUIDs. A stamp of when the row was stored (`received_ts`, `created_at`) is left
    out: the same message received twice differs only there, so a key holding it refuses
    nothing. No key at all when an identifier may be NULL (`device_id` beside `user_id`):
    the rows' grain includes it, and a key without it would refuse the second device's row."""
    if any(not c.not_null and not c.generated and "id" in tokens(c.name) for c in table.columns):
        return []
    columns = [
        c for c in table.columns if c.not_null and not c.generated and not _stored_stamp(c.name)
    ]
    if not 1 <= len(columns) <= WHOLE_ROW_KEY_COLUMNS:
        return []
    if any(
        (c.type_category not in ("N", "S", "D") and c.type_name != "uuid")
        or c.type_name in _UNKEYED_TYPES
        or (c.type_category == "S" and _document(c.name))
        for c in columns
    ):
        return []
    return [c.name for c in columns]


# Words that name the moment a row was written rather than the thing it records.
_STORED_WORDS = frozenset(
    {"received", "queued", "inserted", "created", "updated", "stored", "modified", "added"}
)
_STAMP_WORDS = frozenset({"ts", "at", "time", "timestamp", "on", "date"})


def _stored_stamp(name: str) -> bool:
    """`received_ts`, `created_at`, `queued_ts`: when the row was written, not what it is."""
    words = set(tokens(name))
    return bool(words & _STORED_WORDS) and bool(words & _STAMP_WORDS)


def _declare_key(catalog: Catalog, table: Table, columns: list[str]) -> list[str]:
    """A primary key on NOT NULL columns, built without blocking the table: the unique index
    concurrently, then the key on it under a brief ACCESS EXCLUSIVE with no scan."""
    name = qualified(table.schema, table.name)
    key = fresh_name(catalog, table.schema, table.name, suffix="pkey")
    return [
        f"CREATE UNIQUE INDEX CONCURRENTLY {ident(key)} ON {name} ({column_list(columns)});",
        f"ALTER TABLE {name} ADD CONSTRAINT {ident(key)} PRIMARY KEY USING INDEX {ident(key)};",
    ]


def _natural_key(catalog: Catalog, table: Table) -> tuple[Fix, str]:
    """The fix for a table with no unique key on NOT NULL columns, from the key its rows most
    likely have: a unique key whose columns may be NULL (made NOT NULL, then promoted), an id
    column named for the table (`cohort_definition_id` in cohort_definition), the NOT NULL
    foreign keys of a link table together with its other NOT NULL id columns; a new identity
    column only when none of these."""
    name = qualified(table.schema, table.name)
    nullable_key = nullable_key_to_promote(catalog, table)
    if nullable_key is not None:
        columns = [k.strip('"') for k in nullable_key.keys]
        steps = [
            f"ALTER TABLE {name} ALTER COLUMN {ident(c)} SET NOT NULL;"
            for c in columns
            if (col := table.column(c)) is not None and not col.not_null
        ]
        owner = next(
            (c for c in catalog.constraints_of(table) if c.index == nullable_key.name), None
        )
        promotion, note = _promotion(catalog, table, nullable_key, owner)
        return (
            Fix(
                f"make the unique key {nullable_key.name} NOT NULL and promote it",
                sql="\n".join(steps + promotion),
                lock_safe=False,
                behaviour_change=True,  # NULLs in the key are refused from then on
                note=f"SET NOT NULL scans under ACCESS EXCLUSIVE and fails on NULLs; {note}",
            ),
            f"table {table.qualified} has no primary key; its unique key {nullable_key.name} "
            "allows NULLs, so it does not identify every row",
        )
    own_id = next(
        (
            column
            for column in table.columns
            if column.name in ("id", f"{table.name}_id")
            and column.type_category in ("N", "U", "S")
            and not column.generated
        ),
        None,
    )
    if own_id is not None:
        # A primary key's columns are NOT NULL: a nullable id is made so first, a scan under
        # ACCESS EXCLUSIVE; the key itself is built without blocking.
        not_null = (
            [] if own_id.not_null else [f"ALTER TABLE {name} ALTER COLUMN {ident(own_id.name)} "
                                        "SET NOT NULL;"]
        )  # fmt: skip
        return (
            Fix(
                f"declare {own_id.name} the primary key",
                sql="\n".join(not_null + _declare_key(catalog, table, [own_id.name])),
                lock_safe=own_id.not_null,
                behaviour_change=True,  # duplicate or NULL ids are refused from then on
                note=(
                    "SET NOT NULL scans the table under ACCESS EXCLUSIVE and fails on NULL ids; "
                    if not own_id.not_null
                    else ""
                )
                + f"{_CONCURRENT_NOTE}; the build fails if ids repeat",
            ),
            f"table {table.qualified} has no primary key, though its column {own_id.name} "
            "reads as the row's identity",
        )
    links = [
        fk
        for fk in catalog.constraints_of(table)
        if fk.kind == "foreign key"
        and all((c := table.column(n)) is not None and c.not_null for n in fk.columns)
    ]
    linked = {c for fk in links for c in fk.columns}
    # The other NOT NULL columns that say which thing is linked (`event_id` of a polymorphic
    # pair) belong to the key; a NOT NULL text column (a synonym's name) may too, and then
    # the grain is not the links alone: no key is guessed.
    identifying = {c.name for c in table.columns if c.not_null and "id" in tokens(c.name)} - linked
    named = any(
        c.not_null and c.type_category == "S" and c.name not in linked for c in table.columns
    )
    if len(links) >= 2 and not named:
        columns = [c.name for c in table.columns if c.name in linked | identifying]
        return (
            Fix(
                "declare the referenced pairs the primary key: one row per link",
                sql="\n".join(_declare_key(catalog, table, columns)),
                lock_safe=True,
                behaviour_change=True,  # a second row for the same link is refused
                note=f"{_CONCURRENT_NOTE}; the build fails if a link is stored twice, which "
                "then says the table's grain is finer: decide it first",
            ),
            f"table {table.qualified} has no primary key; it links "
            + " and ".join(sorted({fk.ref_qualified or "" for fk in links}))
            + ", and nothing stops the same link being stored twice",
        )
    whole = _whole_row_key(table)
    if whole:
        return (
            Fix(
                "declare its NOT NULL columns together the primary key: no row stored twice",
                sql="\n".join(_declare_key(catalog, table, whole)),
                lock_safe=True,
                behaviour_change=True,  # an identical row is refused from then on
                note=f"{_CONCURRENT_NOTE}; the build fails if a row is stored twice; the rows' "
                "real grain may be fewer of these columns: narrow the key if so",
            ),
            f"table {table.qualified} has no primary key and no unique key to promote; its "
            f"NOT NULL columns ({', '.join(whole)}) together are the key its rows can have",
        )
    column = "id" if table.column("id") is None else f"{table.name}_id"
    return (
        Fix(
            "give every row an identity",
            sql=f"ALTER TABLE {name} ADD COLUMN {ident(column)} bigint "
            "GENERATED ALWAYS AS IDENTITY PRIMARY KEY;",
            lock_safe=False,
            # one column more: COPY without a column list and SELECT * consumers see it
            behaviour_change=True,
            note="rewrites the table under ACCESS EXCLUSIVE; COPY without a column list "
            "expects the new column and SELECT * returns it; prefer a natural key if one exists",
        ),
        f"table {table.qualified} has no primary key and no unique key to promote",
    )
