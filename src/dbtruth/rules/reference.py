"""Reference data: the vocabularies a schema classifies its rows with (types, statuses,
languages, countries, code lists, a clinical vocabulary), as opposed to the entities it records.

A reference row is written once, read everywhere and rarely deleted, so what costs something
when an entity row is deleted (every referencing table searched for it) costs nothing here
until a reference row is deleted. How dbtruth knows a table is reference data, strongest first:

- declared: dbtruth.yaml's truth section gives the table a role, `reference` or another one
  (roles `dbtruth init` guessed, marked `guess: true`, are not declarations), or the table
  belongs to an extension (PostGIS's spatial_ref_sys);
- guessed from its shape: a label column (a name, code, title or description), few columns
  besides its key, bookkeeping and flags, foreign keys only to other reference data (itself
  included: type trees) apart from who-changed-it stamps, no personal data, not the tenant
  table, and on a live server few rows. A table many foreign keys point at (a vocabulary such as
  OMOP's concept) may have a few more columns and any number of rows.

Whether reference rows are in fact deleted is another question, answered per table by
`deletes_expected`: the schema says so with ON DELETE CASCADE / SET NULL / SET DEFAULT, or a
live server counted deletes.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache

from dbtruth.model import Catalog, Column, Table
from dbtruth.rules.naming import is_generated_identifier, normalized, own_tables, tokens
from dbtruth.spec import Settings
from dbtruth.words import counted

# Columns that carry what a row means, besides its key, timestamps, flags and bookkeeping: a
# lookup has a label and perhaps a code, a description, a parent and a value.
LOOKUP_COLUMNS = 6
# A table this many foreign keys point at is a hub: with a label and no personal data it is a
# vocabulary (OMOP's concept has seven meaningful columns and millions of rows).
HUB_REFERENCES = 10
HUB_COLUMNS = 10
# On a live server a lookup is small: a list people curate, not data an application grows.
LOOKUP_ROWS = 10_000

DELETING_ACTIONS = ("cascade", "set null", "set default")

_LABEL_WORDS = frozenset(
    {
        "name",
        "title",
        "label",
        "code",
        "description",
        "desc",
        "value",
        "text",
        "abbreviation",
        "abbrev",
        "symbol",
        "caption",
        "display",
    }
)
# Columns no vocabulary has: a table with them records people, accounts or what they own.
_ENTITY_WORDS = frozenset(
    {"email", "password", "passwd", "phone", "username", "login", "birth", "birthdate", "owner"}
)
# Row order and optimistic-locking versions say nothing about what a row means.
_ORDER_WORDS = frozenset({"order", "position", "sort", "ordinal", "seq", "sequence", "rank"})
_VERSION_NAMES = frozenset({"version", "lockversion", "rowversion", "optlock"})
_AUDIT_FIRST_WORDS = frozenset({"creator", "modifier", "updater", "editor"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A table that is reference data, and how that is known."""

    table: str  # qualified name
    how: str  # "declared" | "guessed"
    reason: str  # a clause: "declared reference data in dbtruth.yaml", "a lookup: ..."
    # A vocabulary many keys point at (OMOP's concept) may hold millions of rows; a lookup,
    # declared or guessed, is a short list.
    vocabulary: bool = False


def declared_role(table: Table, settings: Settings) -> str | None:
    """The table's role in dbtruth.yaml's truth section (an exact name before a glob), unless
    `dbtruth init` only guessed it."""
    truth = settings.design.truth
    entry = truth.get(table.qualified)
    if entry is None:
        entry = next(
            (
                role
                for pattern, role in truth.items()
                if fnmatch.fnmatchcase(table.qualified, pattern)
            ),
            None,
        )
    if entry is None or entry.guess:
        return None
    return entry.role


@cache
def is_audit_stamp(name: str) -> bool:
    """created_by, updated_by_id, creator, write_uid: who changed a row, not what it is."""
    parts = tokens(name)
    return (
        "by" in parts
        or bool(parts and parts[0] in _AUDIT_FIRST_WORDS)
        or parts in (("create", "uid"), ("write", "uid"))
    )


@cache
def _bookkeeping_name(name: str) -> bool:
    """Who changed a row, its order among others, its optimistic-locking version."""
    parts = tokens(name)
    return (
        is_audit_stamp(name)
        or bool(parts and parts[-1] in _ORDER_WORDS)
        or normalized(name) in _VERSION_NAMES
    )


@cache
def _label_name(name: str) -> bool:
    return bool(_LABEL_WORDS.intersection(tokens(name)))


@cache
def _entity_name(name: str) -> bool:
    """email, password, owner, user_id: what only people, accounts and their things have."""
    parts = tokens(name)
    if is_audit_stamp(name):
        return False
    return bool(_ENTITY_WORDS.intersection(parts)) or parts in (("user",), ("user", "id"))


def content_columns(catalog: Catalog, table: Table) -> tuple[Column, ...]:
    """Columns that say what a row is: not its key, timestamps, flags, generated identifiers,
    who-changed-it stamps, row order or version."""
    key: set[str] = set()
    for constraint in catalog.constraints_of(table):
        if constraint.kind == "primary key":
            key.update(constraint.columns)
    return tuple(
        c
        for c in table.columns
        if c.name not in key
        and c.type_category not in ("D", "B")
        and not _bookkeeping_name(c.name)
        and not is_generated_identifier(c)
    )


def label_column(table: Table, columns: tuple[Column, ...]) -> Column | None:
    """A text column among `columns` that names or describes the row: name, code, title,
    description, or a column named after the table (country.country)."""
    own = normalized(table.name)
    for column in columns:
        if column.type_category == "S" and (
            _label_name(column.name) or normalized(column.name) in (own, own.removesuffix("s"))
        ):
            return column
    return None


def _shape(catalog: Catalog, table: Table, tenant_keys: frozenset[str]) -> tuple[str, bool] | None:
    """Why the table looks like reference data on its own (outgoing keys are judged after),
    and whether it is a vocabulary (a hub) rather than a lookup; None when it does not.
    Cheap tests first: most tables of a large schema fail one of them."""
    incoming = catalog.foreign_keys_to(table)
    if not incoming or label_column(table, table.columns) is None:
        return None
    if any(_entity_name(c.name) for c in table.columns):
        return None
    # The table a tenant key points at owns every row of its tenant: never reference data.
    if any(len(fk.columns) == 1 and normalized(fk.columns[0]) in tenant_keys for fk in incoming):
        return None
    meaningful = content_columns(catalog, table)
    # A key column is a label only when it is all the table has (a list of codes).
    label = label_column(table, meaningful or table.columns)
    if label is None:
        return None
    content = len(meaningful)
    hub = len(incoming) >= HUB_REFERENCES
    if content > (HUB_COLUMNS if hub else LOOKUP_COLUMNS):
        return None
    stats = catalog.table_stats(table)
    if not hub and stats is not None and stats.row_estimate > LOOKUP_ROWS:
        return None
    kind = "a vocabulary" if hub else "a lookup"
    size = f", {stats.row_estimate:,} rows" if stats is not None and stats.row_estimate >= 0 else ""
    return (
        f"{kind} by its shape: labelled by {label.name}, "
        f"{counted(content, 'meaningful column')}{size}, referenced by "
        f"{counted(len(incoming), 'foreign key')}",
        hub,
    )


def reference_tables(catalog: Catalog, settings: Settings) -> dict[str, Reference]:
    """The tables that are reference data, by qualified name."""
    # An extension's tables (PostGIS's spatial_ref_sys) are its vocabulary, not the schema's.
    declared = {
        f"{m.schema}.{m.name}": Reference(
            f"{m.schema}.{m.name}", "declared", f"a table of the extension {e.name}"
        )
        for e in catalog.extensions
        for m in e.members
        if m.kind in ("table", "partitioned table")
    }
    guessed: dict[str, tuple[Table, tuple[str, bool]]] = {}
    tenant_keys = frozenset(normalized(k) for k in settings.tenant_keys)
    for table in own_tables(catalog):
        role = declared_role(table, settings)
        if role == "reference":
            declared[table.qualified] = Reference(
                table.qualified, "declared", "declared reference data in dbtruth.yaml"
            )
        elif role is None:
            why = _shape(catalog, table, tenant_keys)
            if why is not None:
                guessed[table.qualified] = (table, why)
    # A lookup refers only to other reference data (a type tree to itself): drop candidates
    # that refer to anything else until none does (cycles of vocabularies stay).
    changed = True
    while changed:
        changed = False
        for name, (table, _) in list(guessed.items()):
            targets = (
                fk.ref_qualified or ""
                for fk in catalog.constraints_of(table)
                if fk.kind == "foreign key" and not any(is_audit_stamp(c) for c in fk.columns)
            )
            if any(t != name and t not in guessed and t not in declared for t in targets):
                del guessed[name]
                changed = True
    return {
        **declared,
        **{
            name: Reference(name, "guessed", why, vocabulary=hub)
            for name, (_, (why, hub)) in guessed.items()
        },
    }


def deletes_expected(catalog: Catalog, table: Table) -> str | None:
    """Why rows of `table` are deleted, when the schema or a live server says they are."""
    for fk in catalog.foreign_keys_to(table):
        if fk.on_delete in DELETING_ACTIONS:
            return (
                f"{fk.name} on {fk.table_qualified} declares ON DELETE {fk.on_delete.upper()}, "
                f"so rows of {table.qualified} are deleted"
            )
    stats = catalog.table_stats(table)
    if stats is not None and stats.deletes > 0:
        return f"{stats.deletes:,} rows of {table.qualified} were deleted since statistics began"
    return None
