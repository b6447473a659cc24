"""G003 polymorphic-association."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.audit import audit_evidence
from dbtruth.rules.naming import column_ref, normalized, own_tables, plural_forms, tokens
from dbtruth.spec import Settings, rule

_DISCRIMINATORS = ("type", "kind", "table", "class", "model")


@rule("G003", "polymorphic-association", Severity.WARNING)
def polymorphic_association(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds polymorphic references: a `<x>_type` (or `_kind`, `_table`) column next to a
    `<x>_id` column that no foreign key constrains, so the pair points at "a row in one of
    several tables". Not reported: a pair whose stem the table's own name holds (`media_type`,
    `media_id` in `local_media_repository`: the row's own id and its MIME type). Info: on an
    audit log, which must outlive what it records and so keeps no foreign key to it.

    ## Why is this bad?
    No foreign key can say "a row of whichever table `x_type` names", so the reference is
    enforced by nothing: orphans and wrong-type ids are storable, deletes do not cascade or
    restrict, and every join needs a CASE. The relationship is an entity the schema hides
    (§3.3, §6.2 "Apakah relationship penting menjadi entity sendiri?").

    ## Example
    ```sql
    CREATE TABLE comment (id bigint PRIMARY KEY, subject_type text, subject_id bigint);
    ```

    ## Use instead
    ```sql
    CREATE TABLE comment (id bigint PRIMARY KEY,
                          case_id bigint REFERENCES case_file (id),
                          task_id bigint REFERENCES case_task (id),
                          CHECK (num_nonnulls(case_id, task_id) = 1));
    ```

    When the shared stem names an existing table (`room_type` and `room_id` beside a `rooms`
    table), the id references that one table and the type is an attribute: not reported.

    ## Fix safety
    No SQL fix: splitting the reference is a migration (expand with one FK column per target,
    backfill from the pair, validate, contract).

    ## References
    Playbook §3.3 Grain Before Columns, §6.2, §3.2 (existence via FK).
    """
    table_names = {normalized(t.name) for t in catalog.tables}
    for table in own_tables(catalog):
        fk_columns = {
            col
            for c in catalog.constraints_of(table)
            if c.kind == "foreign key"
            for col in c.columns
        }
        by_stem: dict[tuple[str, ...], dict[str, str]] = {}
        for column in table.columns:
            parts = tokens(column.name)
            if len(parts) >= 2:
                by_stem.setdefault(tuple(parts[:-1]), {})[parts[-1]] = column.name
        for stem, roles in by_stem.items():
            id_column = roles.get("id")
            discriminator = next((roles[d] for d in _DISCRIMINATORS if d in roles), None)
            if id_column is None or discriminator is None or id_column in fk_columns:
                continue
            if set(stem) <= set(tokens(table.name)):
                # media_type next to media_id in local_media_repository: the id is the row's
                # own, and the type describes it (a MIME type), not which table it points at.
                continue
            if any(form in table_names for form in plural_forms("".join(stem))):
                # room_type next to room_id, where a rooms table exists: the id names one
                # table and the type is an attribute of that row, not a discriminator.
                continue
            audit = audit_evidence(catalog, table, settings)
            yield Violation(
                column_ref(table, id_column),
                f"{table.qualified}.({discriminator}, {id_column}) is a polymorphic reference: "
                "no foreign key can enforce it"
                + (
                    "; as an audit log it must outlive what it records, so none should"
                    if audit
                    else ""
                ),
                Fix(
                    "use one nullable FK column per target table with CHECK (num_nonnulls(...) "
                    "= 1), or one link table per target"
                ),
                evidence=(
                    ("discriminator", discriminator),
                    ("reference", id_column),
                    *((("audit log", audit),) if audit else ()),
                ),
                severity=Severity.INFO if audit else None,
            )
