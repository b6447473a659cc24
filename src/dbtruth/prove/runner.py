"""One probe's transaction: every statement in a savepoint of its own, its answer recorded, and
everything rolled back at the end, so the clone is as empty after a probe as before it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.prove.model import Probe, Proof, Status, Step, Subject, verdict
from dbtruth.sources.watchdog import cancel_after, seconds

# SQLSTATE classes of a database refusing a write on purpose: integrity constraint violations
# (23), a trigger's RAISE (P0), triggered action and triggered data change exceptions (09, 27).
# Anything else (a timeout, a privilege, a syntax error) says nothing about the invariant.
REFUSAL_CLASSES = ("23", "P0", "09", "27")


class CannotSynthesize(Exception):
    """The rows a probe needs cannot be made; the message says why."""


def refused_on_purpose(step: Step) -> bool:
    """A refusal by a constraint, or raised by the schema's own code (a guard trigger may
    raise any SQLSTATE: Supabase Storage's says 42501, insufficient privilege)."""
    if step.accepted:
        return False
    raised = step.context is not None and "at RAISE" in step.context
    return raised or (step.sqlstate or "")[:2] in REFUSAL_CLASSES


class ProbeTransaction:
    """A transaction on the clone in which one probe runs; `steps` is what it ran."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.steps: list[Step] = []
        self._names = itertools.count(1)

    def run(self, statement: sql.Composable, purpose: str) -> Step:
        """Run `statement` in a savepoint: refused, it leaves the transaction usable."""
        text = statement.as_string(self.conn)
        with self.savepoint() as name:
            try:
                cur = self.conn.execute(text.encode())
            except psycopg.Error as exc:
                self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(name))
                diag = exc.diag
                step = Step(
                    purpose,
                    text,
                    accepted=False,
                    sqlstate=diag.sqlstate,
                    constraint=diag.constraint_name,
                    column=diag.column_name,
                    message=diag.message_primary or str(exc).strip().splitlines()[0],
                    context=diag.context,
                )
            else:
                step = Step(purpose, text, accepted=True, row=_returned_row(cur))
        self.steps.append(step)
        return step

    def read(self, query: sql.Composed) -> list[tuple[str | None, ...]]:
        """Rows of a lookup dbtruth makes for itself (not part of the probe), as text."""
        with self.savepoint() as name:
            try:
                cur = self.conn.execute(query)
            except psycopg.Error:
                # Leave the transaction usable for the rest of the probe, then tell the caller.
                self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(name))
                raise
            result = cur.pgresult
            if result is None:
                return []
            return [
                tuple(_text(result.get_value(r, c)) for c in range(result.nfields))
                for r in range(result.ntuples)
            ]

    @contextmanager
    def savepoint(self) -> Iterator[sql.Identifier]:
        name = sql.Identifier(f"dbtruth_{next(self._names)}")
        self.conn.execute(sql.SQL("SAVEPOINT {}").format(name))
        yield name

    def act_as(self, role: str) -> None:
        """The rest of the transaction (or of the savepoint it runs in) acts as `role`, the
        application role dbtruth.yaml names; CannotSynthesize when there is no such role."""
        step = self.run(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)), "setup")
        if not step.accepted:
            raise CannotSynthesize(
                f"cannot act as the application role {role}: {step.message} (the SQL files "
                "must create it; a live target's roles are not copied)"
            )

    @contextmanager
    def undone(self) -> Iterator[None]:
        """Whatever runs inside is rolled back when it is done (a control write)."""
        with self.savepoint() as name:
            try:
                yield
            finally:
                self.conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(name))


@contextmanager
def probe_transaction(
    conn: psycopg.Connection[Any], statement_timeout: str
) -> Iterator[ProbeTransaction]:
    """A transaction that is always rolled back. Deferrable constraints are checked at once:
    at COMMIT they would refuse, but a probe never commits.

    The schema's triggers run inside it, and its code may reset statement_timeout (any role
    may): a watchdog on dbtruth's side cancels whatever still runs when the probe has had
    WATCHDOG_STATEMENTS statements' worth of time."""
    budget = WATCHDOG_STATEMENTS * seconds(statement_timeout)
    conn.execute("BEGIN")
    try:
        with cancel_after(conn, budget):
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (statement_timeout,))
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            yield ProbeTransaction(conn)
    finally:
        if not conn.closed:
            conn.execute("ROLLBACK")


def proof_of(
    conn: psycopg.Connection[Any],
    subject: Subject,
    timeout: str,
    probes: Callable[[ProbeTransaction], Iterable[Probe]],
) -> Proof:
    """The proof of `subject` from the probes `probes` runs in one rolled-back transaction.
    Rows that cannot be made, or a lookup PostgreSQL refuses, make it not provable, saying
    why; a lost connection is not the invariant's doing and ends the run."""
    try:
        with probe_transaction(conn, timeout) as tx:
            try:
                found = tuple(probes(tx))
            except CannotSynthesize as exc:
                return Proof(subject, Status.NOT_PROVABLE, reason=str(exc))
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:  # a lookup of dbtruth's own failed: say so, go on
        message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
        return Proof(subject, Status.NOT_PROVABLE, reason=f"PostgreSQL refused a lookup: {message}")
    if not found:
        return Proof(subject, Status.NOT_PROVABLE, reason="no probe could be made")
    return Proof(subject, verdict(found), found)


# A probe runs a few statements, a few dozen with a deep chain of parent rows.
WATCHDOG_STATEMENTS = 20


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def _returned_row(cur: psycopg.Cursor[Any]) -> tuple[tuple[str, str | None], ...] | None:
    """The first row a RETURNING clause gave, every value in PostgreSQL's text form."""
    result = cur.pgresult
    if result is None or result.ntuples == 0:
        return None
    return tuple(
        (_text(result.fname(c)) or "?", _text(result.get_value(0, c)))
        for c in range(result.nfields)
    )
