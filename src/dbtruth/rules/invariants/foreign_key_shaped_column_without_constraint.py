"""I003 foreign-key-shaped-column-without-constraint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.audit import audit_evidence
from dbtruth.rules.lifetime import short_lived
from dbtruth.rules.naming import (
    column_ref,
    fresh_name,
    normalized,
    own_tables,
    plural_forms,
    tokens,
)
from dbtruth.rules.practices import NO_FOREIGN_KEYS, NO_FOREIGN_KEYS_SHORT, avoids_foreign_keys
from dbtruth.spec import Settings, rule

# From this many unenforced references to one key on, the pattern is a design choice (Synapse's
# room_id, Temporal's shard_id) and is reported once, on the referenced key.
GROUP_MIN = 5

# Types that can reference one another through a foreign key without a cast.
_KEY_FAMILIES = ({"int2", "int4", "int8"}, {"uuid"}, {"text", "varchar", "bpchar"})


def _compatible(a: str, b: str) -> bool:
    return a == b or any(a in family and b in family for family in _KEY_FAMILIES)


@rule("I003", "foreign-key-shaped-column-without-constraint", Severity.WARNING)
def foreign_key_shaped_column_without_constraint(
    catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds columns named like a reference to another table's key (`case_id`, `caseId` next to a
    table `case` or `cases` with a single-column primary key) that no foreign key constrains.

    Graded info on an audit log (it keeps no foreign keys so that its entries outlive what they
    record; no fix is offered there: a foreign key would delete its entries with what they
    record, or refuse that delete), on a table of short-lived rows (an `expires_at`-like
    column, or a name that says it holds flows, exchanges or challenges: a dangling reference
    expires with the row), on a
    column whose foreign key the SQL files themselves dropped (a migration that removes a key
    from a hot table records a decision; the finding names the file and line), and in a
    schema of 15 tables or more that declares no foreign key anywhere. On a partitioned table
    whose every partition carries the foreign key (as pg_dump of a schema that added them
    partition by partition shows), the reference is enforced today: the finding is info, and
    says that a partition added later gets none until the parent declares it. When only some
    partitions carry it, the warning names those whose rows are unchecked.

    ## Why is this bad?
    The column is a reference in everything but enforcement: rows can point at nothing, deletes
    leave orphans, and every reader must defend against both. "FK lengkap?" is a checklist
    question (§6.4); existence invariants belong in the database (§3.2).

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY);
    CREATE TABLE case_note (id bigint PRIMARY KEY, case_file_id bigint NOT NULL);
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_note ADD CONSTRAINT case_note_case_file_id_fkey
        FOREIGN KEY (case_file_id) REFERENCES case_file (id);
    ```

    When five or more columns point at the same key without a foreign key, the pattern is
    reported once, on the referenced key: it is a design choice to confirm, not five slips.

    ## Fix safety
    The fix adds the key NOT VALID (brief SHARE ROW EXCLUSIVE lock, no scan) and then runs
    VALIDATE CONSTRAINT, which scans under SHARE UPDATE EXCLUSIVE so writes continue. Validation
    fails if orphans exist: find and repair them first. Lock-safe, but it changes behaviour:
    orphan writes are refused from then on. Deletes of referenced rows follow the schema: when
    most foreign keys to the referenced table take one ON DELETE action (CASCADE, SET NULL on
    a nullable column), the new key takes it too, so the application's deletes of parents keep
    working; otherwise such a delete is refused while rows here name it, and the note says so.

    ## References
    PostgreSQL manual 5.5.5 Foreign Keys, ALTER TABLE ... NOT VALID; playbook §3.2, §6.4.
    """
    by_target: dict[tuple[str, str], list[tuple[Table, Column, str]]] = {}
    targets: dict[tuple[str, str], Table] = {}
    for table, column, target, key in unconstrained_references(catalog):
        sql = _fix_sql(catalog, table, column, target, key)
        by_target.setdefault((target.qualified, key), []).append((table, column, sql))
        targets[(target.qualified, key)] = target
    no_foreign_keys = avoids_foreign_keys(catalog)
    design = (("design", NO_FOREIGN_KEYS),) if no_foreign_keys else ()
    for (target_name, key), columns in by_target.items():
        target = targets[(target_name, key)]
        if len(columns) >= GROUP_MIN:
            names = [f"{t.qualified}.{c.name}" for t, c, _ in columns]
            yield Violation(
                column_ref(target, key),
                f"{len(columns)} columns look like references to {target_name}.{key} and none "
                f"has a foreign key ({', '.join(names[:4])}, ...): either the schema avoids "
                "foreign keys by design (record why with an ignore) or orphans are possible "
                "everywhere",
                Fix(
                    "declare the foreign keys",
                    sql="\n".join(sql for _, _, sql in columns),
                    lock_safe=True,
                    behaviour_change=True,  # orphans and deletes of referenced rows are refused
                    note=" / ".join(
                        dict.fromkeys(_fix_note(catalog, target, c) for _, c, _ in columns)
                    ),
                ),
                evidence=(("columns", ", ".join(names)), *design),
                severity=Severity.INFO if no_foreign_keys else None,
            )
            continue
        for table, column, sql in columns:
            keyed, bare = keyed_partitions(catalog, table, column.name, target)
            if keyed:
                yield _on_partitions(table, column, target, key, keyed, bare)
                continue
            # an audit log keeps no foreign keys on purpose: its entries outlive what they record
            audit = audit_evidence(catalog, table, settings)
            why = (
                (("audit log", f"{audit}: entries must outlive what they record"),) if audit else ()
            )
            brief = None if audit else short_lived(table)
            if brief:
                why = (("short-lived rows", brief),)
            dropped = None if audit or brief else dropped_key(catalog, table, column.name)
            if dropped:
                why = (("history", dropped),)
            yield Violation(
                column_ref(table, column.name),
                f"{table.qualified}.{column.name} looks like a reference to "
                f"{target_name}.{key} but no foreign key enforces it"
                + ("; as an audit log it keeps none on purpose" if audit else "")
                + (
                    f"; its rows are short-lived ({brief}): a dangling reference lasts until "
                    "the row is purged"
                    if brief
                    else ""
                )
                + (f"; {dropped}, a decision on record" if dropped else "")
                + (NO_FOREIGN_KEYS_SHORT if no_foreign_keys and not audit else ""),
                # an audit log keeps none on purpose: a foreign key would delete its entries
                # with what they record (CASCADE) or refuse that delete, so none is offered
                None
                if audit
                else Fix(
                    "declare the foreign key",
                    sql=sql,
                    lock_safe=True,
                    behaviour_change=True,  # orphans and deletes of referenced rows are refused
                    note=_fix_note(catalog, target, column),
                ),
                evidence=(
                    ("referenced key", f"{target_name}.{key}"),
                    ("type", column.type),
                    *why,
                    *design,
                ),
                severity=Severity.INFO if (audit or brief or dropped or no_foreign_keys) else None,
            )


def keyed_partitions(
    catalog: Catalog, table: Table, column: str, target: Table
) -> tuple[list[str], list[str]]:
    """The partitions of a partitioned table that have a foreign key on exactly this column to
    `target`, and those that have none."""
    if table.kind != "partitioned table":
        return [], []
    keyed: list[str] = []
    bare: list[str] = []
    for part in (t for t in catalog.tables if t.partition_of == table.qualified):
        has = any(
            c.kind == "foreign key"
            and c.columns == (column,)
            and c.ref_qualified == target.qualified
            for c in catalog.constraints_of(part)
        )
        (keyed if has else bare).append(part.qualified)
    return keyed, bare


def _listed(names: list[str]) -> str:
    return ", ".join(names[:6]) + (f" … ({len(names)})" if len(names) > 6 else "")


def _on_partitions(
    table: Table, column: Column, target: Table, key: str, keyed: list[str], bare: list[str]
) -> Violation:
    """Some or all partitions carry the key: what is enforced, what is not, and the parent's
    key as the fix (it attaches the partitions' equal keys and builds the missing ones)."""
    target_name = target.qualified
    name = f"{table.name}_{column.name}_fkey"
    total = len(keyed) + len(bare)
    if bare:
        message = (
            f"{table.qualified}.{column.name} references {target_name}.{key} through a "
            f"foreign key on {len(keyed)} of its {total} partitions: rows of "
            f"{_listed(bare)} are unchecked"
        )
        note = (
            "the partitions' equal keys are attached, not built again; the partitions without "
            "one are scanned to validate it, under SHARE ROW EXCLUSIVE (writes wait); orphans "
            "there make it fail"
        )
    else:
        message = (
            f"{table.qualified}.{column.name} references {target_name}.{key} through a "
            f"foreign key on each of its {total} partitions, not on the table: a partition "
            "created later gets none"
        )
        note = (
            "each partition's equal foreign key is attached to it, not built again; takes "
            "SHARE ROW EXCLUSIVE on the table, its partitions and the referenced table"
        )
    return Violation(
        column_ref(table, column.name),
        message,
        Fix(
            "declare the foreign key on the partitioned table",
            sql=(
                f"ALTER TABLE {qualified(table.schema, table.name)} ADD CONSTRAINT "
                f"{ident(name)} FOREIGN KEY ({ident(column.name)}) REFERENCES "
                f"{qualified(target.schema, target.name)} ({ident(key)});"
            ),
            lock_safe=False,
            # partitions without the key refuse orphan writes from then on
            behaviour_change=bool(bare),
            note=note,
        ),
        evidence=(
            ("referenced key", f"{target_name}.{key}"),
            ("partitions with the key", _listed(keyed)),
            *((("partitions without it", _listed(bare)),) if bare else ()),
        ),
        severity=None if bare else Severity.INFO,
    )


def dropped_key(catalog: Catalog, table: Table, column: str) -> str | None:
    """Where the SQL files dropped a foreign key on exactly this column, if they did."""
    removal = next(
        (r for r in catalog.removed_from(table, "foreign key") if r.columns == (column,)), None
    )
    return f"foreign key {removal.name} was dropped at {removal.where}" if removal else None


def _fix_sql(catalog: Catalog, table: Table, column: Column, target: Table, key: str) -> str:
    name = fresh_name(catalog, table.schema, table.name, column.name, suffix="fkey")
    table_sql = qualified(table.schema, table.name)
    action = _schema_action(catalog, target, column)
    on_delete = f" ON DELETE {action[0].upper()}" if action else ""
    return (
        f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
        f"({ident(column.name)}) REFERENCES {qualified(target.schema, target.name)} "
        f"({ident(key)}){on_delete} NOT VALID;\n"
        f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)};"
    )


def _schema_action(catalog: Catalog, target: Table, column: Column) -> tuple[str, int, int] | None:
    """The ON DELETE action most of the schema's foreign keys to `target` take, when it is not
    NO ACTION or RESTRICT, with how many take it of how many: (action, count, total). The new
    key follows it, so deleting a parent row does to these rows what it does to the parent's
    other rows, instead of being refused where the application deletes parents today. SET
    NULL cannot apply to a NOT NULL column."""
    actions = Counter(fk.on_delete or "no action" for fk in catalog.foreign_keys_to(target))
    if not actions:
        return None
    action, count = actions.most_common(1)[0]
    if action in ("no action", "restrict") or count * 2 <= sum(actions.values()):
        return None
    if action.startswith("set") and column.not_null:
        return None
    return action, count, sum(actions.values())


def _fix_note(catalog: Catalog, target: Table, column: Column) -> str:
    """What the new key does to deletes of referenced rows, besides refusing orphans."""
    action = _schema_action(catalog, target, column)
    if action is None:
        return (
            "NOT VALID then VALIDATE: writes continue; orphans make VALIDATE fail; deleting a "
            f"row of {target.qualified} that rows here still name is refused from then on"
        )
    what, count, total = action
    return (
        "NOT VALID then VALIDATE: writes continue; orphans make VALIDATE fail; ON DELETE "
        f"{what.upper()}, as {count} of the {total} foreign keys to {target.qualified} do, so a "
        "delete there does to these rows what it does to the others"
    )


def unconstrained_references(catalog: Catalog) -> Iterator[tuple[Table, Column, Table, str]]:
    """Columns named like a reference to another table's single-column primary key
    (`case_id` beside `case` or `cases`), of a compatible type, that no foreign key
    constrains: (table, column, referenced table, its key column)."""
    keyed: dict[str, list[tuple[Table, str]]] = {}
    for table in catalog.tables:
        if table.partition_of is not None:
            continue
        pk = next((c for c in catalog.constraints_of(table) if c.kind == "primary key"), None)
        if pk is not None and len(pk.columns) == 1:
            keyed.setdefault(normalized(table.name), []).append((table, pk.columns[0]))
    for table in own_tables(catalog):
        constraints = catalog.constraints_of(table)
        referenced = {col for c in constraints if c.kind == "foreign key" for col in c.columns}
        pk_columns = {col for c in constraints if c.kind == "primary key" for col in c.columns}
        for column in table.columns:
            parts = tokens(column.name)
            if len(parts) < 2 or parts[-1] != "id" or column.name in referenced:
                continue
            if column.name in pk_columns and len(pk_columns) == 1:
                continue
            stem = "".join(parts[:-1])
            candidates = [
                (target, key)
                for form in plural_forms(stem)
                for target, key in keyed.get(form, [])
                if target is not table
            ]
            # Prefer the referenced table in the same schema; an ambiguous name stays quiet.
            same_schema = [c for c in candidates if c[0].schema == table.schema]
            pick = same_schema or candidates
            if len(pick) != 1:
                continue
            target, key = pick[0]
            target_column = target.column(key)
            if target_column is None or not _compatible(column.type_name, target_column.type_name):
                continue
            yield table, column, target, key
