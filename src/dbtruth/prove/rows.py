"""Legal rows, made from the catalog: what a probe writes around its one illegal value.

A row of a table gets a value for every column that needs one: NOT NULL columns without a
default, the columns a probe asks for, the values its simple CHECK constraints and partial
predicates call for; identity, serial and defaulted columns are left to PostgreSQL. A foreign
key whose columns must be set gets a parent row first (and so on up), sharing the columns two
references have in common (a tenant_id in both), and reusing a parent that already exists.
Values travel as PostgreSQL text cast to the column's type, so the SQL a probe records is the SQL
anyone can rerun. When a row cannot be made, CannotSynthesize says why; a row PostgreSQL refuses
is reported by the probe with PostgreSQL's own reason.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from psycopg import sql

from dbtruth.model import Catalog, Column, Constraint, Table
from dbtruth.prove import expressions
from dbtruth.prove.expressions import Need, Solution
from dbtruth.prove.model import Step
from dbtruth.prove.runner import CannotSynthesize, ProbeTransaction

Value = str | None  # PostgreSQL's text form; None is NULL
Row = dict[str, Value]

# Parents of parents: deeper than this, the references go round in a cycle.
MAX_DEPTH = 12
# Numbers dbtruth makes start here, clear of what identity columns and serials hand out while
# a probe runs (they start at 1), and still inside a smallint.
FIRST_NUMBER = 10_000
_LENGTH = re.compile(r"\((\d+)\)")
# pg_get_partkeydef of a table partitioned on one plain column, and the first value of a
# partition bound: FOR VALUES FROM ('2022-01-01') TO (…), FOR VALUES IN ('a', 'b').
_PARTITION_KEY = re.compile(r"^(?:RANGE|LIST) \(([a-z_][a-z0-9_$]*)\)$")
_FIRST_BOUND = re.compile(r"FOR VALUES (?:FROM|IN) \(('(?:[^']|'')*'|[^,)]+)")
_PRECISION = re.compile(r"^numeric\((\d+)(?:,(\d+))?\)")
_TEXT_TYPES = ("text", "varchar", "bpchar", "name", "citext")
# Values of a few types without a counter in them; enough for a NOT NULL column.
_CONSTANT_VALUES = {
    "json": "{}",
    "jsonb": "{}",
    "xml": "<p/>",
    "tsvector": "",
    "point": "(0,0)",
    "money": "1",
    "macaddr": "08:00:2b:01:02:03",
    "bit": "1",
    "varbit": "1",
}
# How far "just beyond" a boundary is, per type category: one unit, one day.
_STEP = {"N": "1", "D": "interval '1 day'", "T": "interval '1 second'"}


class RowMaker:
    """Makes and inserts rows for one probe transaction."""

    def __init__(self, tx: ProbeTransaction, catalog: Catalog) -> None:
        self.tx = tx
        self.catalog = catalog
        self.counter = itertools.count(FIRST_NUMBER)
        self._today = datetime.now(UTC).date()
        self._enums: dict[str, list[str]] = {}
        self._partitions: dict[str, Solution] = {}

    # -- rows ------------------------------------------------------------------------------

    def legal(
        self,
        table: Table,
        fixed: Row | None = None,
        needs: Solution | None = None,
        required: frozenset[str] = frozenset(),
        depth: int = 0,
    ) -> Row:
        """Values for a row of `table` that every constraint dbtruth understands allows:
        `fixed` as given, `needs` met, `required` columns not NULL. Parent rows are inserted
        on the way (setup steps)."""
        if depth > MAX_DEPTH:
            raise CannotSynthesize(
                f"the rows {table.qualified} needs reference each other in a cycle of NOT NULL "
                "foreign keys, which no single insert can start"
            )
        values: Row = dict(fixed or {})
        pending: Solution = {c: n for c, n in (needs or {}).items() if c not in values}
        for name, need in self.partition_needs(table).items():
            if name not in values:
                pending.setdefault(name, need)
        for constraint in self._references(table):
            self._reference(table, constraint, values, pending, required, depth)
        for constraint in self.catalog.constraints_of(table):
            if constraint.kind == "check":
                _adopt_check(constraint, values, pending)
        for column in table.columns:
            if column.name in values or column.name in pending or column.generated:
                continue
            has_default = column.default is not None or bool(column.identity)
            # A required column is given a value unless PostgreSQL numbers it: a default such
            # as NULL would leave a key column empty.
            numbered = bool(column.identity) or (column.default or "").startswith("nextval(")
            if (column.name in required and not numbered) or (column.not_null and not has_default):
                pending[column.name] = Need("value")
        return self.resolve(table, values, pending)

    def resolve(self, table: Table, values: Row, needs: Solution) -> Row:
        """`values` with every need turned into a value; relative needs last, since they
        depend on the column they compare with."""
        resolved = dict(values)
        for name, need in needs.items():
            if need.op != "rel":
                resolved[name] = self._value(table, _column(table, name), need)
        for name, need in needs.items():
            if need.op == "rel" and need.other is not None:
                other = _column(table, need.other)
                if resolved.get(other.name) is None:
                    resolved[other.name] = self.fresh(table, other)
                base = resolved[other.name]
                assert base is not None
                column = _column(table, name)
                relation = {"<": "<", ">": ">"}.get(need.relation)
                resolved[name] = self.beyond(table, column, base, relation) if relation else base
        return resolved

    def insert_statement(self, table: Table, values: Row) -> sql.Composed:
        target = sql.Identifier(table.schema, table.name)
        returning = sql.SQL(" RETURNING *, tableoid::oid::text AS {}, ctid::text AS {}").format(
            sql.Identifier(ROW_TABLE), sql.Identifier(ROW_ADDRESS)
        )
        if not values:
            return sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target) + returning
        columns = [_column(table, name) for name in values]
        overriding = any(c.identity == "always" for c in columns)
        return (
            sql.SQL("INSERT INTO {} ({}){} VALUES ({})").format(
                target,
                sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
                sql.SQL(" OVERRIDING SYSTEM VALUE") if overriding else sql.SQL(""),
                sql.SQL(", ").join(typed(values[c.name], c) for c in columns),
            )
            + returning
        )

    def insert(self, table: Table, values: Row, purpose: str) -> Step:
        return self.tx.run(self.insert_statement(table, values), purpose)

    def setup(self, table: Table, values: Row, what: str) -> Row:
        """Insert a row the probe builds on; a refusal ends the probe, saying why."""
        step = self.insert(table, values, "setup")
        if not step.accepted:
            raise CannotSynthesize(
                f"{what}: PostgreSQL refused the row dbtruth made for {table.qualified} "
                f"({step.sqlstate} {step.constraint or step.column or ''}: {step.message})"
            )
        return dict(step.row or ())

    def _references(self, table: Table) -> list[Constraint]:
        """The table's foreign keys, and for a partitioned table those its partitions declare
        on their own (a row lands in one of them and meets its references)."""
        found = [c for c in self.catalog.constraints_of(table) if c.kind == "foreign key"]
        if table.kind == "partitioned table":
            seen = {(c.columns, c.ref_qualified) for c in found}
            for partition in self.catalog.tables:
                if partition.partition_of != table.qualified:
                    continue
                for fk in self.catalog.constraints_of(partition):
                    key = (fk.columns, fk.ref_qualified)
                    if fk.kind == "foreign key" and not fk.inherited and key not in seen:
                        seen.add(key)
                        found.append(fk)
        return found

    def partition_needs(self, table: Table) -> Solution:
        """For a partitioned table, its key's value at the start of its first partition: a row
        with a value no partition takes is refused before any constraint is checked."""
        if table.kind != "partitioned table" and table.partition_of is None:
            return {}
        if table.qualified not in self._partitions:
            self._partitions[table.qualified] = self._first_bound(table)
        return self._partitions[table.qualified]

    def _first_bound(self, table: Table) -> Solution:
        # A partitioned table's key and its first partition's bound; a partition's own bound.
        bound = (
            "(SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = p.oid"
            " AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT' ORDER BY c.relname LIMIT 1)"
        )
        key = "pg_get_partkeydef(p.oid)"
        if table.partition_of is not None:
            bound = "pg_get_expr(p.relpartbound, p.oid)"
            key = "pg_get_partkeydef((SELECT inhparent FROM pg_inherits WHERE inhrelid = p.oid))"
        rows = self.tx.read(
            sql.SQL(
                "SELECT " + key + ", " + bound + " FROM pg_class p"
                " JOIN pg_namespace n ON n.oid = p.relnamespace"
                " WHERE n.nspname = {} AND p.relname = {}"
            ).format(sql.Literal(table.schema), sql.Literal(table.name))
        )
        if not rows or rows[0][0] is None or rows[0][1] is None:
            return {}
        key, bound = rows[0][0], rows[0][1]
        column = _PARTITION_KEY.match(key)
        value = _FIRST_BOUND.search(bound)
        if column is None or value is None or table.column(column.group(1)) is None:
            return {}  # an expression key, several columns, or hash partitions
        text = value.group(1)
        if text.upper() in ("MINVALUE", "MAXVALUE"):
            return {}
        if text.startswith("'"):
            text = text[1:-1].replace("''", "'")
        return {column.group(1): Need("=", (text,))}

    # -- references ------------------------------------------------------------------------

    def _reference(
        self,
        table: Table,
        fk: Constraint,
        values: Row,
        pending: Solution,
        required: frozenset[str],
        depth: int,
    ) -> None:
        given = {c: values[c] for c in fk.columns if c in values}
        if any(v is None for v in given.values()):
            return  # MATCH SIMPLE: a NULL column leaves the reference unchecked
        # A column asked only to hold some value (a predicate's IS NOT NULL) takes its parent's.
        wanted = [c for c in fk.columns if c in pending and pending[c].op == "value"]
        unset = [c for c in fk.columns if c not in values and (c not in pending or c in wanted)]
        if not unset and len(given) < len(fk.columns):
            return  # the probe's own needs set these columns
        must = (
            bool(given)
            or bool(wanted)
            or any(c in required or _column(table, c).not_null for c in unset)
        )
        if not must:
            return
        mapping = dict(zip(fk.columns, fk.ref_columns, strict=False))
        parent_values = self.parent(fk, {mapping[c]: v for c, v in given.items()}, depth)
        for column in unset:
            values[column] = parent_values.get(mapping[column])
            pending.pop(column, None)

    def parent(self, fk: Constraint, key: Row, depth: int) -> Row:
        """A row of the table `fk` references holding `key`: an existing one, else a new one."""
        parent = self.catalog.table(fk.ref_qualified or "")
        if parent is None:
            raise CannotSynthesize(
                f"{fk.name} references {fk.ref_qualified}, which is not a table dbtruth can see"
            )
        if key and len(key) == len(fk.ref_columns):
            condition = sql.SQL(" AND ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), typed(v, _column(parent, c)))
                for c, v in key.items()
            )
            found = self.tx.read(
                sql.SQL("SELECT 1 FROM {} WHERE {} LIMIT 1").format(
                    sql.Identifier(parent.schema, parent.name), condition
                )
            )
            if found:
                return dict(key)
        values = self.legal(parent, key, required=frozenset(fk.ref_columns), depth=depth + 1)
        return self.setup(parent, values, f"the parent row {fk.name} needs")

    # -- values ----------------------------------------------------------------------------

    def _value(self, table: Table, column: Column, need: Need) -> Value:
        if need.op == "null":
            return None
        if need.op == "=":
            return need.constants[0]
        if need.op in ("<", ">"):
            return self.beyond(table, column, need.constants[0], need.op)
        if need.op == "<>":
            # A value the column's own CHECK lists, when one is left: the row stays legal.
            for allowed in _listed(self.catalog, table, column.name):
                if allowed not in need.constants:
                    return allowed
            return self.outside(table, column, need.constants)
        return self.fresh(table, column)

    def fresh(self, table: Table, column: Column) -> str:
        """A new value of the column's type, different from the ones made before."""
        n = next(self.counter)
        name, category = column.type_name, column.type_category
        if column.is_enum:
            labels = self.enum_labels(column)
            if not labels:
                raise CannotSynthesize(f"{table.qualified}.{column.name}: its enum has no labels")
            return labels[n % len(labels)]
        if category == "A":
            return "{}"
        if category == "B":
            return "true"
        if category == "N" and name != "money":
            return _number(n, column.type)
        if name in _TEXT_TYPES:
            return _short_text(n, column.type)
        if name == "uuid":
            return f"00000000-0000-4000-8000-{n:012d}"
        if name == "bytea":
            return f"\\x{n:08x}"
        if name in ("inet", "cidr"):
            return f"192.0.2.{n % 250 + 1}"
        if category == "D":
            return self._moment(name, n - FIRST_NUMBER)
        if category == "T":
            return f"{n} seconds"
        if category == "R":
            return "empty"
        if name in _CONSTANT_VALUES:
            return _CONSTANT_VALUES[name]
        raise CannotSynthesize(
            f"{table.qualified}.{column.name} needs a value of type {column.type}, and dbtruth "
            "cannot make values of that type"
        )

    def _moment(self, name: str, n: int) -> str:
        day: date = self._today
        if name == "date":
            return (day + timedelta(days=n)).isoformat()
        if name in ("time", "timetz"):
            return f"12:{n // 60 % 60:02d}:{n % 60:02d}"
        moment = datetime(day.year, day.month, day.day) + timedelta(seconds=n)
        return moment.isoformat(sep=" ") + ("+00" if name == "timestamptz" else "")

    def beyond(self, table: Table, column: Column, value: str, direction: str | None) -> str:
        """A value just below ('<') or just above ('>') `value` in the column's type."""
        if direction is None:
            return value
        if column.type_name in _TEXT_TYPES:
            if direction == ">":
                return value + "z"
            if value:
                return value[:-1]
            raise CannotSynthesize(f"no text sorts below '' for {table.qualified}.{column.name}")
        step = _STEP.get(column.type_category)
        if step is None:
            raise CannotSynthesize(
                f"dbtruth cannot compute a value just {'below' if direction == '<' else 'above'} "
                f"{value} for {table.qualified}.{column.name} ({column.type})"
            )
        operator = sql.SQL("-" if direction == "<" else "+")
        query = sql.SQL("SELECT (({}) {} {})::{}::text").format(
            typed(value, column), operator, sql.SQL(step), sql.SQL(column.type)
        )
        try:
            rows = self.tx.read(query)
        except Exception as exc:  # psycopg.Error: out of range, a domain's CHECK
            raise CannotSynthesize(
                f"no value of {column.type} lies just beyond {value} for "
                f"{table.qualified}.{column.name}: {str(exc).strip().splitlines()[0]}"
            ) from exc
        result = rows[0][0] if rows else None
        if result is None:
            raise CannotSynthesize(f"no value lies just beyond {value} in {column.type}")
        return result

    def outside(self, table: Table, column: Column, constants: tuple[str, ...]) -> str:
        """A value of the column's type that is none of `constants`."""
        if column.type_category == "B":
            if "true" in constants and "false" in constants:
                raise CannotSynthesize(f"{table.qualified}.{column.name}: every boolean is listed")
            return "false" if "true" in constants else "true"
        if column.is_enum:
            left = [label for label in self.enum_labels(column) if label not in constants]
            if not left:
                raise CannotSynthesize(
                    f"{table.qualified}.{column.name}: every label of its enum is allowed"
                )
            return left[0]
        if column.type_category == "N":
            try:
                return str(max(Decimal(c) for c in constants) + 1)
            except InvalidOperation as exc:
                raise CannotSynthesize(f"not numbers: {', '.join(constants)}") from exc
        if column.type_category in ("D", "T"):
            return self.beyond(table, column, max(constants), ">")
        for _ in range(len(constants) + 1):
            candidate = self.fresh(table, column)
            if candidate not in constants:
                return candidate
        raise CannotSynthesize(f"every value dbtruth made for {column.name} is listed")

    def enum_labels(self, column: Column) -> list[str]:
        if column.type not in self._enums:
            rows = self.tx.read(
                sql.SQL("SELECT unnest(enum_range(NULL::{}))::text").format(sql.SQL(column.type))
            )
            self._enums[column.type] = [r[0] for r in rows if r[0] is not None]
        return self._enums[column.type]


# Extra columns every insert returns, to find the row again for UPDATE and DELETE.
ROW_TABLE = "dbtruth:tableoid"
ROW_ADDRESS = "dbtruth:ctid"


def shown(row: tuple[tuple[str, str | None], ...] | None) -> tuple[tuple[str, str | None], ...]:
    """A returned row without the columns dbtruth added to find it again."""
    return tuple((k, v) for k, v in row or () if k not in (ROW_TABLE, ROW_ADDRESS))


def typed(value: Value, column: Column) -> sql.Composable:
    if value is None:
        return sql.SQL("NULL")
    # format_type() wrote the type, quoting what needs quoting; it is SQL as PostgreSQL reads it.
    return sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(column.type))


def _column(table: Table, name: str) -> Column:
    column = table.column(name)
    if column is None:
        raise CannotSynthesize(f"{table.qualified} has no column {name}")
    return column


def _number(n: int, type_text: str) -> str:
    """`n`, or as much of it as numeric(p, s) holds left of its point (numeric(5,2): 999)."""
    limits = _PRECISION.search(type_text)
    if limits is None:
        return str(n)
    digits = int(limits.group(1)) - int(limits.group(2) or 0)
    return str(n % 10**digits) if digits > 0 else "0"


def _short_text(n: int, type_text: str) -> str:
    value = f"p{n}"
    limit = _LENGTH.search(type_text)
    if limit is None or len(value) <= int(limit.group(1)):
        return value
    width = int(limit.group(1))
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n and len(out) < width:
        n, rest = divmod(n, len(digits))
        out = digits[rest] + out
    return out[-width:] or "p"


def _listed(catalog: Catalog, table: Table, column: str) -> list[str]:
    """Values a CHECK of the table lists for `column` (`column IN (...)`)."""
    listed: list[str] = []
    for constraint in catalog.constraints_of(table):
        if constraint.kind == "check":
            expr = expressions.parse(constraint.definition)
            if isinstance(expr, expressions.Atom) and expr.column == column and expr.op == "in":
                listed += expr.constants
    return listed


def _adopt_check(constraint: Constraint, values: Row, pending: Solution) -> None:
    """Take the needs of the first way to satisfy a CHECK that agrees with what is set."""
    expr = expressions.parse(constraint.definition)
    if not expressions.understood(expr):
        return  # the control write shows whether the row passes it anyway
    for solution in expressions.solutions(expr, True):
        if all(_agrees(values.get(c, ""), pending.get(c), n) for c, n in solution.items()):
            for column, need in solution.items():
                asked = pending.get(column)
                if column not in values and (asked is None or asked.op == "value"):
                    pending[column] = need
            return


def _agrees(value: Value, pending: Need | None, need: Need) -> bool:
    """Whether a column already set (or already asked for) fits `need`; "" means unset."""
    if pending is not None:
        return pending == need or (pending.op == "value" and need.op != "null")
    if value == "":
        return True
    if need.op == "null":
        return value is None
    if need.op == "=":
        return value == need.constants[0]
    return value is not None
