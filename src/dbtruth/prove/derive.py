"""The invariants to prove: those dbtruth.yaml declares, and those the catalog's constraints,
unique indexes and guard triggers state. A declared invariant that names a database object
takes that object's place, so nothing is proven twice."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.manifest.design import Invariant
from dbtruth.model import Catalog, Constraint, Index, Table, Trigger
from dbtruth.prove.model import Subject
from dbtruth.prove.overlap import exclusion_plan
from dbtruth.prove.plans import (
    AppendOnly,
    NotNull,
    Plan,
    Range,
    Reference,
    Transitions,
    Unique,
    Unprovable,
)

_RAISES = re.compile(r"\braise\s+exception\b", re.IGNORECASE)
# Kinds no single illegal write shows: a cross-row invariant is probed by racing its write
# path, a cross-system one is partly kept elsewhere.
_NO_SINGLE_WRITE = ("cross-row", "cross-system")

Planned = tuple[Subject, Plan]


def plans(
    catalog: Catalog,
    declared: list[Invariant],
    derived: bool = True,
    application_role: str | None = None,
) -> list[Planned]:
    """A plan per invariant dbtruth.yaml declares, then (unless `derived` is False) one per
    constraint, index and guard trigger no declaration claims. `application_role` is the role
    the application connects as (tenancy.role): what an invariant kept by privileges binds."""
    from_manifest = [_declared(catalog, invariant, application_role) for invariant in declared]
    if not derived:
        return from_manifest
    claimed = {s.object for s, _ in from_manifest if s.object}
    claimed_columns = {
        (p.table.qualified, p.column) for _, p in from_manifest if isinstance(p, NotNull)
    }
    found = [
        (subject, plan)
        for subject, plan in _derived(catalog)
        if subject.object not in claimed
        and not (
            isinstance(plan, NotNull) and (plan.table.qualified, plan.column) in claimed_columns
        )
    ]
    return from_manifest + found


def probed_tables(catalog: Catalog) -> list[Table]:
    """Tables that take rows: partitions are written through their partitioned table, and an
    extension's own tables are the extension's business."""
    return [
        t
        for t in catalog.tables
        if t.kind in ("table", "partitioned table")
        and t.partition_of is None
        and catalog.extension_of(t.schema, t.name) is None
    ]


def guard_triggers(catalog: Catalog, table: Table) -> Iterator[Trigger]:
    """BEFORE triggers on UPDATE or DELETE, not on INSERT, whose function raises an exception:
    a guard. One that also fires on INSERT validates rows (a name's length) rather than
    keeping them unchanged."""
    for trigger in catalog.triggers_of(table):
        if not trigger.enabled or trigger.timing != "before" or "insert" in trigger.events:
            continue
        if not any(e in ("update", "delete") for e in trigger.events):
            continue
        if any(_RAISES.search(f.body) for f in catalog.function(trigger.function)):
            yield trigger


def _derived(catalog: Catalog) -> Iterator[Planned]:
    for table in probed_tables(catalog):
        yield from _derived_of(catalog, table)
    # A partition's own references and CHECKs (pagila declares its payment references on each
    # partition): probed by writing into the partition. What it inherits is its parent's.
    for table in catalog.tables:
        if table.partition_of is None or catalog.extension_of(table.schema, table.name):
            continue
        for constraint in catalog.constraints_of(table):
            if not constraint.inherited:
                yield from _reference_or_range(table, constraint)


def _reference_or_range(table: Table, constraint: Constraint) -> Iterator[Planned]:
    """The proof of a foreign key or a CHECK of `table`; nothing for other constraints."""
    if constraint.kind == "foreign key":
        yield _reference_subject(table, constraint), Reference(table, constraint)
    elif constraint.kind == "check":
        yield _check_subject(table, constraint), Range(table, constraint)


def _check_subject(table: Table, check: Constraint) -> Subject:
    return Subject(
        f"{table.schema}.{check.name}",
        f"{table.qualified}: {check.definition}",
        "range",
        "catalog",
        table.qualified,
        f"{table.schema}.{check.name}",
    )


def _derived_of(catalog: Catalog, table: Table) -> Iterator[Planned]:
    name = table.qualified
    for column in table.columns:
        if column.not_null:
            subject = Subject(
                f"{name}.{column.name} not null",
                f"{name}.{column.name} is never NULL",
                "existence",
                "catalog",
                name,
            )
            yield subject, NotNull(table, column.name, declared_not_null=True)
    for constraint in catalog.constraints_of(table):
        if constraint.inherited:
            continue
        if constraint.kind in ("foreign key", "check"):
            yield from _reference_or_range(table, constraint)
        elif constraint.kind == "exclusion":
            subject = Subject(
                f"{table.schema}.{constraint.name}",
                f"{name}: {constraint.definition}",
                "non-overlap",
                "catalog",
                name,
                f"{table.schema}.{constraint.name}",
            )
            yield subject, exclusion_plan(table, constraint)
    for index in catalog.indexes_of(table):
        if index.unique and index.valid:
            yield _unique_subject(table, index), _unique_plan(table, index)
    for trigger in guard_triggers(catalog, table):
        events = tuple(e for e in ("update", "delete") if e in trigger.events)
        subject = Subject(
            f"{table.schema}.{trigger.name}",
            f"rows of {name} are never {' or '.join(e + 'd' for e in events)}",
            "append-only",
            "catalog",
            name,
            f"{table.schema}.{trigger.name}",
        )
        yield subject, AppendOnly(table, events, trigger.columns, guessed=True)


def _reference_subject(table: Table, fk: Constraint) -> Subject:
    columns = ", ".join(fk.columns)
    return Subject(
        f"{table.schema}.{fk.name}",
        f"{table.qualified} ({columns}) always references a row of {fk.ref_qualified}",
        "existence",
        "catalog",
        table.qualified,
        f"{table.schema}.{fk.name}",
    )


def _unique_subject(table: Table, index: Index) -> Subject:
    keys = ", ".join(index.keys)
    where = f" where {index.predicate}" if index.predicate else ""
    return Subject(
        index.qualified,
        f"no two rows of {table.qualified} share ({keys}){where}",
        "uniqueness",
        "catalog",
        table.qualified,
        index.qualified,
    )


def _unquoted(key: str) -> str:
    """An index key column as pg_get_indexdef writes it ("providerAccountId"), unquoted."""
    if len(key) > 1 and key[0] == key[-1] == '"':
        return key[1:-1].replace('""', '"')
    return key


def _unique_plan(table: Table, index: Index) -> Unique:
    expressions = tuple(
        k for k, is_column in zip(index.keys, index.key_is_column, strict=True) if not is_column
    )
    columns = tuple(
        _unquoted(k)
        for k, is_column in zip(index.keys, index.key_is_column, strict=True)
        if is_column
    )
    return Unique(table, columns, index.predicate, index, expressions)


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def _declared(catalog: Catalog, invariant: Invariant, application_role: str | None) -> Planned:
    table_name = _qualified(invariant.tables[0])
    subject = Subject(
        invariant.id,
        invariant.statement,
        invariant.kind,
        "dbtruth.yaml",
        table_name,
        _qualified(invariant.object) if invariant.object else None,
    )
    table = catalog.table(table_name)
    if table is None:
        return subject, Unprovable(f"the table {table_name} is not in the schema")
    if invariant.kind in _NO_SINGLE_WRITE:
        if invariant.kind == "cross-row" and invariant.race is None:
            return subject, Unprovable(
                "a cross-row invariant is probed through the race dbtruth.yaml gives it "
                "('race': the write path two sessions run at once); this one has none"
            )
        if invariant.kind == "cross-row":
            # The race runs on copies after the other probes (run.py) and replaces this.
            return subject, Unprovable("its race could not be run")
        return subject, Unprovable(
            f"dbtruth does not probe {invariant.kind} invariants: another system holds part "
            "of the truth"
        )
    obj = subject.object
    if invariant.kind == "state-transition":
        return subject, _transitions_plan(table, invariant)
    if invariant.enforcement == "privilege":
        if application_role is None:
            return subject, Unprovable(
                "privileges keep a table append-only against a role, not against its owner: "
                "name the role the application connects as in tenancy.role"
            )
        return subject, AppendOnly(table, ("update", "delete", "truncate"), role=application_role)
    if invariant.enforcement == "trigger" and obj is not None:
        return subject, _trigger_plan(catalog, table, obj, invariant.kind == "regulatory-evidence")
    if invariant.kind == "existence":
        return subject, _existence_plan(catalog, table, invariant, obj)
    if invariant.kind == "uniqueness":
        return subject, _uniqueness_plan(catalog, table, invariant, obj)
    if invariant.kind == "non-overlap":
        exclusion = _constraint(catalog, obj, "exclusion") if obj else None
        if exclusion is None:
            return subject, Unprovable(
                "a non-overlap invariant is probed through the exclusion constraint that "
                "states it: name it in 'object'"
            )
        return subject, exclusion_plan(catalog.table(exclusion.table_qualified) or table, exclusion)
    if invariant.kind == "range":
        check = _constraint(catalog, obj, "check") if obj else None
        if check is None:
            return subject, Unprovable(
                "a range invariant is probed through the CHECK constraint that states it: "
                "name it in 'object'"
            )
        checked = catalog.table(check.table_qualified) or table
        return subject, Range(checked, check)
    return subject, Unprovable(
        f"a {invariant.kind} invariant is probed as append-only when a trigger enforces it: "
        "name the trigger in 'object'"
    )


def _transitions_plan(table: Table, invariant: Invariant) -> Plan:
    column = invariant.columns[0]
    if table.column(column) is None:
        return Unprovable(f"{table.qualified} has no column {column}")
    allowed = tuple((state, tuple(to)) for state, to in (invariant.transitions or {}).items())
    return Transitions(table, column, allowed)


def _trigger_plan(catalog: Catalog, table: Table, obj: str, evidence: bool) -> Plan:
    """The writes the trigger should refuse. Evidence is never edited, deleted nor truncated,
    whatever the trigger fires on: probing only its own events would prove the trigger, not
    the invariant (a guard BEFORE UPDATE OR DELETE lets TRUNCATE empty the table)."""
    schema, _, name = obj.rpartition(".")
    for trigger in catalog.triggers:
        if trigger.schema == schema and trigger.name == name:
            events = tuple(
                e for e in ("update", "delete", "truncate") if evidence or e in trigger.events
            )
            if not events:
                return Unprovable(
                    f"the trigger {obj} fires on {', '.join(trigger.events)}: dbtruth probes "
                    "triggers that refuse UPDATE or DELETE"
                )
            guarded = catalog.table(f"{trigger.schema}.{trigger.table}") or table
            return AppendOnly(guarded, events, trigger.columns)
    # The trigger is missing: the write it should refuse is tried anyway.
    return AppendOnly(table, ("update", "delete"))


def _existence_plan(catalog: Catalog, table: Table, invariant: Invariant, obj: str | None) -> Plan:
    reference = _constraint(catalog, obj, "foreign key") if obj else None
    if reference is not None:
        return Reference(catalog.table(reference.table_qualified) or table, reference)
    if invariant.columns:
        column = table.column(invariant.columns[0])
        if column is None:
            return Unprovable(f"{table.qualified} has no column {invariant.columns[0]}")
        return NotNull(table, column.name, declared_not_null=column.not_null)
    return Unprovable(
        "an existence invariant names its foreign key in 'object' or its column in 'columns'"
    )


def _uniqueness_plan(catalog: Catalog, table: Table, invariant: Invariant, obj: str | None) -> Plan:
    index = next((i for i in catalog.indexes if obj and i.qualified == obj and i.unique), None)
    if index is not None:
        owner = catalog.table(index.table_qualified) or table
        return _unique_plan(owner, index)
    if invariant.columns:
        missing = [c for c in invariant.columns if table.column(c) is None]
        if missing:
            return Unprovable(f"{table.qualified} has no column {', '.join(missing)}")
        return Unique(table, tuple(invariant.columns), invariant.predicate, None)
    return Unprovable(
        "a uniqueness invariant names its unique index in 'object' or its key in 'columns'"
    )


def _constraint(catalog: Catalog, obj: str | None, kind: str) -> Constraint | None:
    if obj is None:
        return None
    schema, _, name = obj.rpartition(".")
    return next(
        (
            c
            for c in catalog.constraints
            if c.schema == schema and c.name == name and c.kind == kind
        ),
        None,
    )
