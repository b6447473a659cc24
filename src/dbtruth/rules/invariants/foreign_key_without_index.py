"""I002 foreign-key-without-index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Constraint, Index, Table
from dbtruth.model.sqlnames import column_list, ident, qualified
from dbtruth.rules.naming import (
    constraint_ref,
    covering_index,
    fresh_name,
    own_tables,
    tenant_key,
    tokens,
)
from dbtruth.rules.reference import (
    DELETING_ACTIONS,
    Reference,
    deletes_expected,
    reference_tables,
)
from dbtruth.spec import Settings, rule

# A practice shows where at least this many keys point at one table.
CONVENTION_KEYS = 5


@rule("I002", "foreign-key-without-index", Severity.WARNING)
def foreign_key_without_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds foreign keys whose columns are not the leading columns of any index on the
    referencing table (a partial index `WHERE col IS NOT NULL` counts, and so does a hash index
    on a single-column key); keys to reference data whose rows are not deleted, and keys of a
    small table, are info.

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

    A partial index counts when its predicate only asks the key columns to be non-null
    (`WHERE case_id IS NOT NULL`): the foreign key check searches by `case_id = value`, which
    implies it, and PostgreSQL uses the index. A partial index with any other predicate
    (`WHERE revoked_at IS NULL`) does not serve the check, and the finding names it.

    A key that carries a scope column beside its reference (`(dataset_id, project_id) REFERENCES
    dataset`, where `project_id` is the tenant key, or the name of a one-column key to the
    project on five or more tables) is served by an index leading with the reference alone: the
    referenced row sits in one scope, so the scope column narrows nothing further.

    Where the schema leaves most keys to one table unindexed — at least five keys point at it
    and more than half have no index — that is its practice for that table (keys to `users`
    kept for integrity, users deleted seldom): the findings on it are info, each saying so,
    and the keys that are indexed show the tables where the team decided otherwise.

    A key to reference data — a lookup of types, statuses, languages or countries, or a
    vocabulary — is reported at info severity: its rows are rarely deleted, and the missing
    index costs a scan only when one is. A table is reference data when dbtruth.yaml gives it
    the role `reference`, when an extension owns it, or by its shape (a guess, and the finding
    says so): a label column (a name, code, title or description), at most six columns besides
    its key, timestamps, flags and who-changed-it stamps (ten for a table ten or more keys
    point at), foreign keys only to other reference data or itself, no personal data or owner,
    not the table a tenant key points at, and on a live server at most 10,000 rows. It is a
    warning again when deletes are expected on the referenced table: a foreign key to it
    declares ON DELETE CASCADE, SET NULL or SET DEFAULT, or a live server counted deletes. An
    action the schema declares on nine keys in ten (Kratos cascades everywhere) is its style
    and does not count for a lookup; deletes a live server counted still do. A table many
    keys point at is not reference data for that alone: users, tenants and accounts are
    graded like any other table.

    A key to a table nothing shows is ever deleted from is info as well: no key to it declares
    an ON DELETE action or RESTRICT, and no live server counted deletes on it (warehouse
    dimensions, append-mostly entities); the scan a delete would cost is then a risk nobody
    showed will be taken. RESTRICT counts only where it is chosen key by key: a schema that
    declares it on five or more keys, and a deleting action on at most one key in ten of
    those, writes it as a style (a port of MySQL's Sakila), not about one table.

    A key on a small table is info too: the referencing table holds at least one and fewer
    than `small_table_rows` rows (10,000 unless dbtruth.yaml's rules.settings says otherwise),
    so the scan costs little. The size is observed: the row estimate of a live server, or the
    rows the SQL files' own data (INSERT, COPY) left in the table dbtruth loaded them into,
    when the referenced table holds loaded rows too (a sample database; a migration seeding a
    few rows under empty parents says nothing about size). An empty table says nothing about
    its size in production, so a schema without data is graded as before.

    An actor stamp is info: a one-column key that records who did something (`created_by`,
    `updated_by`, `invited_by_user_id`) with ON DELETE SET NULL or no action. Deleting the
    person only clears or keeps the stamp, people are deleted seldom, and no read path goes
    through a stamp; a stamp that cascades is graded like any other key.

    A key whose index the SQL files themselves dropped (a migration removing an index that led
    with these columns) is info: the history records a decision, and the finding names the
    file and line where it was taken.

    ## Fix safety
    `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE, so reads and writes continue; it
    cannot run inside a transaction block. On a partitioned table, CONCURRENTLY is not available
    and the fix creates the index on the parent, which locks writes on every partition.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys ("declaring an index on the referencing columns");
    playbook Principle 4, §6.6 Query and Index.
    """
    references = reference_tables(catalog, settings)
    deletes: dict[str, str | None] = {}  # per referenced table: hubs have hundreds of keys
    scopes = _scope_columns(catalog)
    unindexed: list[tuple[Table, Constraint]] = []
    keys_to: Counter[str] = Counter()  # foreign keys per referenced table
    for table in own_tables(catalog):
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.inherited:
                continue
            keys_to[fk.ref_qualified or ""] += 1
            if not _indexed(catalog, table, fk, settings, scopes):
                unindexed.append((table, fk))
    left_out = Counter(fk.ref_qualified or "" for _, fk in unindexed)
    actions = Counter(c.on_delete for c in catalog.constraints if c.kind == "foreign key")
    restrict_chosen = _restrict_chosen(actions)
    cascade_style = _cascade_style(actions)
    styled: dict[str, str] = {}
    for table, fk in unindexed:
        target = fk.ref_qualified or ""
        if target not in deletes:
            parent = catalog.table(target)
            deletes[target] = deletes_expected(catalog, parent) if parent else None
            if (
                parent is not None
                and target in references
                and cascade_style is not None
                and not _deletes_counted(catalog, parent)
            ):
                # A lookup's keys cascade because every key of the schema does: no sign that
                # its rows go (a style, said in the evidence).
                deletes[target] = None
                styled[target] = cascade_style
        yield _violation(
            catalog,
            table,
            fk,
            references.get(target),
            deletes[target],
            _small(catalog, table, catalog.table(target), settings.small_table_rows),
            _convention(target, left_out[target], keys_to[target]),
            restrict_chosen,
            styled.get(target),
        )


def _scope_columns(catalog: Catalog) -> dict[str, str]:
    """Column names the schema uses as a scope: a one-column key of that name points at the same
    table from at least CONVENTION_KEYS tables (`project_id` -> project), name -> that table."""
    uses: Counter[tuple[str, str]] = Counter()
    for constraint in catalog.constraints:
        if constraint.kind == "foreign key" and len(constraint.columns) == 1:
            uses[(constraint.columns[0], constraint.ref_qualified or "")] += 1
    return {name: parent for (name, parent), n in uses.items() if n >= CONVENTION_KEYS}


def _indexed(
    catalog: Catalog, table: Table, fk: Constraint, settings: Settings, scopes: dict[str, str]
) -> bool:
    """An index finds the referencing rows: one leading with the key's columns, or, for a key
    that carries a scope column beside the row's own reference (`(dataset_id, project_id)`),
    one leading with the rest. A scope column is the table's tenant key, or a name the schema
    uses for one-column keys to another table (`project_id`, a key to the project on many
    tables): the referenced row sits in one scope, so the scope column narrows nothing once
    the reference is fixed."""
    if covering_index(catalog, table, fk.columns) is not None:
        return True
    if len(fk.columns) < 2:
        return False
    tenant = tenant_key(table, settings)
    rest = tuple(
        c
        for c in fk.columns
        if not (tenant is not None and c == tenant.name)
        and scopes.get(c, fk.ref_qualified) == fk.ref_qualified
    )
    return 0 < len(rest) < len(fk.columns) and covering_index(catalog, table, rest) is not None


def _restrict_chosen(actions: Counter[str | None]) -> bool:
    """Whether ON DELETE RESTRICT is chosen key by key, and so says its author thought about
    deleting that parent. A schema that declares RESTRICT on CONVENTION_KEYS or more keys and a
    deleting action (CASCADE, SET NULL, SET DEFAULT) on at most one key in ten of those writes
    RESTRICT as its style (pagila, ported from MySQL's Sakila, on every key it declares an
    action for), which says nothing about any one table. `actions`: the schema's foreign keys
    by their ON DELETE action."""
    restrict = actions["restrict"]
    deleting = sum(actions[a] for a in DELETING_ACTIONS)
    return not (restrict >= CONVENTION_KEYS and deleting * 10 <= restrict)


def _cascade_style(actions: Counter[str | None]) -> str | None:
    """The schema's blanket deleting action, when nine in ten of its foreign keys (and at
    least CONVENTION_KEYS) declare CASCADE, SET NULL or SET DEFAULT (Kratos: 54 of 55): a key
    to a lookup that cascades then follows the style, and says nothing about its rows going."""
    keys = sum(actions.values())
    deleting = sum(actions[a] for a in DELETING_ACTIONS)
    if deleting >= CONVENTION_KEYS and deleting * 10 >= keys * 9:
        return (
            f"{deleting} of the schema's {keys} foreign keys declare an ON DELETE action: "
            "a style, not a sign that this lookup's rows are deleted"
        )
    return None


def _deletes_counted(catalog: Catalog, table: Table) -> bool:
    stats = catalog.table_stats(table)
    return stats is not None and stats.deletes > 0


def _convention(parent: str, unindexed: int, keys: int) -> str | None:
    """The schema's own practice for keys to `parent`, when it leaves most of them unindexed:
    one design decision (users deleted seldom, keys kept only for integrity), not an omission
    on each table. Judged only where enough keys point at the table to show a practice."""
    if keys >= CONVENTION_KEYS and unindexed * 2 > keys:
        return f"{unindexed} of the {keys} foreign keys to {parent} have no index"
    return None


def _small(catalog: Catalog, table: Table, parent: Table | None, threshold: int) -> str | None:
    """How the referencing table is known to be small (1 to threshold - 1 rows), or None.

    Rows loaded from SQL files count only when the referenced table holds loaded rows too: a
    sample database carries both sides, while a migration that seeds a few rows into a table
    whose parents stay empty (global prices, default settings) says nothing about its size."""
    if catalog.is_live:
        stats = catalog.table_stats(table)
        # reltuples: -1 before the first ANALYZE, 0 for an empty table (no size to go by).
        if stats is not None and 0 < stats.row_estimate < threshold:
            return f"observed on the live server: {stats.row_estimate:,} rows (estimate)"
        return None
    loaded = catalog.rows_loaded(table)
    if parent is None or catalog.rows_loaded(parent) is None:
        return None
    if loaded is not None and not loaded.at_least and 0 < loaded.rows < threshold:
        return f"observed in the loaded data: {loaded.rows:,} rows"
    return None


def _violation(
    catalog: Catalog,
    table: Table,
    fk: Constraint,
    reference: Reference | None,
    deletes: str | None,
    small: str | None,
    convention: str | None,
    restrict_chosen: bool,
    cascade_style: str | None,
) -> Violation:
    partitioned = table.kind == "partitioned table"
    name = fresh_name(catalog, table.schema, table.name, *fk.columns, suffix="idx")
    concurrently = "" if partitioned else "CONCURRENTLY "
    sql = (
        f"CREATE INDEX {concurrently}{ident(name)} ON "
        f"{qualified(table.schema, table.name)} ({column_list(fk.columns)});"
    )
    parent = fk.ref_qualified
    referenced = catalog.table(parent or "")
    incoming = len(catalog.foreign_keys_to(referenced)) if referenced is not None else 0
    partial = _partial_index(catalog, table, fk)
    message = (
        f"foreign key {fk.name} on {table.qualified} ({', '.join(fk.columns)}) has no "
        "index leading with its columns"
        if partial is None
        else f"foreign key {fk.name} on {table.qualified} ({', '.join(fk.columns)}) has only "
        f"the partial index {partial.name} (WHERE {partial.predicate}), which serves queries "
        "asking that condition, not the foreign-key check, which looks at every row"
    )
    evidence = [
        ("references", f"{parent} ({', '.join(fk.ref_columns)})"),
        ("on delete", fk.on_delete or ""),
        ("foreign keys to the referenced table", str(incoming)),
    ]
    if partial is not None:
        evidence.append(("partial index", f"{partial.name} WHERE {partial.predicate}"))
    quiet = reference is not None and deletes is None
    if reference is not None:
        evidence.append(
            ("referenced table", f"reference data ({reference.how}): {reference.reason}")
        )
    if reference is not None and quiet:
        message += (
            f"; {parent} is reference data ({reference.how}), so this costs a scan of "
            f"{table.qualified} only when one of its rows is deleted or re-keyed"
        )
    elif reference is not None and reference.how == "declared":
        message += (
            f"; {parent} is declared reference data, but {deletes}, and each delete scans "
            f"{table.qualified}"
        )
    else:
        # A guess that the parent is a lookup says nothing once its rows are known to go.
        message += f"; deletes on {parent} scan {table.qualified}"
    if reference is not None and deletes is not None:
        # Why reference data is graded a warning all the same.
        evidence.append(("deletes on the referenced table", deletes))
    if cascade_style is not None:
        evidence.append(("deletes on the referenced table", cascade_style))
    # Without a sign that parent rows go (an ON DELETE action or RESTRICT on a key to it, or
    # deletes a live server counted), the scan is a risk nobody has shown will be taken.
    unshown = (
        reference is None
        and deletes is None
        and referenced is not None
        and not (
            restrict_chosen
            and any(k.on_delete == "restrict" for k in catalog.foreign_keys_to(referenced))
        )
    )
    if unshown:
        message += (
            f", though nothing shows rows of {parent} are deleted (no ON DELETE action or "
            "RESTRICT on a key to it"
            + (", no deletes counted on the live server)" if catalog.is_live else ")")
        )
        evidence.append(("deletes on the referenced table", "none shown"))
    if small is not None:
        evidence.append(("rows in the referencing table", small))
        message += f"; {table.qualified} is a small table, so the scan is cheap"
    dropped = _dropped_index(catalog, table, fk)
    if dropped is not None:
        evidence.append(("history", dropped))
        message += f"; {dropped}, a decision on record"
    if convention is not None:
        evidence.append(
            ("the schema's practice", f"{convention}: a practice, guessed from the pattern")
        )
        message += f"; {convention}, so leaving them unindexed reads as the schema's practice"
    stamp = _actor_stamp(fk)
    if stamp:
        evidence.append(
            ("actor stamp", f"{fk.columns[0]} records who acted (a guess from its name)")
        )
        message += (
            f"; {fk.columns[0]} only records who acted, and a delete of a {parent} row "
            f"leaves or clears it (ON DELETE {(fk.on_delete or 'no action').upper()}): people "
            "are deleted seldom, and the scan costs only then"
        )
    return Violation(
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
        evidence=tuple(evidence),
        severity=Severity.INFO
        if quiet or unshown or small is not None or stamp or convention or dropped
        else None,
    )


def _partial_index(catalog: Catalog, table: Table, fk: Constraint) -> Index | None:
    """A valid partial index leading with the key's columns whose predicate asks more than
    that they be non-null (`WHERE revoked_at IS NULL`): the application's lookups of those
    rows use it, but the check a parent's delete runs (`WHERE client_id = $1`, nothing else)
    cannot prove the predicate, and scans."""
    wanted = set(fk.columns)
    for index in catalog.indexes_of(table):
        if index.valid and index.predicate and set(index.leading[: len(wanted)]) == wanted:
            return index
    return None


def _dropped_index(catalog: Catalog, table: Table, fk: Constraint) -> str | None:
    """Where the SQL files dropped an index that led with the key's columns, if they did."""
    wanted = set(fk.columns)
    removal = next(
        (
            r
            for r in catalog.removed_from(table, "index")
            if len(r.columns) >= len(wanted) and set(r.columns[: len(wanted)]) == wanted
        ),
        None,
    )
    return (
        f"index {removal.name} on these columns was dropped at {removal.where}" if removal else None
    )


def _actor_stamp(fk: Constraint) -> bool:
    """A one-column key that records who did something (`created_by`, `updated_by`,
    `invited_by_user_id`) and that a delete of the person only clears or leaves: the
    referencing rows are not the person's own, and no read goes through the stamp."""
    return (
        len(fk.columns) == 1
        and "by" in tokens(fk.columns[0])
        and (fk.on_delete or "no action") in ("set null", "no action", "set default")
    )
