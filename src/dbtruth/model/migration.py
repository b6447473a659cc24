"""A migration set as data: files in the order a runner applies them, their statements with
exact positions and parse trees, and the state a statement runs in (transaction, lock_timeout,
which tables are new). Migration rules read these; `dbtruth.sources.migrations` builds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Suppression:
    """`-- dbtruth: ignore[CODE,...] reason` in a migration file."""

    codes: tuple[str, ...]
    reason: str
    file: str
    line: int
    whole_file: bool  # at the top of the file, before its first statement


@dataclass(frozen=True, slots=True)
class JsonExpr:
    """An expression of a statement read from PostgreSQL's JSON parse output instead of a
    pglast tree: the migration rules only ask which functions it calls and whether it is an
    `column IS NOT NULL` test."""

    data: Any

    def function_names(self) -> set[str]:
        names: set[str] = set()
        stack = [self.data]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                call = value.get("FuncCall")
                if isinstance(call, dict) and call.get("funcname"):
                    names.add(str(call["funcname"][-1]["String"]["sval"]).lower())
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
        return names

    def is_null_constant(self) -> bool:
        """`NULL` itself (a DEFAULT NULL)."""
        constant = self.data.get("A_Const") if isinstance(self.data, dict) else None
        return isinstance(constant, dict) and bool(constant.get("isnull"))

    def not_null_column(self) -> str | None:
        test = self.data.get("NullTest") if isinstance(self.data, dict) else None
        if not test or test.get("nulltesttype") != "IS_NOT_NULL":
            return None
        fields = (test.get("arg") or {}).get("ColumnRef", {}).get("fields", [])
        return fields[-1].get("String", {}).get("sval") if fields else None


@dataclass(frozen=True, slots=True)
class CreatedTable:
    """CREATE TABLE (or CREATE TABLE AS) as the lint reads it: the new table, its columns'
    types and the tables its foreign keys reference. Built straight from PostgreSQL's parse
    output: a full tree of every column definition is most of the cost of a migration set."""

    schema: str | None
    name: str
    columns: tuple[tuple[str, str], ...] = ()  # (column, base type name)
    references: tuple[tuple[str | None, str], ...] = ()  # (schema, table) of each foreign key
    # (column, its type's modifiers) for the columns declared with some: varchar(32) -> (32,)
    typmods: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class MigrationStatement:
    file: str
    line: int
    column: int
    sql: str
    node: Any  # the pglast AST node of the statement
    file_index: int  # which migration (0-based, in apply order)
    index: int  # which statement of its file
    suppressions: tuple[Suppression, ...] = ()


@dataclass(frozen=True, slots=True)
class MigrationFile:
    path: str
    wrapped: bool  # the runner runs the whole file in one transaction
    # A tuple, or statements parsed while they are iterated (once; see stream_file), in which
    # case file_suppressions are complete after the first statement and problems after the last.
    statements: Iterable[MigrationStatement] = ()
    file_suppressions: Sequence[Suppression] = ()
    problems: Sequence[str] = ()  # statements that could not be parsed, with positions
    # Why the runner does not run this file at all, or why dbtruth does not read it as a
    # migration (a schema dump); its statements are then empty.
    skipped: str | None = None
    # The release it ships in, guessed from the set's layout (sources.releases), or None.
    release: str | None = None
    # Why its runner applies it with nothing else on the database (a runner convention).
    offline: str | None = None
    # What the set's own metadata calls this migration (Temporal's manifest.json Description).
    description: str | None = None
    # The runner sends each statement on whichever connection of its pool is free (Temporal's
    # schema tool): a SET in the file may land on another session than the statements after.
    pooled: bool = False
    # The runner sends the whole file as one query (Prisma; popx's .autocommit. files) and it
    # holds several statements: PostgreSQL runs them as one implicit transaction, which an
    # explicit COMMIT inside does not leave (the statements after it start another).
    one_query: bool = False


@dataclass
class MigrationState:
    """What is true when a statement runs; the lint runner updates it after each statement."""

    pg_version: int  # server_version_num, e.g. 150000
    in_transaction: bool = False
    wrapped: bool = False  # the runner wraps the current file in one transaction
    pooled: bool = False  # the current file's statements may each run on another session
    one_query: bool = False  # the current file is sent as one query (an implicit transaction)
    lock_timeout_set: bool = False  # by SET on the session
    # by SET LOCAL in the open transaction, which ends with it; None: not set there
    local_lock_timeout: bool | None = None
    # Relations created earlier in the current file, and relations a target lacks and the set
    # creates: they are new and empty, so locks on them block nobody.
    created_here: set[str] = field(default_factory=set)
    created_in_set: set[str] = field(default_factory=set)
    # Relations the set creates -> (release, file) of the migration that created them.
    created_in_release: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Relations the set creates -> the file that created them (for their age, from its name).
    created_in_file: dict[str, str] = field(default_factory=dict)
    # (table, column) -> the type modifiers it was declared with (varchar(32) -> (32,)); a
    # column known without any maps to (); an unknown column is absent.
    column_typmods: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    release: str | None = None  # the current file's
    description: str | None = None  # the current file's, from the set's metadata
    file: str = ""  # the current file
    existing: frozenset[str] | None = None  # the target's relations, when there is a target
    search_path_schema: str = "public"
    # (table, column) pairs proven NOT NULL by a validated CHECK earlier in the set, and
    # NOT VALID checks waiting for their VALIDATE (constraint name -> (table, column)).
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)
    pending_checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)  # once-per-file findings already made
    # phases of the statements so far in this file (expand, backfill, validate, contract),
    # and of the statement being linted (computed once by the lint runner)
    file_phases: set[str] = field(default_factory=set)
    phase: str | None = None
    # columns this file added to an existing table with no value for the old rows, until a
    # data change of that table fills them
    unfilled_columns: set[tuple[str, str]] = field(default_factory=set)
    # columns this file added (ADD COLUMN), under their current name: no running code reads
    # them yet, so renaming one breaks no reader
    added_here: set[tuple[str, str]] = field(default_factory=set)
    # index (qualified) -> its table, from the target and CREATE INDEX earlier in the set
    index_tables: dict[str, str] = field(default_factory=dict)
    # constraints added NOT VALID in the transaction that is still open
    not_valid_in_transaction: set[str] = field(default_factory=set)
    # (table, column) -> base type name ("varchar", "text", "int4"), from the target and from
    # CREATE TABLE / ADD COLUMN / ALTER COLUMN TYPE earlier in the set.
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # tables this file emptied (TRUNCATE, DELETE without WHERE) with no row written into them
    # since: a column added there has no old rows to fill
    emptied: set[str] = field(default_factory=set)
    # (table, column) -> the line and the destination of a statement of this file that copied
    # the column's values elsewhere (UPDATE t SET output = … completion …, INSERT … SELECT)
    copied_columns: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # the session's TimeZone as this file set it (SET, SET TIME ZONE, set_config), and one set
    # for the open transaction only; None: the server's own setting, which a lint cannot see
    timezone: str | None = None
    local_timezone: str | None = None
    # functions the set created or altered: name -> the text of each CREATE/ALTER FUNCTION,
    # in order (read only when a column default calls the function)
    functions: dict[str, list[str]] = field(default_factory=dict)

    # The open transaction: tables it holds ACCESS EXCLUSIVE on, and tables whose every row a
    # statement of it already read or wrote (a rewrite, a validation scan, an UPDATE of all
    # rows), each with the line and what did it; emptied at COMMIT and with each file.
    exclusive_in_transaction: set[str] = field(default_factory=set)
    full_pass_in_transaction: dict[str, tuple[int, str]] = field(default_factory=dict)

    def start_file(self, wrapped: bool, pooled: bool = False, one_query: bool = False) -> None:
        """What holds only within one migration file starts again for the next one."""
        self.created_here = set()
        self.emptied = set()
        self.copied_columns = {}
        self.timezone = self.local_timezone = None
        self.file_phases = set()
        self.unfilled_columns = set()
        self.added_here = set()
        self.not_valid_in_transaction = set()
        self.exclusive_in_transaction = set()
        self.full_pass_in_transaction = {}
        self.in_transaction = self.wrapped = wrapped
        self.pooled = pooled
        self.one_query = one_query
        self.lock_timeout_set = False
        self.local_lock_timeout = None

    @property
    def lock_timeout_active(self) -> bool:
        """Whether a lock wait of the current statement gives up: SET LOCAL in the open
        transaction, else SET on the session."""
        if self.local_lock_timeout is not None:
            return self.local_lock_timeout
        return self.lock_timeout_set

    def qualify(self, schema: str | None, name: str) -> str:
        return f"{schema or self.search_path_schema}.{name}"

    def is_new(self, relation: str) -> bool:
        if relation in self.created_here:
            return True
        if self.existing is not None:
            return relation not in self.existing and relation in self.created_in_set
        return False
