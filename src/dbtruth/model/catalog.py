"""The catalog: what a PostgreSQL database declares about itself, as plain frozen data.

Nothing here does I/O. Sources build a Catalog (from a live server, a scratch server loaded with
SQL files, or a snapshot); rules read it. Names are kept unquoted ("schema.table") for display
and fingerprints; `dbtruth.model.sqlnames` quotes them when a fix needs SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    position: int
    type: str  # format_type(): "timestamp without time zone", "character varying(20)", "bigint[]"
    type_name: str  # base type name after resolving domains: "timestamp", "int4", "bool", "_int4"
    type_category: str  # pg_type.typcategory of the base type: B bool, N numeric, D date/time, ...
    is_enum: bool
    not_null: bool
    default: str | None
    identity: str  # "" | "always" | "by default"
    generated: str  # "" | "stored" | "virtual"
    comment: str | None = None
    domain: str | None = None  # the domain's qualified name when the column's type is a domain


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    kind: str  # "table" | "partitioned table" | "foreign table"
    columns: tuple[Column, ...]
    owner: str = ""
    persistence: str = "permanent"  # "permanent" | "unlogged"
    rls_enabled: bool = False
    rls_forced: bool = False
    partition_of: str | None = None  # qualified parent when this table is a partition
    inherits: tuple[str, ...] = ()  # qualified parents by classic inheritance
    comment: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class Constraint:
    schema: str
    table: str
    name: str
    kind: str  # "primary key" | "unique" | "check" | "foreign key" | "exclusion"
    columns: tuple[str, ...]
    definition: str
    validated: bool = True
    deferrable: bool = False
    inherited: bool = False  # copied from a partitioned parent or an inheritance parent
    index: str | None = None  # the index backing a primary key, unique or exclusion constraint
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None  # "no action" | "restrict" | "cascade" | "set null" | ...
    on_update: str | None = None

    @property
    def table_qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def ref_qualified(self) -> str | None:
        return f"{self.ref_schema}.{self.ref_table}" if self.ref_table else None


@dataclass(frozen=True, slots=True)
class Index:
    schema: str
    table: str
    name: str
    method: str  # "btree", "gin", "gist", ...
    # One entry per key column: the column name, or the expression text for an expression key.
    keys: tuple[str, ...]
    key_is_column: tuple[bool, ...]
    include: tuple[str, ...]
    definition: str
    predicate: str | None = None
    unique: bool = False
    primary: bool = False
    valid: bool = True
    nulls_not_distinct: bool = False  # PostgreSQL 15+: NULLs collide in this unique index
    constraint: str | None = None  # name of the constraint this index implements
    clustered: bool = False  # the index CLUSTER uses for the table (CLUSTER … USING marked it)
    # Key columns up to the first expression, unquoted: the part a column lookup can use.
    # Computed once here; rules ask it of every index many times.
    leading: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Read from a server they always match; a snapshot is only JSON (and may be edited).
        if len(self.keys) != len(self.key_is_column):
            raise ValueError("keys and key_is_column must have one entry per key column")
        leading: list[str] = []
        for key, is_column in zip(self.keys, self.key_is_column, strict=True):
            if not is_column:
                break
            leading.append(key.strip('"'))
        object.__setattr__(self, "leading", tuple(leading))

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def table_qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def signature(self) -> str:
        """What the index does, without its name: two indexes with equal signatures are equal."""
        marker = " USING "
        at = self.definition.find(marker)
        return self.definition[at:] if at >= 0 else self.definition


@dataclass(frozen=True, slots=True)
class View:
    schema: str
    name: str
    materialized: bool
    definition: str
    security_invoker: bool = False
    depends_on: tuple[str, ...] = ()  # qualified tables and views the view reads
    columns: tuple[str, ...] = ()  # output column names
    owner: str = ""
    comment: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class Function:
    schema: str
    name: str
    arguments: str  # pg_get_function_identity_arguments()
    kind: str  # "function" | "procedure" | "aggregate" | "window"
    language: str
    returns: str
    security_definer: bool = False
    config: tuple[str, ...] = ()  # proconfig: "search_path=pg_catalog, public", ...
    body: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.arguments})"


@dataclass(frozen=True, slots=True)
class Trigger:
    schema: str
    table: str
    name: str
    function: str  # qualified trigger function name
    timing: str  # "before" | "after" | "instead of"
    events: tuple[str, ...]  # "insert", "update", "delete", "truncate"
    row_level: bool
    enabled: bool = True
    columns: tuple[str, ...] = ()  # UPDATE OF columns
    definition: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    schema: str
    table: str
    name: str
    command: str  # "all" | "select" | "insert" | "update" | "delete"
    permissive: bool
    roles: tuple[str, ...]  # "public" for PUBLIC
    using: str | None = None
    with_check: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    schema: str
    object: str
    object_kind: str  # "table" | "view" | "materialized view" | "foreign table" | ...
    grantee: str  # "PUBLIC" for the pseudo-role
    privilege: str  # "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", ...
    grantable: bool = False

    @property
    def object_qualified(self) -> str:
        return f"{self.schema}.{self.object}"


@dataclass(frozen=True, slots=True)
class Sequence:
    schema: str
    name: str
    data_type: str  # "smallint" | "integer" | "bigint"
    start: int
    increment: int
    min_value: int
    max_value: int
    cycle: bool
    owned_by: str | None = None  # "schema.table.column" for serial / identity columns
    last_value: int | None = None  # live only, and only when readable

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class ExtensionMember:
    """An object an extension's script created (pg_depend deptype 'e'): the extension's, never
    the schema authors', so no rule judges it."""

    kind: str  # "table" | "view" | "sequence" | "index" | "function" | "type" | "schema" | ...
    schema: str
    name: str  # a relation's or type's name; a function's with its identity arguments


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    version: str
    schema: str
    members: tuple[ExtensionMember, ...] = ()


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    owner: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class TableStats:
    schema: str
    name: str
    row_estimate: int  # pg_class.reltuples; -1 when never analyzed
    total_bytes: int
    seq_scan: int
    idx_scan: int
    inserts: int
    updates: int
    deletes: int


@dataclass(frozen=True, slots=True)
class IndexStats:
    schema: str
    table: str
    name: str
    idx_scan: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class LoadedRows:
    """How many rows a table held once dbtruth loaded SQL files (their INSERT and COPY data)
    into its scratch database: counted there, so observed, and no live statistic."""

    schema: str
    name: str
    rows: int
    at_least: bool = False  # counting stopped at `rows`: the table holds that many or more


@dataclass(frozen=True, slots=True)
class Removal:
    """A foreign key, index or NOT NULL the SQL files created and a later statement dropped:
    the project's history shows a decision that the final schema alone cannot (a key dropped
    because it cost too much on a hot table, an index dropped as unneeded, a column allowed to
    be NULL)."""

    kind: str  # "foreign key" | "index" | "not null" (name: the column)
    schema: str
    table: str
    name: str
    columns: tuple[str, ...]  # a foreign key's columns; an index's leading plain columns
    file: str
    line: int

    @property
    def table_qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Stats:
    """Facts only a live server has: counters, sizes, and when the counters were last reset."""

    collected_at: str  # ISO timestamp on the server clock
    stats_reset: str | None  # pg_stat_database.stats_reset, ISO; None when never reset
    postmaster_start: str  # counters start here when they were never reset
    tables: tuple[TableStats, ...] = ()
    indexes: tuple[IndexStats, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    server_version: str
    server_version_num: int
    database: str
    source: str  # "live", "sql files (scratch: embedded PostgreSQL 18.6)", "snapshot", ...
    schemas: tuple[Schema, ...] = ()
    tables: tuple[Table, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    views: tuple[View, ...] = ()
    functions: tuple[Function, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    policies: tuple[Policy, ...] = ()
    grants: tuple[Grant, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    extensions: tuple[Extension, ...] = ()
    stats: Stats | None = None
    # What could not be loaded (SQL-file targets with --keep-going): findings are incomplete.
    load_problems: tuple[str, ...] = ()
    # SQL-file targets: the tables that held rows after loading (an empty table is absent).
    loaded_rows: tuple[LoadedRows, ...] = ()
    # SQL-file targets: foreign keys and indexes a statement dropped and none re-created.
    removed: tuple[Removal, ...] = ()
    _lookup: _Lookup = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", _Lookup(self))

    @property
    def is_live(self) -> bool:
        return self.stats is not None

    def table(self, qualified: str) -> Table | None:
        return self._lookup.tables.get(qualified)

    def primary_key(self, table: Table) -> tuple[str, ...]:
        """The columns of the table's primary key; empty without one."""
        return next((c.columns for c in self.constraints_of(table) if c.kind == "primary key"), ())

    def constraints_of(self, table: Table) -> tuple[Constraint, ...]:
        return self._lookup.constraints.get(table.qualified, ())

    def indexes_of(self, table: Table) -> tuple[Index, ...]:
        return self._lookup.indexes.get(table.qualified, ())

    def triggers_of(self, table: Table) -> tuple[Trigger, ...]:
        return self._lookup.triggers.get(table.qualified, ())

    def policies_of(self, table: Table) -> tuple[Policy, ...]:
        return self._lookup.policies.get(table.qualified, ())

    def grants_on(self, qualified: str) -> tuple[Grant, ...]:
        return self._lookup.grants.get(qualified, ())

    def foreign_keys_to(self, table: Table) -> tuple[Constraint, ...]:
        return self._lookup.referencing.get(table.qualified, ())

    def function(self, qualified: str) -> tuple[Function, ...]:
        return self._lookup.functions.get(qualified, ())

    def sequence_owned_by(self, table: Table, column: str) -> Sequence | None:
        return self._lookup.owned_sequences.get(f"{table.qualified}.{column}")

    def names_in_schema(self, schema: str) -> frozenset[str]:
        """Relation and constraint names taken in a schema (fixes must not reuse them)."""
        return self._lookup.names.get(schema, frozenset())

    def table_stats(self, table: Table) -> TableStats | None:
        return self._lookup.table_stats.get(table.qualified)

    def rows_loaded(self, table: Table) -> LoadedRows | None:
        """The rows `table` held after loading a SQL-file target; None when it held none."""
        return self._lookup.loaded_rows.get(table.qualified)

    def removed_from(self, table: Table, kind: str) -> tuple[Removal, ...]:
        """Foreign keys or indexes of `table` the SQL files dropped, in the order dropped."""
        return tuple(r for r in self._lookup.removed.get(table.qualified, ()) if r.kind == kind)

    def index_stats(self, index: Index) -> IndexStats | None:
        return self._lookup.index_stats.get(index.qualified)

    def extension_of(self, schema: str, name: str) -> str | None:
        """The extension that owns `schema.name` (a relation, type, or a function named with
        its identity arguments), or None when the object is the schema authors' own."""
        return self._lookup.extension_members.get(f"{schema}.{name}")


class _Lookup:
    """Maps built once per catalog so that rules stay linear in the schema size."""

    __slots__ = (
        "constraints",
        "extension_members",
        "functions",
        "grants",
        "index_stats",
        "indexes",
        "loaded_rows",
        "names",
        "owned_sequences",
        "policies",
        "referencing",
        "removed",
        "table_stats",
        "tables",
        "triggers",
        "views",
    )

    def __init__(self, catalog: Catalog) -> None:
        self.tables = {t.qualified: t for t in catalog.tables}
        self.views = {v.qualified: v for v in catalog.views}
        self.constraints = _group(catalog.constraints, lambda c: c.table_qualified)
        self.indexes = _group(catalog.indexes, lambda i: i.table_qualified)
        self.triggers = _group(catalog.triggers, lambda t: f"{t.schema}.{t.table}")
        self.policies = _group(catalog.policies, lambda p: f"{p.schema}.{p.table}")
        self.grants = _group(catalog.grants, lambda g: g.object_qualified)
        self.functions = _group(catalog.functions, lambda f: f.qualified)
        self.referencing = _group(
            (c for c in catalog.constraints if c.kind == "foreign key"),
            lambda c: c.ref_qualified or "",
        )
        self.owned_sequences = {s.owned_by: s for s in catalog.sequences if s.owned_by}
        self.extension_members = {
            f"{m.schema}.{m.name}": e.name for e in catalog.extensions for m in e.members
        }
        names: defaultdict[str, set[str]] = defaultdict(set)
        for group in (
            catalog.tables,
            catalog.views,
            catalog.indexes,
            catalog.sequences,
            catalog.constraints,
        ):
            for named in group:
                names[named.schema].add(named.name)
        self.names = {schema: frozenset(taken) for schema, taken in names.items()}
        stats = catalog.stats
        self.table_stats = {f"{s.schema}.{s.name}": s for s in stats.tables} if stats else {}
        self.index_stats = {f"{s.schema}.{s.name}": s for s in stats.indexes} if stats else {}
        self.loaded_rows = {f"{r.schema}.{r.name}": r for r in catalog.loaded_rows}
        self.removed = _group(catalog.removed, lambda r: r.table_qualified)


def _group(items: Iterable[T], key: Callable[[T], str]) -> dict[str, tuple[T, ...]]:
    grouped: defaultdict[str, list[T]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return {k: tuple(v) for k, v in grouped.items()}
