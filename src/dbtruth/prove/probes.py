"""The probes: for each plan, the illegal write, the legal write beside it, and the verdict.

Every illegal write is preceded by a control: the same row with a legal value, which must be
accepted (and is rolled back). The two differ only in the value under test, so a refusal of the
illegal one is the invariant's doing, and a control that is refused shows a row dbtruth could
not make legal, which is reported rather than read as a proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from dbtruth.model import Catalog, Constraint, Table
from dbtruth.prove import expressions, overlap
from dbtruth.prove.model import Probe, Status, Step
from dbtruth.prove.plans import (
    AppendOnly,
    NonOverlap,
    NotNull,
    Plan,
    Range,
    Reference,
    Transitions,
    Unique,
    Unprovable,
)
from dbtruth.prove.rows import FIRST_NUMBER, ROW_ADDRESS, ROW_TABLE, Row, RowMaker
from dbtruth.prove.runner import CannotSynthesize, ProbeTransaction, refused_on_purpose

# Ways out of a predicate tried for the row that must be accepted beside a partial index.
_OUTSIDE_TRIES = 4


@dataclass(frozen=True, slots=True)
class Expected:
    """The refusal that proves the invariant; what is None matches anything."""

    sqlstate: str | None = None
    constraints: tuple[str, ...] = ()  # any of these; empty: any
    column: str | None = None

    def matches(self, step: Step) -> bool:
        return (
            refused_on_purpose(step)
            and self.sqlstate in (None, step.sqlstate)
            and (not self.constraints or step.constraint in self.constraints)
            and self.column in (None, step.column)
        )

    def __str__(self) -> str:
        parts = [self.sqlstate or "any refusal"]
        if self.constraints:
            parts.append(f"by {' or '.join(self.constraints)}")
        if self.column:
            parts.append(f"on column {self.column}")
        return "refused (" + " ".join(parts) + ")"


def observed(step: Step) -> str:
    if step.accepted:
        return "accepted"
    named = step.constraint or (f"column {step.column}" if step.column else "")
    return f"refused ({step.sqlstate}{' by ' + named if named else ''}): {step.message}"


def judge(name: str, expected: Expected, step: Step, steps: list[Step]) -> Probe:
    """The verdict on one illegal write."""
    if step.accepted:
        return Probe(name, Status.UNENFORCED, str(expected), "accepted", tuple(steps))
    if expected.matches(step):
        return Probe(name, Status.PROVEN, str(expected), observed(step), tuple(steps))
    if refused_on_purpose(step):
        reason = (
            f"refused by {step.constraint or step.column or step.sqlstate} rather than as "
            f"expected ({step.message}): the probe's row broke another rule first"
        )
    else:
        reason = f"PostgreSQL answered {step.sqlstate}: {step.message}"
    return Probe(name, Status.NOT_PROVABLE, str(expected), observed(step), tuple(steps), reason)


class Prober:
    """Runs the probes of one plan inside one probe transaction."""

    def __init__(self, tx: ProbeTransaction, catalog: Catalog) -> None:
        self.tx = tx
        self.rows = RowMaker(tx, catalog)

    def probes(self, plan: Plan) -> list[Probe]:
        if isinstance(plan, Unprovable):
            return []
        if isinstance(plan, NotNull):
            return [self.not_null(plan)]
        if isinstance(plan, Reference):
            return [self.reference(plan)]
        if isinstance(plan, Unique):
            return self.unique(plan)
        if isinstance(plan, Range):
            return self.range(plan)
        if isinstance(plan, NonOverlap):
            return self.non_overlap(plan)
        if isinstance(plan, Transitions):
            return self.transitions(plan)
        return self.append_only(plan)

    def _control(self, table: Table, values: Row, what: str) -> Row:
        """The legal twin of the illegal write: accepted, then rolled back; the row it wrote."""
        with self.tx.undone():
            step = self.rows.insert(table, values, "control")
        if not step.accepted:
            raise CannotSynthesize(
                f"the legal row beside {what} was refused ({step.sqlstate} "
                f"{step.constraint or step.column or ''}: {step.message}), so a refusal of the "
                "illegal one would prove nothing"
            )
        return dict(step.row or ())

    def _partition_of(self, control: Row) -> Table | None:
        """The partition the control row landed in."""
        oid = control.get(ROW_TABLE)
        found = self.tx.read(
            sql.SQL(
                "SELECT n.nspname, c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = {}::oid"
            ).format(sql.Literal(oid))
        )
        if not found or found[0][0] is None or found[0][1] is None:
            return None
        return self.rows.catalog.table(f"{found[0][0]}.{found[0][1]}")

    def not_null(self, plan: NotNull) -> Probe:
        table, column = plan.table, plan.column
        name = f"NULL into {table.qualified}.{column}"
        if (found := table.column(column)) is not None and found.generated:
            raise CannotSynthesize(f"{table.qualified}.{column} is generated: no write sets it")
        values = self.rows.legal(table, required=frozenset({column}))
        control = self._control(table, values, name)
        step = self.rows.insert(table, {**values, column: None}, "probe")
        expected = Expected("23502", column=column) if plan.declared_not_null else Expected()
        if step.sqlstate == "23514" and step.constraint is None and table.partition_of is None:
            # A NULL partition key finds no partition before NOT NULL is checked; written
            # into the partition the legal row went to, it meets the NOT NULL itself.
            partition = self._partition_of(control)
            if partition is not None and partition.qualified != table.qualified:
                step = self.rows.insert(partition, {**values, column: None}, "probe")
        stored = dict(step.row or ()).get(column) if step.accepted else None
        if stored is not None:
            # A BEFORE trigger put a value in place of the NULL (a search vector, a default
            # computed in code): the row PostgreSQL stored is legal.
            observed = f"accepted, stored with {column} = {stored}: a trigger replaced the NULL"
            return Probe(name, Status.PROVEN, str(expected), observed, tuple(self.tx.steps))
        return judge(name, expected, step, self.tx.steps)

    def reference(self, plan: Reference) -> Probe:
        table, fk = plan.table, plan.constraint
        name = f"a row of {table.qualified} referencing no {fk.ref_qualified} ({fk.name})"
        values = self.rows.legal(table, required=frozenset(fk.columns))
        self._control(table, values, name)
        # Change only the columns no other reference shares, so that the orphan breaks this
        # reference alone (a tenant_id in two composite keys stays valid).
        shared = {
            c
            for other in self.rows.catalog.constraints_of(table)
            if other.kind == "foreign key" and other.name != fk.name
            for c in other.columns
        }
        own = [c for c in fk.columns if c not in shared]
        # Every column shared: the orphan breaks the other references too, and whichever
        # PostgreSQL checks first refuses it; any of them proves no orphan gets in.
        expected = Expected("23503", (fk.name,)) if own else Expected("23503")
        own = own or list(fk.columns)
        orphan = dict(values)
        for column_name in own:
            column = table.column(column_name)
            if column is None:
                raise CannotSynthesize(f"{table.qualified} has no column {column_name}")
            orphan[column_name] = self.rows.fresh(table, column)
        step = self.rows.insert(table, orphan, "probe")
        return judge(name, expected, step, self.tx.steps)

    def unique(self, plan: Unique) -> list[Probe]:
        table = plan.table
        key = ", ".join(plan.columns)
        where = f" where {plan.predicate}" if plan.predicate else ""
        name = f"two rows of {table.qualified} with the same ({key}){where}"
        if plan.expression_keys:
            raise CannotSynthesize(
                f"the key holds expressions ({', '.join(plan.expression_keys)}): dbtruth does "
                "not yet make rows with equal expression keys"
            )
        predicate = expressions.parse(plan.predicate) if plan.predicate else None
        if predicate is not None and not expressions.understood(predicate):
            raise CannotSynthesize(f"predicate shape not understood: {_cut(plan.predicate)}")
        inside = expressions.solutions(predicate, True)[:1] if predicate else [{}]
        if not inside:
            raise CannotSynthesize(f"no row can satisfy the predicate {plan.predicate}")
        needs = {c: n for c, n in inside[0].items() if c not in plan.columns}
        first = self.rows.setup(
            table,
            self.rows.legal(table, needs=needs, required=frozenset(plan.columns)),
            f"the first row of {name}",
        )
        same = {c: first.get(c) for c in plan.columns}
        if any(v is None for v in same.values()):
            raise CannotSynthesize(f"a key column of the first row of {name} stayed NULL")
        second = self.rows.legal(table, fixed=same, needs=needs)
        step = self.rows.insert(table, second, "probe")
        expected = Expected("23505", _refusing_indexes(self.rows.catalog, plan))
        probes = [judge(name, expected, step, self.tx.steps)]
        # Beside a partial index, a row with the same key outside the predicate is legal,
        # unless the key is unique on every row anyway (another index refused the duplicate),
        # or the only way out of the predicate is a key column (a NULL key is never compared).
        ways_out = [
            way
            for way in (expressions.solutions(predicate, False) if predicate is not None else [])
            if not any(c in plan.columns for c in way)
        ]
        refused_by_own = plan.index is None or step.constraint == plan.index.name
        if ways_out and refused_by_own:
            probes.append(self._outside(plan, ways_out, same))
        return probes

    def _outside(self, plan: Unique, ways: list[expressions.Solution], same: Row) -> Probe:
        """Beside a partial index, a row with the same key outside the predicate is legal."""
        table = plan.table
        name = f"a row of {table.qualified} with the same key outside {plan.predicate}"
        start = len(self.tx.steps)
        last: Step | None = None
        for way in ways[:_OUTSIDE_TRIES]:
            try:
                values = self.rows.legal(table, fixed=same, needs=way)
            except CannotSynthesize:
                continue
            last = self.rows.insert(table, values, "probe")
            if last.accepted:
                steps = tuple(self.tx.steps[start:])
                return Probe(name, Status.PROVEN, "accepted", "accepted", steps)
        if last is None:
            return Probe(
                name,
                Status.NOT_PROVABLE,
                "accepted",
                "not run",
                (),
                f"no row outside {plan.predicate} could be made",
            )
        return Probe(
            name,
            Status.NOT_PROVABLE,
            "accepted",
            observed(last),
            tuple(self.tx.steps[start:]),
            "every row dbtruth made outside the predicate was refused",
        )

    def range(self, plan: Range) -> list[Probe]:
        table, check = plan.table, plan.constraint
        expr = expressions.parse(check.definition)
        if not expressions.understood(expr):
            raise CannotSynthesize(f"CHECK shape not understood: {_cut(check.definition)}")
        inside = expressions.solutions(expr, True)
        outside = expressions.solutions(expr, False)
        if not inside or not outside:
            raise CannotSynthesize(
                f"no row can {'pass' if not inside else 'fail'} {check.definition}"
            )
        probes: list[Probe] = []
        for way in outside[:2]:  # BETWEEN: just below and just above
            touched = set(way) | {n.other for n in way.values() if n.other}
            name = f"{check.definition} broken by {_describe(way)} in {table.qualified}"
            start = len(self.tx.steps)
            try:
                legal = self.rows.legal(table, needs=inside[0])
                self._control(table, legal, name)
                kept = {c: v for c, v in legal.items() if c not in touched}
                illegal = self.rows.resolve(table, kept, way)
            except CannotSynthesize as exc:
                probes.append(
                    Probe(
                        name,
                        Status.NOT_PROVABLE,
                        "refused",
                        "not run",
                        tuple(self.tx.steps[start:]),
                        str(exc),
                    )
                )
                continue
            step = self.rows.insert(table, illegal, "probe")
            expected = Expected("23514", _refusing_checks(self.rows.catalog, table, check, touched))
            probes.append(judge(name, expected, step, self.tx.steps[start:]))
        return probes

    def non_overlap(self, plan: NonOverlap) -> list[Probe]:
        """The first row's period [p0, p10); beside it, equal in the columns compared WITH =,
        a row over [p5, p15) must be refused by the constraint, and one over [p10, p20) —
        adjacent, for half-open periods — accepted (it is also the illegal row's control)."""
        table, period = plan.table, plan.period
        inside: expressions.Solution = {}
        if plan.predicate is not None:
            predicate = expressions.parse(plan.predicate)
            ways = (
                expressions.solutions(predicate, True) if expressions.understood(predicate) else []
            )
            if not ways:
                raise CannotSynthesize(f"predicate shape not understood: {_cut(plan.predicate)}")
            inside = ways[0]
        points = overlap.Points(period.element_type, next(self.rows.counter) - FIRST_NUMBER)
        equal = ", ".join(plan.equal)
        shown = overlap.describe(period)
        name = (
            f"two rows of {table.qualified} with the same ({equal}) and overlapping {shown}"
            if plan.equal
            else f"two rows of {table.qualified} with overlapping {shown}"
        )
        first = self.rows.setup(
            table,
            self.rows.legal(
                table,
                fixed=overlap.period_values(period, points, 0, 10),
                needs=inside,
                required=frozenset(plan.equal),
            ),
            f"the first row of {name}",
        )
        same = {c: first.get(c) for c in plan.equal}
        if any(v is None for v in same.values()):
            raise CannotSynthesize(
                f"a column compared WITH = stayed NULL in the first row of {name}"
            )
        adjacent = overlap.adjacent_disjoint(period)
        after = (10, 20) if adjacent else (30, 40)
        beside = self.rows.legal(
            table, fixed={**same, **overlap.period_values(period, points, *after)}, needs=inside
        )
        start = len(self.tx.steps)
        with self.tx.undone():
            control = self.rows.insert(table, beside, "control")
        control_name = (
            f"a row of {table.qualified} whose {shown} starts where the first one's ends"
            if adjacent
            else f"a row of {table.qualified} whose {shown} is apart from the first one's"
        )
        legal = Probe(
            control_name,
            Status.PROVEN if control.accepted else Status.NOT_PROVABLE,
            "accepted",
            observed(control),
            tuple(self.tx.steps[start:]),
            None
            if control.accepted
            else "the legal row beside the first was refused, so a refusal of the overlapping "
            "one would prove nothing",
        )
        if not control.accepted:
            return [legal]
        illegal = self.rows.legal(
            table, fixed={**same, **overlap.period_values(period, points, 5, 15)}, needs=inside
        )
        step = self.rows.insert(table, illegal, "probe")
        expected = Expected("23P01", (plan.constraint.name,))
        return [judge(name, expected, step, self.tx.steps), legal]

    def transitions(self, plan: Transitions) -> list[Probe]:
        """From a row in each declared state: every move to a state it may not reach must be
        refused, and a move to one it may reach accepted (the control: a guard that refuses
        every change would refuse the illegal ones too). Parent rows for every state are made
        first, so that no foreign key on the state column is what refuses."""
        table, column = plan.table, plan.column
        allowed = dict(plan.allowed)
        states = sorted({*allowed, *(t for to in allowed.values() for t in to)})
        for fk in self.rows.catalog.constraints_of(table):
            if fk.kind == "foreign key" and fk.columns == (column,):
                for state in states:
                    self.rows.parent(fk, {fk.ref_columns[0]: state}, 0)
        target = sql.Identifier(table.schema, table.name)
        probes: list[Probe] = []
        for state, reachable in plan.allowed:
            row = self.rows.setup(
                table, self.rows.legal(table, fixed={column: state}), f"a row in state {state}"
            )
            where = sql.SQL("tableoid = {}::oid AND ctid = {}::tid").format(
                sql.Literal(row.get(ROW_TABLE)), sql.Literal(row.get(ROW_ADDRESS))
            )
            for to in [s for s in states if s != state]:
                legal = to in reachable
                name = f"{table.qualified}.{column}: {state} -> {to}" + (
                    "" if legal else f" (not among {state}'s: {', '.join(reachable) or 'none'})"
                )
                start = len(self.tx.steps)
                statement = sql.SQL("UPDATE {} SET {} = {} WHERE {} RETURNING *").format(
                    target, sql.Identifier(column), sql.Literal(to), where
                )
                with self.tx.undone():
                    step = self.tx.run(statement, "control" if legal else "probe")
                steps = tuple(self.tx.steps[start:])
                if legal:
                    probes.append(
                        Probe(
                            name,
                            Status.PROVEN if step.accepted else Status.NOT_PROVABLE,
                            "accepted",
                            observed(step),
                            steps,
                            None
                            if step.accepted
                            else "a move the declaration allows was refused: the refusals "
                            "of the others may not be the state machine's doing",
                        )
                    )
                else:
                    probes.append(judge(name, Expected(), step, list(steps)))
        if not any(p.status is not Status.PROVEN or "not among" in p.name for p in probes):
            raise CannotSynthesize("every state may move to every other: nothing is illegal")
        return probes

    def append_only(self, plan: AppendOnly) -> list[Probe]:
        table = plan.table
        row = self.rows.setup(
            table, self.rows.legal(table), f"the row to change in {table.qualified}"
        )
        where = sql.SQL("tableoid = {}::oid AND ctid = {}::tid").format(
            sql.Literal(row.get(ROW_TABLE)), sql.Literal(row.get(ROW_ADDRESS))
        )
        setup = list(self.tx.steps)
        probes = []
        for event in plan.events:
            start = len(self.tx.steps)
            with self.tx.undone():  # the next event meets the row as it was inserted
                if plan.role:
                    probes.append(self._as_role(plan, event, where, setup, start))
                    continue
                step = self.tx.run(_change(table, event, plan.columns, where), "probe")
            steps = [*setup, *self.tx.steps[start:]]
            name = _change_name(table, event, None)
            if step.accepted and step.row is None and event != "truncate":
                probes.append(
                    Probe(
                        name,
                        Status.NOT_PROVABLE,
                        "refused",
                        "no row changed",
                        tuple(steps),
                        "the row dbtruth inserted was not found again",
                    )
                )
                continue
            probe = judge(name, Expected(), step, steps)
            if plan.guessed and probe.status is Status.UNENFORCED:
                reason = (
                    "the trigger let this write through: it may guard some rows only; declare "
                    "the invariant in dbtruth.yaml to hold the table to it"
                )
                probe = Probe(name, Status.NOT_PROVABLE, probe.expected, probe.observed,
                              probe.steps, reason)  # fmt: skip
            probes.append(probe)
        return probes

    def _as_role(
        self, plan: AppendOnly, event: str, where: sql.Composable, setup: list[Step], start: int
    ) -> Probe:
        """The write tried as the application role (`enforcement: privilege`). First a
        statement that needs the privilege and nothing else (`WHERE false`: no row read, no
        value stored), so that a refusal for want of it is told apart from one for want of
        SELECT or from a row's own rules; then, where the role holds it, the write of the row
        itself, which shows what it changed or what refused it."""
        table, role = plan.table, plan.role or ""
        name = _change_name(table, event, role)
        expected = f"refused (42501: {role} lacks {event.upper()} on {table.qualified})"
        self.tx.act_as(role)
        nothing = sql.SQL("false")
        step = self.tx.run(_change(table, event, plan.columns, nothing, returning=False), "probe")
        if not step.accepted and step.sqlstate == "42501" and not refused_on_purpose(step):
            return Probe(name, Status.PROVEN, expected, observed(step),
                         (*setup, *self.tx.steps[start:]))  # fmt: skip
        if step.accepted and event != "truncate":
            step = self.tx.run(_change(table, event, plan.columns, where), "probe")
        steps = (*setup, *self.tx.steps[start:])
        if refused_on_purpose(step):  # the role holds the privilege; a guard refused the row
            return Probe(name, Status.PROVEN, expected, observed(step), steps)
        if step.accepted or step.sqlstate == "42501":
            verb = event.upper()
            if step.sqlstate == "42501":  # RETURNING and WHERE read the row: SELECT is lacking
                aside = f"; without SELECT it cannot pick a row, but may {verb} them all"
            elif step.row is None and event != "truncate" and not table.rls_enabled:
                why = "it changed no row and no row-level security hides one: a trigger may skip it"
                return Probe(name, Status.NOT_PROVABLE, expected, "accepted", steps, why)
            elif step.row is None and event != "truncate":
                aside = "; row-level security hid dbtruth's row, not the rows its policies show"
            else:
                aside = ""
            held = f"accepted: {role} holds {verb} on {table.qualified}{aside}"
            return Probe(name, Status.UNENFORCED, expected, held, steps)
        return judge(name, Expected(), step, list(steps))


def _change(
    table: Table,
    event: str,
    columns: tuple[str, ...],
    where: sql.Composable,
    returning: bool = True,
) -> sql.Composed:
    """The UPDATE, DELETE or TRUNCATE an append-only table must refuse."""
    target = sql.Identifier(table.schema, table.name)
    if event == "truncate":
        # CASCADE: what a key from another table would otherwise refuse is no guard, since
        # anyone who may truncate may cascade.
        return sql.SQL("TRUNCATE {} CASCADE").format(target)
    tail = sql.SQL(" RETURNING *" if returning else "")
    if event == "delete":
        return sql.SQL("DELETE FROM {} WHERE {}{}").format(target, where, tail)
    column = sql.Identifier(_updatable(table, columns))
    # Without RETURNING the value is DEFAULT, which reads no column: the privilege probe needs
    # UPDATE alone, not SELECT as well.
    value = column if returning else sql.SQL("DEFAULT")
    return sql.SQL("UPDATE {} SET {} = {} WHERE {}{}").format(target, column, value, where, tail)


def _change_name(table: Table, event: str, role: str | None) -> str:
    who = f" as {role}" if role else ""
    if event == "truncate":
        return f"TRUNCATE of {table.qualified}{who}"
    return f"{event.upper()} of a row of {table.qualified}{who}"


def _refusing_checks(
    catalog: Catalog, table: Table, check: Constraint, touched: set[str]
) -> tuple[str, ...]:
    """The CHECK under test, and any other CHECK of the table on only the columns the probe
    changed: the illegal row differs from its accepted twin in those columns alone, so either
    refusing it shows the value cannot be stored (PostgreSQL checks them in name order)."""
    names = [check.name]
    for other in catalog.constraints_of(table):
        if other.kind != "check" or other.name == check.name:
            continue
        expr = expressions.parse(other.definition)
        if expressions.understood(expr) and expressions.columns(expr) <= touched:
            names.append(other.name)
    return tuple(names)


def _refusing_indexes(catalog: Catalog, plan: Unique) -> tuple[str, ...]:
    """The unique indexes whose refusal proves the plan's key unique: its own, the indexes a
    partitioned table's index has on the partitions, and any unique index on fewer of the key's
    columns (a key holding the primary key is unique through it). Empty when the plan names no
    index: any refusal proves it."""
    if plan.index is None:
        return ()
    key = set(plan.columns)
    tables = {plan.table.qualified} | {
        t.qualified for t in catalog.tables if t.partition_of == plan.table.qualified
    }
    names = [plan.index.name]
    for index in catalog.indexes:
        if index.table_qualified not in tables or not index.unique or index.name in names:
            continue
        same_keys = index.keys == plan.index.keys and index.predicate == plan.index.predicate
        narrower = all(index.key_is_column) and set(index.keys) <= key and not index.predicate
        if same_keys or narrower:
            names.append(index.name)
    return tuple(names)


def _cut(text: str | None, limit: int = 300) -> str:
    """Schema text quoted in a reason, cut where it runs long (the JSON keeps the object)."""
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"


def _updatable(table: Table, columns: tuple[str, ...]) -> str:
    for column in table.columns:
        wanted = column.name in columns or not columns
        if wanted and not column.generated and column.identity != "always":
            return column.name
    raise CannotSynthesize(f"{table.qualified} has no column an UPDATE may set")


def _describe(way: expressions.Solution) -> str:
    parts = []
    for column, need in way.items():
        if need.op == "rel":
            parts.append(f"{column} {need.relation} {need.other}")
        elif need.op == "<>":
            parts.append(f"{column} outside ({', '.join(need.constants)})")
        elif need.op in ("<", ">"):
            parts.append(
                f"{column} just {'below' if need.op == '<' else 'above'} {need.constants[0]}"
            )
        elif need.op == "null":
            parts.append(f"{column} NULL")
        else:
            parts.append(f"{column} = {', '.join(need.constants) or 'a value'}")
    return " and ".join(parts)
