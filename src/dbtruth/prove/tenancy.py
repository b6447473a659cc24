"""Tenant isolation, proven: acting as tenant A, try to read, change, delete, write into and
reference a row of tenant B, table by table, and read it through every view over a tenant
table.

Who acts: the application role dbtruth.yaml names (`tenancy.role`, a role the SQL files
create), or else the owner of the tables, as an application connecting as the owner would.
How a session becomes tenant A: the setting the policies read (`tenancy.setting`, or the one
`current_setting('…')` in the policies names). Tenant B's row is made by dbtruth as the
owner, in B's name, with the parents it needs; then the role switches to A and every attempt
runs in its own savepoint of one transaction that is rolled back.

A write PostgreSQL refuses (a policy's WITH CHECK, a composite foreign key, a missing
privilege) and a read that finds nothing prove the boundary; a read that finds B's row, a
change or delete that reaches it, a row written in B's name or a reference to B's row from A's
are leaks, shown with the SQL that made them. Each proof first checks that tenant B itself
sees its row (the control): where it does not, the probe says so instead of proving anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.model import Catalog, Column, Constraint, Table, View
from dbtruth.prove.derive import probed_tables
from dbtruth.prove.model import Probe, Proof, Status, Step, Subject
from dbtruth.prove.rows import ROW_ADDRESS, ROW_TABLE, Row, RowMaker, typed
from dbtruth.prove.runner import CannotSynthesize, ProbeTransaction, proof_of
from dbtruth.rules.naming import tenant_key
from dbtruth.rules.tenancy import Tenancy
from dbtruth.spec import Settings

_SETTING = re.compile(r"current_setting\(\s*'([^']+)'", re.IGNORECASE)
KIND = "tenant isolation"


@dataclass(frozen=True, slots=True)
class Acting:
    """Who the probes act as, and how a session names its tenant; each with the reason."""

    role: str | None  # SET ROLE to this; None: the owner's own session
    role_why: str
    setting: str | None  # the setting the policies read; None: they read none
    setting_why: str


def acting(catalog: Catalog, role: str | None, setting: str | None) -> Acting:
    if role:
        role_why = f"the application role dbtruth.yaml names (tenancy.role: {role})"
    else:
        role_why = (
            "the owner of the tables: dbtruth.yaml names no application role (tenancy.role), "
            "so the probes act as an application connecting as the owner"
        )
    if setting:
        return Acting(role, role_why, setting, "dbtruth.yaml names it (tenancy.setting)")
    read = Counter(
        name
        for policy in catalog.policies
        for text in (policy.using, policy.with_check)
        if text
        for name in _SETTING.findall(text)
    )
    if read:
        name, uses = read.most_common(1)[0]
        return Acting(role, role_why, name, f"the policies read it ({uses} times)")
    return Acting(role, role_why, None, "no policy reads a session setting")


def tenant_tables(catalog: Catalog, settings: Settings) -> list[tuple[Table, Column]]:
    """The tables rows of which belong to one tenant: a tenant key, not exempt, and not the
    tenant registry itself (what tenant keys point at)."""
    roots = Tenancy(catalog, settings).roots
    found = []
    for table in probed_tables(catalog):
        key = tenant_key(table, settings)
        if key is not None and table.qualified not in roots:
            found.append((table, key))
    return found


def isolation_proofs(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    tables: list[tuple[Table, Column]],
    who: Acting,
    timeout: str,
    declared: bool,
) -> list[Proof]:
    """One proof per tenant table (`tenant_tables`), and one per view over a tenant table; a
    single one where no table enables row-level security."""
    keys = {table.qualified: key for table, key in tables}
    source = "dbtruth.yaml" if declared else "catalog"
    if not any(table.rls_enabled for table, _ in tables):
        # No table enables row-level security: the boundary is the application's everywhere,
        # one fact shown once, on the table most keys point at (its references leak too).
        table, key = max(tables, key=lambda t: (len(catalog.foreign_keys_to(t[0])), t[0].name))
        subject = Subject(
            id="tenant-isolation",
            statement=f"tenant A can neither read, change, delete, write into nor reference "
            f"tenant B's rows; no table enables row-level security, so it is shown on "
            f"{table.qualified} and holds alike for all {len(tables)} tenant tables",
            kind=KIND,
            source=source,
            table=table.qualified,
        )
        probes = partial(_table_probes, catalog=catalog, who=who, table=table, key=key, keys=keys)
        return [proof_of(conn, subject, timeout, probes)]
    proofs = [
        proof_of(conn, _table_subject(table, source), timeout,
                 partial(_table_probes, catalog=catalog, who=who, table=table, key=key,
                         keys=keys))
        for table, key in tables
    ]  # fmt: skip
    for view in catalog.views:
        bases = [(catalog.table(d), keys[d]) for d in view.depends_on if d in keys]
        read = [(t, k) for t, k in bases if t is not None]
        if read and not view.materialized:
            proofs.append(
                proof_of(conn, _view_subject(view, source), timeout,
                         partial(_view_probes, catalog=catalog, who=who, view=view, bases=read))
            )  # fmt: skip
    return proofs


def _table_subject(table: Table, source: str) -> Subject:
    return Subject(
        id=f"tenant-isolation:{table.qualified}",
        statement=f"tenant A can neither read, change, delete, write into nor reference tenant "
        f"B's rows of {table.qualified}",
        kind=KIND,
        source=source,
        table=table.qualified,
    )


def _view_subject(view: View, source: str) -> Subject:
    return Subject(
        id=f"tenant-isolation:{view.qualified}",
        statement=f"tenant A reads none of tenant B's rows through the view {view.qualified}",
        kind=KIND,
        source=source,
        table=view.qualified,
    )


# -- acting as a tenant ------------------------------------------------------------------------


class _Session:
    """Switches one probe transaction between the owner and the role, and between tenants."""

    def __init__(self, tx: ProbeTransaction, who: Acting) -> None:
        self.tx = tx
        self.who = who

    def owner(self, tenant: str | None) -> None:
        self.tx.conn.execute("RESET ROLE")
        self._tenant(tenant)

    def role(self, tenant: str | None) -> None:
        self._tenant(tenant)
        if self.who.role:
            self.tx.act_as(self.who.role)

    def _tenant(self, tenant: str | None) -> None:
        if self.who.setting is not None and tenant is not None:
            self.tx.conn.execute("SELECT set_config(%s, %s, true)", (self.who.setting, tenant))


def _tenants(maker: RowMaker, catalog: Catalog, table: Table, key: Column) -> tuple[str, str]:
    """Two tenants: rows of the tenant registry the key points at, or two fresh values."""
    for fk in catalog.constraints_of(table):
        if fk.kind == "foreign key" and fk.columns == (key.name,):
            registry = catalog.table(fk.ref_qualified or "")
            if registry is None:
                break
            made = [
                maker.setup(registry, maker.legal(registry), "a tenant for the probe")
                for _ in range(2)
            ]
            values = [row.get(fk.ref_columns[0]) for row in made]
            if all(v is not None for v in values):
                return str(values[0]), str(values[1])
    return maker.fresh(table, key), maker.fresh(table, key)


def _where(table: Table, catalog: Catalog, row: Row) -> sql.Composed:
    """The condition that finds `row` again: its primary key, else its physical address."""
    primary = next((c for c in catalog.constraints_of(table) if c.kind == "primary key"), None)
    if primary is not None and all(row.get(c) is not None for c in primary.columns):
        return sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), typed(row[c], _column(table, c)))
            for c in primary.columns
        )
    return sql.SQL("tableoid = {}::oid AND ctid = {}::tid").format(
        sql.Literal(row.get(ROW_TABLE)), sql.Literal(row.get(ROW_ADDRESS))
    )


def _column(table: Table, name: str) -> Column:
    column = table.column(name)
    if column is None:
        raise CannotSynthesize(f"{table.qualified} has no column {name}")
    return column


def _visible(
    tx: ProbeTransaction, target: sql.Composable, where: sql.Composable, purpose: str = "probe"
) -> Step:
    return tx.run(
        sql.SQL("SELECT count(*) AS visible FROM {} WHERE {}").format(target, where), purpose
    )


def _count(step: Step) -> int:
    value = dict(step.row or ()).get("visible")
    return int(value) if value is not None else 0


def _control(tx: ProbeTransaction, session: _Session, tenant: str, target: sql.Composable,
             where: sql.Composable, what: str) -> Probe | None:  # fmt: skip
    """Tenant B reads its own row as the role. None when it does; else the probe that says
    why nothing can be proven."""
    session.role(tenant)
    step = _visible(tx, target, where, "control")
    if step.accepted and _count(step) > 0:
        return None
    if not step.accepted:
        observed = f"refused ({step.sqlstate}: {step.message})"
        reason = f"the role cannot read {what} at all, its own tenant's rows included"
    else:
        observed = "tenant B sees none of its own rows"
        reason = (
            f"tenant B does not see the row dbtruth made for it through {what}: a view's own "
            "conditions exclude it, no policy admits it (row-level security without a policy "
            "hides every row from everyone), or the policies read something other than the "
            "tenant setting"
        )
    return Probe("tenant B reads its own row", Status.NOT_PROVABLE, "visible", observed,
                 (step,), reason)  # fmt: skip


def _leak_or_not(name: str, step: Step, leaked: bool, leak: str) -> Probe:
    if not step.accepted:
        return Probe(name, Status.PROVEN, "refused, or nothing found",
                     f"refused ({step.sqlstate}: {step.message})", (step,))  # fmt: skip
    if leaked:
        return Probe(name, Status.UNENFORCED, "refused, or nothing found", leak, (step,))
    return Probe(name, Status.PROVEN, "refused, or nothing found", "nothing found", (step,))


def _table_probes(tx: ProbeTransaction, catalog: Catalog, who: Acting, table: Table,
                  key: Column, keys: dict[str, Column]) -> Iterator[Probe]:  # fmt: skip
    maker = RowMaker(tx, catalog)
    session = _Session(tx, who)
    session.owner(None)
    tenant_a, tenant_b = _tenants(maker, catalog, table, key)
    # Tenant B's row, made by the owner in B's name (a forced policy checks it against B).
    session.owner(tenant_b)
    row_b = maker.setup(table, maker.legal(table, {key.name: tenant_b}), "tenant B's row")
    # What A will try to write in B's name and into A's own rows, prepared while allowed.
    into_b = maker.legal(table, {key.name: tenant_b})
    referencing = list(_referencing(catalog, table, keys))
    session.owner(tenant_a)
    references = [(fk, child, _reference_row(maker, child, child_key, fk, tenant_a, row_b))
                  for fk, child, child_key in referencing]  # fmt: skip
    target = sql.Identifier(table.schema, table.name)
    where = _where(table, catalog, row_b)
    failed = _control(tx, session, tenant_b, target, where, table.qualified)
    if failed is not None:
        yield failed
        return
    session.role(tenant_a)
    step = _visible(tx, target, where)
    yield _leak_or_not(
        "tenant A reads tenant B's row",
        step,
        _count(step) > 0,
        f"tenant B's row is visible{_why_visible(catalog, table, who)}",
    )
    with tx.undone():
        step = tx.run(
            sql.SQL("UPDATE {} SET {} = {} WHERE {} RETURNING 1 AS changed").format(
                target, sql.Identifier(key.name), sql.Identifier(key.name), where
            ),
            "probe",
        )
    yield _leak_or_not("tenant A changes tenant B's row", step, step.row is not None,
                       "the UPDATE reached tenant B's row")  # fmt: skip
    with tx.undone():
        step = tx.run(
            sql.SQL("DELETE FROM {} WHERE {} RETURNING 1 AS deleted").format(target, where),
            "probe",
        )
    yield _leak_or_not("tenant A deletes tenant B's row", step, step.row is not None,
                       "the DELETE removed tenant B's row")  # fmt: skip
    with tx.undone():
        step = maker.insert(table, into_b, "probe")
    yield _leak_or_not("tenant A writes a row in tenant B's name", step, step.accepted,
                       "the row was written in tenant B's name")  # fmt: skip
    for fk, child, values in references:
        name = f"tenant A's {child.qualified} references tenant B's row ({fk.name})"
        if values is None:
            continue
        with tx.undone():
            step = maker.insert(child, values, "probe")
        bypass = (
            " without the policies (foreign keys bypass row-level security)"
            if table.rls_enabled
            else ""
        )
        yield _leak_or_not(
            name, step, step.accepted,
            f"accepted: {fk.name} checks the reference{bypass}, and only a key that carries "
            "the tenant refuses it",
        )  # fmt: skip


def _why_visible(catalog: Catalog, table: Table, who: Acting) -> str:
    if not table.rls_enabled:
        return ": row-level security is not enabled on the table"
    if who.role is None and not table.rls_forced:
        return ": the probes act as the owner, and the owner bypasses policies RLS does not force"
    if not catalog.policies_of(table):
        return ""
    return ": a policy admits it"


def _referencing(
    catalog: Catalog, table: Table, keys: dict[str, Column]
) -> Iterator[tuple[Constraint, Table, Column]]:
    """Foreign keys from tenant tables (other than the tenant key itself) into `table`."""
    for fk in catalog.foreign_keys_to(table):
        child = catalog.table(fk.table_qualified)
        child_key = keys.get(fk.table_qualified)
        if child is None or child_key is None or fk.columns == (child_key.name,):
            continue
        yield fk, child, child_key


def _reference_row(maker: RowMaker, child: Table, child_key: Column, fk: Constraint,
                   tenant_a: str, row_b: Row) -> Row | None:  # fmt: skip
    """A row of tenant A's `child` whose reference names tenant B's row, the tenant column of
    a composite key kept as A's. None when no such row can be made."""
    try:
        values = maker.legal(child, {child_key.name: tenant_a})
    except CannotSynthesize:
        return None
    for column, referenced in zip(fk.columns, fk.ref_columns, strict=False):
        if column != child_key.name:
            values[column] = row_b.get(referenced)
    return values


def _view_probes(tx: ProbeTransaction, catalog: Catalog, who: Acting, view: View,
                 bases: list[tuple[Table, Column]]) -> Iterator[Probe]:  # fmt: skip
    maker = RowMaker(tx, catalog)
    session = _Session(tx, who)
    session.owner(None)
    table, key = bases[0]
    tenant_a, tenant_b = _tenants(maker, catalog, table, key)
    session.owner(tenant_b)
    for base, base_key in bases:
        maker.setup(base, maker.legal(base, {base_key.name: tenant_b}), "tenant B's row")
    target = sql.Identifier(view.schema, view.name)
    everything = sql.SQL("true")
    failed = _control(tx, session, tenant_b, target, everything, f"the view {view.qualified}")
    if failed is not None:
        yield failed
        return
    session.role(tenant_a)
    step = _visible(tx, target, everything)
    why = (
        ": the view runs with its owner's rights (no security_invoker), and its owner is not "
        "held to the policies"
        if not view.security_invoker
        else ""
    )
    yield _leak_or_not("tenant A reads tenant B's rows through the view", step,
                       _count(step) > 0, f"tenant B's rows are visible{why}")  # fmt: skip


def bypass_notes(conn: psycopg.Connection[Any], catalog: Catalog, who: Acting) -> list[str]:
    """Paths around the policies dbtruth names without probing them."""
    notes = []
    definers = [
        f.signature
        for f in catalog.functions
        if f.security_definer and catalog.extension_of(f.schema, f"{f.name}({f.arguments})") is None
    ]
    if definers:
        shown = ", ".join(definers[:5]) + (" …" if len(definers) > 5 else "")
        notes.append(
            f"not probed: {len(definers)} SECURITY DEFINER function(s) run with their owner's "
            f"rights whoever calls them, policies included unless the owner is held to them: "
            f"{shown}"
        )
    if who.role:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (who.role,)
        ).fetchone()
        if row and (row[0] or row[1]):
            notes.append(
                f"the application role {who.role} has "
                f"{'SUPERUSER' if row[0] else 'BYPASSRLS'}: no policy applies to it"
            )
    return notes
