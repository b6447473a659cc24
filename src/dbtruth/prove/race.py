"""Race probes: two sessions run an invariant's write path at once, in every interleaving of
their steps, on fresh copies of the throwaway schema; the invariant holds when no interleaving
leaves a row its check finds.

The sessions are driven step by step the way PostgreSQL's isolation tester drives them: a step
is sent, and the controller waits until it has finished or is waiting for a lock the other
session holds (pg_blocking_pids). A session waiting for a lock cannot take its next step, so
the other session's next steps run first; the order that really ran is what is recorded. A
step PostgreSQL refuses (a unique violation, a serialization failure) ends its session's
transaction: that is the database keeping the invariant, and the session rolls back.

Each interleaving runs on its own copy (CREATE DATABASE … TEMPLATE), since the sessions commit.
A broken interleaving is reported with the steps as they ran, a script anyone can replay in two
psql sessions, and the anomaly it shows in Adya's terms (as Hermitage names them), read from
the statements: sessions that inserted after reading a predicate show G2 (write skew over a
predicate, a phantom); sessions that updated show a lost update (P4) or write skew (G2-item).
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import parse_sql
from pglast.parser import ParseError

from dbtruth.manifest.design import Race
from dbtruth.prove.model import Probe, Status, Step
from dbtruth.sources.watchdog import cancel_after
from dbtruth.words import counted

# How long a step may run before the controller asks whether it waits for a lock.
_POLL_S = 0.02
# Interleavings tried at most: two sessions of n steps each have C(2n, n).
MAX_INTERLEAVINGS = 70
_SESSIONS = ("A", "B")
_WAITED = "waited for a lock the other session held"
# The transaction a session's first step opens, left out where the step is quoted.
_BEGIN = re.compile(r"^BEGIN ISOLATION LEVEL [A-Z ]+;\s*")
# query_canceled: a statement ended by statement_timeout or by dbtruth's deadline.
_CANCELLED = "57014"
# The setup and the check are each one string of statements from dbtruth.yaml; PostgreSQL
# ends any one of them after the probe timeout, dbtruth the whole after this many.
_WATCHDOG_TIMEOUTS = 4


@dataclass
class _Session:
    name: str
    conn: psycopg.Connection[Any]
    steps: list[str]
    done: int = 0
    busy: str | None = None  # the step in flight
    failed: Step | None = None  # the step PostgreSQL refused; the rest are skipped
    at: int = 0  # where the step in flight is recorded in the run
    waited: bool = False  # the step in flight waited for a lock the other session held


@dataclass
class Run:
    """One interleaving as it ran: the steps in order, and the rows the check found after."""

    planned: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    violations: int = 0
    shown: list[str] = field(default_factory=list)  # a few violating rows, as text
    error: str | None = None  # setup or check failed: the run proves nothing

    @property
    def switches(self) -> int:
        order = [s.purpose for s in self.steps if s.purpose.startswith("session")]
        return sum(1 for a, b in itertools.pairwise(order) if a != b)


def interleavings(steps: int) -> list[tuple[str, ...]]:
    """Every order of two sessions' `steps` steps each, serial ones first, then by the number
    of switches between the sessions (fewest first): the first broken one is the minimal.
    dbtruth.yaml allows at most six steps and COMMIT (3,432 orders to sort)."""
    orders = []
    for chosen in itertools.combinations(range(2 * steps), steps):
        order = tuple("A" if i in chosen else "B" for i in range(2 * steps))
        orders.append(order)
    return sorted(orders, key=lambda o: (sum(1 for a, b in itertools.pairwise(o) if a != b), o))


def session_steps(race: Race, session: int) -> list[str]:
    """The statements one session sends: BEGIN with the isolation level before the first,
    COMMIT as the last step (a failed session sends ROLLBACK instead)."""
    steps = [s.replace("$session", str(session)) for s in race.steps]
    steps[0] = f"BEGIN ISOLATION LEVEL {race.isolation.upper()}; {steps[0]}"
    return [*steps, "COMMIT"]


def race_probe(
    fork: Callable[[], AbstractContextManager[str]],
    race: Race,
    check: str,
    timeout_s: float,
) -> Probe:
    """The race probe of one invariant: every interleaving of two sessions (up to
    MAX_INTERLEAVINGS), each on a fresh copy."""
    name = (
        f"two sessions run the write path at once at {race.isolation.upper()}, "
        "in every interleaving of their steps"
    )
    orders = interleavings(len(race.steps) + 1)[:MAX_INTERLEAVINGS]
    runs: list[Run] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for order in orders:
        with fork() as conninfo:
            run = _run(conninfo, race, check, order, timeout_s)
        timed_out = next((s for s in run.steps if s.sqlstate == _CANCELLED), None)
        if run.error is None and timed_out is not None:
            # A step cut short says nothing of the invariant, and every other order would
            # wait as long again.
            step = _BEGIN.sub("", timed_out.sql)
            run.error = f"a step ran out of time ({step[:80]}): {timed_out.message}"
        if run.error is not None:
            return Probe(name, Status.NOT_PROVABLE, "no rows break it", "not run",
                         tuple(run.steps), run.error, race=True)  # fmt: skip
        ran = tuple((s.purpose, s.sql) for s in run.steps if s.purpose.startswith("session"))
        if ran in seen:
            continue  # a lock made it run as an order already tried
        seen.add(ran)
        runs.append(run)
    broken = [r for r in runs if r.violations]
    if broken:
        worst = min(broken, key=lambda r: r.switches)
        serial = worst.switches <= 1
        anomaly = _anomaly(race)
        observed = (
            f"{counted(worst.violations, 'row')} break it after "
            + ("the sessions ran one after the other: the write path breaks it without any race"
               if serial else
               f"this interleaving ({_order(worst)}; {len(broken)} of {len(runs)} broke it): "
               f"{anomaly}")
            + (f"; first: {worst.shown[0]}" if worst.shown else "")
        )  # fmt: skip
        return Probe(
            name, Status.UNENFORCED, "no rows break it", observed, tuple(worst.steps), race=True
        )
    refused = sorted({s.sqlstate or "" for r in runs for s in r.steps if not s.accepted})
    waits = [r for r in runs if any((s.message or "").startswith(_WAITED) for s in r.steps)]
    held = (
        f"no rows break it in any of the {len(runs)} interleavings"
        + (f"; a session waited for the other's lock in {len(waits)}" if waits else "")
        + (f"; a session was refused ({', '.join(refused)}) where the two met" if refused else "")
    )
    # The most telling run to show: one where a lock made a session wait, else one where a
    # session was refused.
    shown = next(
        iter(waits), next((r for r in runs if any(not s.accepted for s in r.steps)), runs[-1])
    )
    return Probe(name, Status.PROVEN, "no rows break it", held, tuple(shown.steps), race=True)


def _order(run: Run) -> str:
    return " ".join(s.purpose.removeprefix("session ") for s in run.steps
                    if s.purpose.startswith("session"))  # fmt: skip


def _anomaly(race: Race) -> str:
    """The anomaly the broken interleaving shows, named from the statements (a reading of the
    write path, not of the server)."""
    kinds = set()
    for statement in race.steps:
        try:
            parsed = parse_sql(statement.replace("$session", "1"))
        except ParseError:
            continue
        kinds |= {type(raw.stmt).__name__ for raw in parsed}
    if "UpdateStmt" in kinds:
        return (
            "a lost update (P4) or write skew (G2-item): each session wrote from what it read "
            f"before the other's write committed, which {race.isolation.upper()} allows"
        )
    if "InsertStmt" in kinds:
        return (
            "G2, write skew over a predicate (a phantom): each session's check missed the "
            f"row the other inserted, which {race.isolation.upper()} allows"
        )
    return f"a race {race.isolation.upper()} allows"


def _run(conninfo: str, race: Race, check: str, order: tuple[str, ...], timeout_s: float) -> Run:
    run = Run(order)
    # The setup and the check come from dbtruth.yaml and may lift statement_timeout: bounded
    # from dbtruth's side, as the probes are.
    budget = timeout_s * _WATCHDOG_TIMEOUTS
    with psycopg.connect(conninfo, autocommit=True) as control:
        _bound(control, timeout_s)
        if race.setup:
            try:
                with cancel_after(control, budget):
                    control.execute(race.setup.encode())
            except psycopg.Error as exc:
                run.error = f"the race's setup failed: {_message(exc)}"
                return run
            run.steps.append(Step("setup", race.setup, True))
        with _sessions(conninfo, race, timeout_s) as sessions:
            _drive(control, sessions, order, run, timeout_s)
        try:
            with cancel_after(control, budget):
                cursor = control.execute(check.encode())
                rows = cursor.fetchall()
        except psycopg.Error as exc:
            run.error = f"the race's check failed: {_message(exc)}"
            return run
        run.steps.append(Step("check", check, True, message=f"{counted(len(rows), 'row')}"))
        run.violations = len(rows)
        names = [c.name for c in cursor.description or ()]
        run.shown = [
            ", ".join(f"{n} = {v}" for n, v in zip(names, row, strict=False)) for row in rows[:3]
        ]
    return run


@contextmanager
def _sessions(conninfo: str, race: Race, timeout_s: float) -> Iterator[dict[str, _Session]]:
    """The two sessions, closed after the run (also when the second cannot connect)."""
    with ExitStack() as stack:
        yield {
            name: _Session(
                name,
                _bound(stack.enter_context(psycopg.connect(conninfo, autocommit=True)), timeout_s),
                session_steps(race, number),
            )
            for number, name in enumerate(_SESSIONS, start=1)
        }


def _bound(conn: psycopg.Connection[Any], timeout_s: float) -> psycopg.Connection[Any]:
    """statement_timeout on a connection that runs SQL from dbtruth.yaml: PostgreSQL ends a
    statement that runs too long; dbtruth's watchdog, one that lifted the limit."""
    conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{timeout_s * 1000:.0f}",))
    return conn


def _drive(
    control: psycopg.Connection[Any],
    sessions: dict[str, _Session],
    order: tuple[str, ...],
    run: Run,
    timeout_s: float,
) -> None:
    """Send the steps in `order`; a session waiting for a lock lets the other go ahead."""
    queue = list(order)
    deadline = time.monotonic() + timeout_s * (len(order) + 1)
    while True:
        _collect(sessions, run)
        if deadline == math.inf:  # steps were cancelled past the deadline: send no more
            if not any(s.busy for s in sessions.values()):
                return
            _wait(control, sessions, deadline)
            continue
        ready = next((i for i, name in enumerate(queue) if sessions[name].busy is None), None)
        if ready is None:
            if not any(s.busy for s in sessions.values()):
                return
            deadline = _wait(control, sessions, deadline)
            continue
        session = sessions[queue.pop(ready)]
        statement = session.steps[session.done]
        session.done += 1
        if session.failed is not None:  # its transaction is over: only end it
            if statement != "COMMIT":
                continue
            statement = "ROLLBACK"
        session.busy, session.waited, session.at = statement, False, len(run.steps)
        # Recorded when sent, so the run reads in the order the steps started; the outcome
        # replaces this when the step has finished.
        run.steps.append(Step(f"session {session.name}", statement, True, message="running"))
        session.conn.pgconn.send_query(statement.encode())
        deadline = _wait(control, sessions, deadline)


def _wait(
    control: psycopg.Connection[Any], sessions: dict[str, _Session], deadline: float
) -> float:
    """Until a busy session's step has finished, or every running step waits for a lock while
    another session could go ahead; two sessions waiting for each other are a deadlock, which
    PostgreSQL's detector ends (deadlock_timeout). Past the deadline, the steps are cancelled.
    The deadline, as it now stands."""
    while True:
        busy = [s for s in sessions.values() if s.busy]
        for session in busy:
            session.conn.pgconn.consume_input()
        running = [s for s in busy if s.conn.pgconn.is_busy()]
        if len(running) < len(busy) or not running:
            return deadline
        locked = [s for s in running if _waits_for_lock(control, s)]
        for session in locked:
            session.waited = True
        free = any(s.busy is None for s in sessions.values())
        if free and len(locked) == len(running):
            return deadline
        if time.monotonic() > deadline:
            for session in running:
                session.conn.cancel_safe()
            deadline = math.inf  # once: the cancelled steps end with 57014
        time.sleep(_POLL_S)


def _waits_for_lock(control: psycopg.Connection[Any], session: _Session) -> bool:
    row = control.execute(
        "SELECT cardinality(pg_blocking_pids(%s)) > 0", (session.conn.pgconn.backend_pid,)
    ).fetchone()
    return bool(row and row[0])


def _collect(sessions: dict[str, _Session], run: Run) -> None:
    """Record the steps that have finished, in the order they finished."""
    for session in sessions.values():
        if session.busy is None:
            continue
        pgconn = session.conn.pgconn
        pgconn.consume_input()
        if pgconn.is_busy():
            continue
        error: Any = None
        while (result := pgconn.get_result()) is not None:
            if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                error = result
        statement, session.busy = session.busy, None
        purpose = f"session {session.name}"
        waited = _WAITED if session.waited else None
        if error is None:
            run.steps[session.at] = Step(purpose, statement, True, message=waited)
            continue
        field = psycopg.pq.DiagnosticField
        message = _text(error.error_field(field.MESSAGE_PRIMARY))
        step = Step(
            purpose,
            statement,
            False,
            sqlstate=_text(error.error_field(field.SQLSTATE)),
            constraint=_text(error.error_field(field.CONSTRAINT_NAME)),
            message=f"{waited}, then: {message}" if waited else message,
        )
        run.steps[session.at] = step
        if session.failed is None:
            session.failed = step


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def _message(exc: psycopg.Error) -> str:
    return exc.diag.message_primary or str(exc).strip().splitlines()[0]
