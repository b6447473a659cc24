"""The lock each statement takes and whether it rewrites a table, predicted from the statement
alone (PostgreSQL's ALTER TABLE, CREATE INDEX and explicit-locking documentation; the version
changes a few verdicts). Migration rules read it; a replay on a clone observes the truth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType, ObjectType
from pglast.parser import ParseError, scan

from dbtruth.findings import ObjectRef
from dbtruth.model.migration import CreatedTable, MigrationState, MigrationStatement
from dbtruth.rules.volatility import volatile_call

# PostgreSQL's table lock modes, weakest first.
MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
# From SHARE up, a lock blocks INSERT/UPDATE/DELETE; ACCESS EXCLUSIVE also blocks reads.
BLOCKS_WRITES = "SHARE"

_SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})
_SUBCOMMAND_LOCK = {
    At.AT_ValidateConstraint: "SHARE UPDATE EXCLUSIVE",
    At.AT_SetStatistics: "SHARE UPDATE EXCLUSIVE",
    At.AT_SetOptions: "SHARE UPDATE EXCLUSIVE",
    At.AT_ResetOptions: "SHARE UPDATE EXCLUSIVE",
    At.AT_ClusterOn: "SHARE UPDATE EXCLUSIVE",
    At.AT_DropCluster: "SHARE UPDATE EXCLUSIVE",
    At.AT_SetRelOptions: "SHARE UPDATE EXCLUSIVE",
    At.AT_ResetRelOptions: "SHARE UPDATE EXCLUSIVE",
    At.AT_AttachPartition: "SHARE UPDATE EXCLUSIVE",
    At.AT_EnableTrig: "SHARE ROW EXCLUSIVE",
    At.AT_EnableAlwaysTrig: "SHARE ROW EXCLUSIVE",
    At.AT_EnableReplicaTrig: "SHARE ROW EXCLUSIVE",
    At.AT_EnableTrigAll: "SHARE ROW EXCLUSIVE",
    At.AT_EnableTrigUser: "SHARE ROW EXCLUSIVE",
    At.AT_DisableTrig: "SHARE ROW EXCLUSIVE",
    At.AT_DisableTrigAll: "SHARE ROW EXCLUSIVE",
    At.AT_DisableTrigUser: "SHARE ROW EXCLUSIVE",
}


@dataclass(frozen=True, slots=True)
class Lock:
    relation: str  # qualified; for DROP INDEX of an index whose table is unknown, the index's
    mode: str
    rewrite: bool = False  # the table (or index) is rewritten: time grows with its size
    scan: bool = False  # the table is read in full under the lock (validation)
    why: str = ""
    index: str | None = None  # DROP INDEX whose table is unknown: the index named


NEW_TABLE_REFERENCE = "referenced by a new table"


def builds_nothing(node: Any, state: MigrationState) -> bool:
    """CREATE INDEX IF NOT EXISTS of an index the target or an earlier migration has: nothing
    is built, though the table's lock is still taken (and may wait)."""
    if not (isinstance(node, ast.IndexStmt) and node.if_not_exists and node.idxname):
        return False
    table = relation_name(node.relation, state)
    return state.qualify(table.split(".", 1)[0], node.idxname) in state.index_tables


def strongest(modes: list[str]) -> str:
    return max(modes, key=MODES.index)


def blocks_writes(mode: str) -> bool:
    return MODES.index(mode) >= MODES.index(BLOCKS_WRITES)


def relation_name(rangevar: Any, state: MigrationState) -> str:
    return state.qualify(rangevar.schemaname, rangevar.relname)


def _type_name(column: ast.ColumnDef) -> str:
    names = column.typeName.names if column.typeName else None
    return str(names[-1].sval).lower() if names else ""


def fills_every_row(column: ast.ColumnDef) -> bool:
    """Whether ADD COLUMN gives the existing rows a value: a DEFAULT, an identity or stored
    generated column, or a serial type (a DEFAULT nextval() under another name)."""
    filled = (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_GENERATED, ConstrType.CONSTR_IDENTITY)
    return _type_name(column) in _SERIAL or any(
        c.contype in filled for c in column.constraints or ()
    )


def column_rewrites(column: ast.ColumnDef, state: MigrationState) -> str | None:
    """Why adding this column rewrites the table, or None."""
    type_name = _type_name(column)
    if type_name in _SERIAL:
        return f"a {type_name} column fills every row from a sequence"
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_GENERATED:
            return "a stored generated column is computed for every row"
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity column fills every row from a sequence"
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            volatile = volatile_call(constraint.raw_expr, state.functions)
            if volatile is not None:
                return volatile.reason()
            if state.pg_version < 110000:
                return "before PostgreSQL 11 any default is written into every row"
    return None


def new_column_fk_scans(column: ast.ColumnDef) -> bool:
    """Whether ADD COLUMN … REFERENCES reads the whole table to check the new key. PostgreSQL
    skips the check when the new column is all NULL: no DEFAULT (not even DEFAULT NULL), not
    serial, identity or generated (parse_utilcmd.c; judged per column, as observed on 15 and
    18: another column's default in the same ALTER TABLE does not make it scan)."""
    return any(
        c.contype == ConstrType.CONSTR_FOREIGN for c in column.constraints or ()
    ) and fills_every_row(column)


# Character types convert to text or an unbounded varchar without a rewrite (binary coercible).
_FREE_TARGETS = frozenset({"text", "varchar"})
CHARACTER_TYPES = frozenset({"text", "varchar", "bpchar", "char", "character", "name"})
_TIMESTAMPS = frozenset({"timestamp", "timestamptz"})
# Time zones with a fixed offset of zero (PostgreSQL's tz database), and POSIX offsets of zero
# ('+00:00', 'UTC0', '<+00>-00', SET TIME ZONE 0). 'Europe/London' has summer time, and even
# 'Africa/Abidjan' had another offset once: they are not fixed, PostgreSQL rewrites under them.
_ZERO_OFFSET_ZONES = frozenset(
    {"utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "greenwich", "universal", "zulu"}
    | {f"etc/{z}" for z in ("utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "greenwich",
                            "universal", "zulu")}
)  # fmt: skip
_ZERO_OFFSET = re.compile(r"(?:[a-z]{3,}|<[^>]*>)?[+-]?0+(?:\.0*|(?::0+){1,2})?")


def zero_offset(zone: str | None) -> bool:
    """Whether a TimeZone setting is UTC in PostgreSQL's sense (a fixed offset of zero)."""
    if zone is None:
        return False
    zone = zone.strip().lower()
    return zone in _ZERO_OFFSET_ZONES or _ZERO_OFFSET.fullmatch(zone) is not None


def session_timezone(state: MigrationState) -> str | None:
    """The TimeZone a statement runs under, when the migration set it (else None: the
    server's, unknown here)."""
    return state.local_timezone if state.local_timezone is not None else state.timezone


def _has_using(definition: ast.ColumnDef, sql: str | None) -> bool:
    """Whether ALTER COLUMN … TYPE converts with an expression (USING): a full tree keeps it;
    a statement read without one is scanned for the keyword (without its text: assume so)."""
    if getattr(definition, "raw_default", None) is not None or sql is None:
        return True
    try:
        return any(token.name == "USING" for token in scan(sql))
    except ParseError:
        return True


def type_change_cost(
    table: str, column: str, definition: ast.ColumnDef, state: MigrationState,
    sql: str | None = None,
) -> str:  # fmt: skip
    """What ALTER COLUMN … TYPE costs: "none" when the table and its indexes keep their data
    (the same type again; a character column, its type known from the target or from earlier
    migrations, becoming text or an unbounded varchar), "indexes" when the rows stay but the
    indexes on the column are rebuilt (timestamp <-> timestamptz under a UTC session TimeZone
    since PostgreSQL 12), else "rewrite"."""
    type_name = definition.typeName
    if type_name is None or not type_name.names:
        return "rewrite"
    target = type_name.names[-1].sval.lower()
    old = state.column_types.get((table, column))
    if type_name.typmods:
        old_mods = state.column_typmods.get((table, column))
        new_mods = typmod_values(type_name.typmods)
        if old != target or old_mods is None or new_mods is None:
            return "rewrite"
        return "none" if widens(target, old_mods, new_mods) else "rewrite"
    if old == target:
        return "none"  # the same type again: PostgreSQL keeps the data as is
    if target in _FREE_TARGETS and old in CHARACTER_TYPES:
        return "none"
    if (
        {old, target} == _TIMESTAMPS
        and state.pg_version >= 120000
        and zero_offset(session_timezone(state))
        and not _has_using(definition, sql)
    ):
        # The values are the same instants under UTC, so PostgreSQL keeps the rows
        # (ATColumnChangeRequiresRewrite); timestamp_ops and timestamptz_ops differ, so each
        # index on the column is rebuilt (relfilenodes observed on 15 and 18).
        return "indexes"
    return "rewrite"


# Types whose stored values do not depend on a larger modifier: PostgreSQL skips the rewrite
# when the limit grows (ALTER TABLE docs; 9.2 release notes: varchar, varbit, numeric
# precision, and the time types' fractional digits).
_LENGTH_TYPES = frozenset({"varchar", "varbit"})
_PRECISION_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})


def widens(type_name: str, old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """Whether changing a column of `type_name` from modifiers `old` to `new` only raises a
    limit, which PostgreSQL does without touching the rows. `old` empty means no limit."""
    if not old:
        return False  # from no limit to a limit: every value is checked (and rewritten)
    if type_name in _LENGTH_TYPES or type_name in _PRECISION_TYPES:
        return len(old) == len(new) == 1 and new[0] >= old[0]
    if type_name == "numeric":
        scale = old[1] if len(old) > 1 else 0
        new_scale = new[1] if len(new) > 1 else 0
        return new[0] >= old[0] and new_scale == scale
    return False


_FORMATTED_TYPMODS = re.compile(r"\(([\d, ]+)\)")


def declared_typmods(formatted: str) -> tuple[int, ...]:
    """The modifiers in a catalog's format_type() text: "character varying(32)" -> (32,),
    "numeric(10,2)" -> (10, 2), "timestamp(3) with time zone" -> (3,), "text" -> ()."""
    found = _FORMATTED_TYPMODS.search(formatted)
    return tuple(int(part) for part in found.group(1).split(",")) if found else ()


def typmod_values(typmods: Any) -> tuple[int, ...] | None:
    """Integer type modifiers from a pglast tree or PostgreSQL's JSON, None if any is not one."""
    values = []
    for typmod in typmods or ():
        data = getattr(typmod, "data", None)
        if isinstance(data, dict):  # JsonExpr
            value = data.get("A_Const", {}).get("ival")
            if value is None:
                return None
            values.append(int(value.get("ival", 0)))
        elif isinstance(typmod, ast.A_Const) and isinstance(typmod.val, ast.Integer):
            values.append(int(typmod.val.ival or 0))
        else:
            return None
    return tuple(values)


def _constraint_lock(table: str, constraint: ast.Constraint, state: MigrationState) -> list[Lock]:
    kind = constraint.contype
    if kind == ConstrType.CONSTR_FOREIGN:
        referenced = relation_name(constraint.pktable, state)
        scan = not constraint.skip_validation
        return [
            Lock(table, "SHARE ROW EXCLUSIVE", scan=scan, why="ADD FOREIGN KEY"),
            # from a new (empty) table it is held for an instant, with nothing to validate
            Lock(
                referenced,
                "SHARE ROW EXCLUSIVE",
                why=NEW_TABLE_REFERENCE
                if state.is_new(table)
                else "referenced by a new foreign key",
            ),
        ]
    if kind == ConstrType.CONSTR_CHECK:
        return [Lock(table, "ACCESS EXCLUSIVE", scan=not constraint.skip_validation,
                     why="ADD CHECK")]  # fmt: skip
    if kind in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
        builds = constraint.indexname is None  # USING INDEX reuses a built index
        return [Lock(table, "ACCESS EXCLUSIVE", rewrite=False, scan=builds,
                     why="ADD PRIMARY KEY/UNIQUE builds its index under the lock" if builds
                     else "ADD CONSTRAINT … USING INDEX")]  # fmt: skip
    if kind == ConstrType.CONSTR_EXCLUSION:
        return [Lock(table, "ACCESS EXCLUSIVE", scan=True,
                     why="ADD EXCLUDE builds its index under the lock")]  # fmt: skip
    return [Lock(table, "ACCESS EXCLUSIVE", scan=True, why="ADD CONSTRAINT")]


def _alter_table(node: ast.AlterTableStmt, state: MigrationState, sql: str | None) -> list[Lock]:
    if node.objtype not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW):
        return []
    table = relation_name(node.relation, state)
    locks: list[Lock] = []
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == At.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            locks += _constraint_lock(table, cmd.def_, state)
        elif subtype == At.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            reason = column_rewrites(cmd.def_, state)
            keyed = any(
                c.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                for c in cmd.def_.constraints or ()
            ) or new_column_fk_scans(cmd.def_)
            locks.append(Lock(table, "ACCESS EXCLUSIVE", rewrite=reason is not None, scan=keyed,
                              why=reason or "ADD COLUMN"))  # fmt: skip
        elif subtype == At.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
            cost = type_change_cost(table, cmd.name or "", cmd.def_, state, sql)
            locks.append(Lock(table, "ACCESS EXCLUSIVE", rewrite=cost == "rewrite",
                              scan=cost == "indexes", why="ALTER COLUMN TYPE"))  # fmt: skip
        elif subtype == At.AT_SetNotNull:
            locks.append(Lock(table, "ACCESS EXCLUSIVE", scan=True, why="SET NOT NULL"))
        elif subtype in (At.AT_SetLogged, At.AT_SetUnLogged, At.AT_SetTableSpace,
                         At.AT_SetAccessMethod):  # fmt: skip
            locks.append(Lock(table, "ACCESS EXCLUSIVE", rewrite=True, why="rewrites the table"))
        elif subtype == At.AT_DetachPartition:
            concurrent = bool(getattr(cmd.def_, "concurrent", False))
            mode = "SHARE UPDATE EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE"
            locks.append(Lock(table, mode, why="DETACH PARTITION"))
        elif subtype in _SUBCOMMAND_LOCK:
            locks.append(Lock(table, _SUBCOMMAND_LOCK[subtype], why=At(subtype).name))
        else:
            locks.append(Lock(table, "ACCESS EXCLUSIVE", why=At(subtype).name))
    return locks


def _has_param(params: Any, name: str) -> bool:
    return any(getattr(p, "defname", None) == name for p in params or ())


def predict(node: Any, state: MigrationState, sql: str | None = None) -> list[Lock]:
    """The table locks a statement takes (empty for statements that lock no existing table).
    `sql`, the statement's text, tells what a tree read without every detail leaves out."""
    if isinstance(node, ast.IndexStmt):
        # IF NOT EXISTS of an existing index still takes the lock before it finds the index
        # (ProcessUtilitySlow locks the table, DefineIndex then checks), only without a build
        mode = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE"
        table = relation_name(node.relation, state)
        return [Lock(table, mode, scan=not builds_nothing(node, state), why="CREATE INDEX")]
    if isinstance(node, ast.AlterTableStmt):
        return _alter_table(node, state, sql)
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        mode = (
            "SHARE UPDATE EXCLUSIVE"
            if node.renameType == ObjectType.OBJECT_INDEX and state.pg_version >= 120000
            else "ACCESS EXCLUSIVE"
        )
        return [Lock(relation_name(node.relation, state), mode, why="RENAME")]
    if isinstance(node, ast.DropStmt) and node.removeType in (
        ObjectType.OBJECT_TABLE, ObjectType.OBJECT_INDEX, ObjectType.OBJECT_MATVIEW,
    ):  # fmt: skip
        mode = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE"
        names = [state.qualify(*object_name(obj)) for obj in node.objects or ()]
        if node.removeType == ObjectType.OBJECT_INDEX:
            names = dropped_indexes(node, state)
            # dropping an index locks its table (known from the target or the set)
            return [
                Lock(state.index_tables.get(name, name), mode, why="DROP",
                     index=None if name in state.index_tables else name)
                for name in names
            ]  # fmt: skip
        return [Lock(name, mode, why="DROP") for name in names]
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TRIGGER:
        # DROP TRIGGER locks its table ACCESS EXCLUSIVE (CREATE TRIGGER only SHARE ROW
        # EXCLUSIVE). IF EXISTS of a trigger that is not there takes no lock, but whether it
        # is there (made by hand, or a re-run) the files alone cannot tell: the lock is counted.
        tables = []
        for obj in node.objects or ():
            parts = [part.sval for part in obj] if isinstance(obj, tuple | list) else []
            if len(parts) >= 2:
                tables.append(state.qualify(parts[-3] if len(parts) > 2 else None, parts[-2]))
        return [Lock(table, "ACCESS EXCLUSIVE", why="DROP TRIGGER") for table in tables]
    if isinstance(node, ast.VacuumStmt) and _has_param(node.options, "full"):
        return [
            Lock(relation_name(r.relation, state), "ACCESS EXCLUSIVE", rewrite=True,
                 why="VACUUM FULL")
            for r in node.rels or () if r.relation is not None
        ]  # fmt: skip
    if isinstance(node, ast.ClusterStmt) and node.relation is not None:
        return [Lock(relation_name(node.relation, state), "ACCESS EXCLUSIVE", rewrite=True,
                     why="CLUSTER")]  # fmt: skip
    if isinstance(node, ast.ReindexStmt) and node.relation is not None:
        concurrent = _has_param(node.params, "concurrently")
        mode = "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE"
        # rebuilds the indexes, not the table: time grows with the table all the same
        return [Lock(relation_name(node.relation, state), mode, scan=True, why="REINDEX")]
    if isinstance(node, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt) and node.relation:
        return [Lock(relation_name(node.relation, state), "ROW EXCLUSIVE", why="data change")]
    if isinstance(node, CreatedTable):
        # a foreign key of a new table locks the table it references, like ADD FOREIGN KEY
        return [
            Lock(state.qualify(schema, name), "SHARE ROW EXCLUSIVE", why=NEW_TABLE_REFERENCE)
            for schema, name in node.references
        ]  # fmt: skip
    if isinstance(node, ast.TruncateStmt):
        return [Lock(relation_name(r, state), "ACCESS EXCLUSIVE", why="TRUNCATE")
                for r in node.relations or ()]  # fmt: skip
    if isinstance(node, ast.CreateTrigStmt):
        return [Lock(relation_name(node.relation, state), "SHARE ROW EXCLUSIVE",
                     why="CREATE TRIGGER")]  # fmt: skip
    if isinstance(node, ast.LockStmt):
        # LOCK TABLE's mode is PostgreSQL's lock number: 1 ACCESS SHARE … 8 ACCESS EXCLUSIVE.
        number = int(node.mode or len(MODES))
        mode = MODES[number - 1] if 1 <= number <= len(MODES) else MODES[-1]
        return [Lock(relation_name(r, state), mode, why="LOCK TABLE") for r in node.relations or ()]
    return []


def dropped_indexes(node: ast.DropStmt, state: MigrationState) -> list[str]:
    """The qualified names of the indexes a DROP INDEX names, an unqualified name resolved
    as _index_by_bare_name says."""
    names: list[str] = []
    for obj in node.objects or ():
        schema, name = object_name(obj)
        qualified = state.qualify(schema, name)
        names.append(_index_by_bare_name(qualified, state) if schema is None else qualified)
    return names


def _index_by_bare_name(name: str, state: MigrationState) -> str:
    """An unqualified index name the search_path dbtruth assumes does not reach, when exactly
    one schema has an index of that name: the runner's search_path must reach it (the
    migration's authors named it to drop it), as in a set whose runner sets the path to its
    own schema."""
    if name in state.index_tables:
        return name
    bare = name.rpartition(".")[2]
    found = [known for known in state.index_tables if known.rpartition(".")[2] == bare]
    return found[0] if len(found) == 1 else name


def object_name(obj: Any) -> tuple[str | None, str]:
    """(schema, name) of an object named in DROP: a list of name parts, or a type name."""
    if isinstance(obj, ast.TypeName):  # DROP TYPE names a type, not a relation
        obj = obj.names or ()
    names = [part.sval for part in obj] if isinstance(obj, tuple | list) else [obj.sval]
    return (names[-2] if len(names) > 1 else None), names[-1]


def table_ref(relation: str) -> ObjectRef:
    schema, _, name = relation.partition(".")
    return ObjectRef("table", schema, name)


@cache
def migration_name(file: str) -> str:
    """A migration's name stable across machines: its folder and file name (Prisma and
    friends name every file migration.sql or up.sql; the folder tells them apart)."""
    path = Path(file)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def where(statement: MigrationStatement) -> str:
    """A discriminator stable across machines: the migration and the statement's ordinal."""
    return f"{migration_name(statement.file)}#{statement.index + 1}"


def existing_locks(statement: MigrationStatement, state: MigrationState) -> list[Lock]:
    """The predicted locks on tables that exist and may hold rows (not created in this
    migration, or absent from the target)."""
    locks = predict(statement.node, state, statement.sql)
    return [lock for lock in locks if not state.is_new(lock.relation)]


def sql_name(rangevar: Any) -> str:
    """The relation as written in SQL, quoted where needed: for fixes."""
    from dbtruth.model.sqlnames import ident

    name = ident(rangevar.relname)
    return f"{ident(rangevar.schemaname)}.{name}" if rangevar.schemaname else name


def phase_of(node: Any, state: MigrationState) -> str | None:
    """Where a statement sits in expand → backfill → validate → contract (playbook §3.8), or
    None for statements that change no shape or data (SET, COMMENT, GRANT, BEGIN, …).
    Changes to tables created in the same migration are part of creating them: expand."""
    if isinstance(node, ast.UpdateStmt | ast.DeleteStmt | ast.InsertStmt):
        return "backfill"
    if isinstance(node, ast.DropStmt):
        if node.removeType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW,
                               ObjectType.OBJECT_MATVIEW, ObjectType.OBJECT_TYPE):  # fmt: skip
            names = [state.qualify(*object_name(obj)) for obj in node.objects or ()]
            return "expand" if names and all(state.is_new(n) for n in names) else "contract"
        return "expand"  # dropping an index or a function changes no data contract
    if isinstance(node, ast.RenameStmt) and node.renameType in (
        ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN,
    ):  # fmt: skip
        table = relation_name(node.relation, state) if node.relation is not None else ""
        return "expand" if state.is_new(table) else "contract"
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = relation_name(node.relation, state)
        if state.is_new(table):
            return "expand"
        phases = set()
        for cmd in node.cmds or ():
            subtype = cmd.subtype
            if subtype in (At.AT_DropColumn, At.AT_AlterColumnType, At.AT_DropConstraint,
                           At.AT_DropNotNull, At.AT_ColumnDefault):  # fmt: skip
                # removing or retyping what readers rely on; DROP NOT NULL / DEFAULT change
                # what writers may rely on
                phases.add("contract" if subtype != At.AT_ColumnDefault else "expand")
            elif subtype in (At.AT_ValidateConstraint, At.AT_SetNotNull):
                phases.add("validate")
            else:
                phases.add("expand")
        if "contract" in phases:
            return "contract"
        return "validate" if phases == {"validate"} else "expand"
    if isinstance(node, CreatedTable | ast.IndexStmt | ast.ViewStmt |
                  ast.CreateFunctionStmt | ast.CreateEnumStmt | ast.AlterEnumStmt |
                  ast.CreateTrigStmt | ast.CreateSeqStmt | ast.CreateSchemaStmt):  # fmt: skip
        return "expand"
    return None


def migration_phase(phases: set[str]) -> str:
    """One word for a migration: its single phase, or mixed when it both expands (or
    backfills) and contracts — old code still running cannot survive such a deploy."""
    phases = phases - {"validate"} if len(phases) > 1 else phases
    if not phases:
        return "none"
    if "contract" in phases and phases & {"expand", "backfill"}:
        return "mixed"
    return phases.pop() if len(phases) == 1 else "+".join(sorted(phases))


def altered_existing_table(
    statement: MigrationStatement, state: MigrationState
) -> tuple[str, tuple[Any, ...]] | None:
    """For ALTER TABLE on a table that existed before this migration: the table and its
    subcommands. None for anything else (new tables lock nobody)."""
    node = statement.node
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return None
    table = relation_name(node.relation, state)
    if state.is_new(table):
        return None
    return table, tuple(node.cmds or ())


def added_columns(commands: tuple[Any, ...]) -> Iterator[ast.ColumnDef]:
    """The column definitions of an ALTER TABLE's ADD COLUMN subcommands."""
    for cmd in commands:
        if cmd.subtype == At.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            yield cmd.def_
