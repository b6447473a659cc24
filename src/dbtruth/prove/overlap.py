"""Non-overlap: what an exclusion constraint compares, read from its definition, and the periods
a probe writes.

`EXCLUDE USING gist (tenant_id WITH =, room_id WITH =, tstzrange(starts_at, ends_at) WITH &&)`
promises that two rows equal in the `=` columns never have overlapping periods. dbtruth probes
the shape most schemas use: columns compared with `=`, and one period compared with `&&` — a
range column, or a range built from two columns by its constructor (`tstzrange(a, b)`,
`daterange(a, b, '[)')`), on every row or, for a partial constraint, on the rows its WHERE
keeps (the rows are made to satisfy it). Three periods are written: the first row's
[p0, p10), an overlapping [p5, p15) that must be refused, and an adjacent [p10, p20) that
half-open periods accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from dbtruth.model import Constraint, Table
from dbtruth.prove.plans import NonOverlap, Period, Unprovable

# Range constructors and the type of their bounds (tsrange's are timestamps, and so on).
RANGE_ELEMENT = {
    "tstzrange": "timestamptz",
    "tsrange": "timestamp",
    "daterange": "date",
    "int4range": "int4",
    "int8range": "int8",
    "numrange": "numeric",
}


def exclusion_plan(table: Table, constraint: Constraint) -> NonOverlap | Unprovable:
    """The plan for an exclusion constraint, or why dbtruth does not probe its shape."""
    try:
        stmt = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {constraint.definition}")[0].stmt
    except (ParseError, IndexError):
        return Unprovable(f"the definition of {constraint.name} could not be read")
    if not isinstance(stmt, ast.AlterTableStmt) or not stmt.cmds:
        return Unprovable(f"the definition of {constraint.name} could not be read")
    definition = stmt.cmds[0].def_
    if not isinstance(definition, ast.Constraint) or not definition.exclusions:
        return Unprovable(f"{constraint.name} is not an exclusion constraint dbtruth can read")
    predicate = RawStream()(definition.where_clause) if definition.where_clause else None
    equal: list[str] = []
    periods: list[Period] = []
    for element, operators in definition.exclusions:
        operator = operators[-1].sval if operators else ""
        if operator == "=" and element.name:
            equal.append(element.name)
        elif operator == "&&":
            period = _period(table, element)
            if isinstance(period, Unprovable):
                return period
            periods.append(period)
        else:
            return Unprovable(
                f"{constraint.name} compares an element WITH {operator}: dbtruth probes "
                "columns compared WITH = beside one period compared WITH &&"
            )
    if len(periods) != 1:
        return Unprovable(
            f"{constraint.name} compares {len(periods)} periods WITH &&: dbtruth probes one"
        )
    return NonOverlap(table, constraint, tuple(equal), periods[0], predicate)


def _period(table: Table, element: ast.IndexElem) -> Period | Unprovable:
    if element.name:
        column = table.column(element.name)
        if column is None or column.type_name not in RANGE_ELEMENT:
            return Unprovable(f"{element.name} is not a range column dbtruth can fill")
        return Period(column=column.name, element_type=RANGE_ELEMENT[column.type_name])
    call = element.expr
    if not isinstance(call, ast.FuncCall) or not call.args or not call.funcname:
        return Unprovable("the period is an expression other than a range constructor")
    function = str(call.funcname[-1].sval)
    args = list(call.args)
    columns = [_column_name(a) for a in args[:2]]
    bounds = "[)"
    if len(args) == 3:
        given = args[2]
        if isinstance(given, ast.TypeCast):  # pg_get_constraintdef writes '[]'::text
            given = given.arg
        if not isinstance(given, ast.A_Const) or not isinstance(given.val, ast.String):
            return Unprovable("the period's bounds are not a constant")
        bounds = str(given.val.sval)
    if function not in RANGE_ELEMENT or len(args) not in (2, 3) or None in columns:
        return Unprovable(f"the period {function}(…) is not a range constructor over two columns")
    start, end = columns
    assert start is not None and end is not None
    if table.column(start) is None or table.column(end) is None:
        return Unprovable(f"{table.qualified} has no column {start} or {end}")
    return Period(
        start=start, end=end, function=function, bounds=bounds,
        element_type=RANGE_ELEMENT[function],
    )  # fmt: skip


def _column_name(node: ast.Node) -> str | None:
    if isinstance(node, ast.ColumnRef) and node.fields and len(node.fields) == 1:
        field = node.fields[0]
        return field.sval if isinstance(field, ast.String) else None
    return None


@dataclass(frozen=True, slots=True)
class Points:
    """Points along a period's axis (days, or hundreds for numbers), as PostgreSQL text."""

    element_type: str
    base: int  # distinct per probe, so two probes' rows never meet

    def at(self, offset: int) -> str:
        if self.element_type == "date":
            return (_day() + timedelta(days=self.base + offset)).isoformat()
        if self.element_type in ("timestamp", "timestamptz"):
            moment = datetime.combine(_day(), datetime.min.time()) + timedelta(
                days=self.base + offset
            )
            return moment.isoformat(sep=" ") + ("+00" if self.element_type == "timestamptz" else "")
        return str(self.base * 100 + offset)


def period_values(period: Period, points: Points, start: int, end: int) -> dict[str, str | None]:
    """The column values that make the row's period [start, end) (offsets along `points`)."""
    low, high = points.at(start), points.at(end)
    if period.column is not None:
        return {period.column: f'["{low}","{high}")'}
    assert period.start is not None and period.end is not None
    return {period.start: low, period.end: high}


def adjacent_disjoint(period: Period) -> bool:
    """Whether periods that meet at a point do not overlap: half-open bounds."""
    return period.column is not None or period.bounds in ("[)", "(]")


def describe(period: Period) -> str:
    if period.column is not None:
        return period.column
    return f"{period.function}({period.start}, {period.end})"


def _day() -> date:
    return datetime.now(UTC).date()
