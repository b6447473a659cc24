"""The signals a backfill backs off on, read from the server between chunks, and the sessions
that wait on a chunk while it runs.

Read in a read-only session of their own. What this role may not see is said, not guessed:
replay lag needs pg_read_all_stats (or pg_monitor) for another role's WAL sender, and which
table autovacuum works on is hidden from roles without it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.backfill.keys import query
from dbtruth.manifest.backfill import HealthSpec
from dbtruth.words import counted


@dataclass(frozen=True, slots=True)
class Signal:
    name: str  # replica_lag, archive_backlog, autovacuum, probe_p95
    value: str  # as read, for the reader ("12.5 s", "3 segments", "running")
    limit: str
    over: bool
    unknown: str | None = None  # why it could not be read


def _segment(name: str, per_log: int) -> int:
    """A WAL file name (timeline, log, segment in hex) as one segment number."""
    return int(name[8:16], 16) * per_log + int(name[16:24], 16)


def read_signals(conn: psycopg.Connection[Any], oid: int, health: HealthSpec,
                 probe_p95: float | None) -> list[Signal]:  # fmt: skip
    """Every signal the spec sets a limit for, against its limit."""
    with conn.transaction():
        row = conn.execute(query("health"), {"oid": oid}).fetchone()
    assert row is not None
    replicas, lag, unseen, archive_mode, archived, current, segment_bytes, vacuums, hidden = row
    signals: list[Signal] = []
    if health.replica_lag is not None:
        limit = f"{health.replica_lag:g} s"
        if not replicas:
            signals.append(Signal("replica_lag", "no standby streams from this server", limit,
                                  False))  # fmt: skip
        elif unseen:
            signals.append(Signal("replica_lag", "?", limit, False,
                                  "this role cannot see the standbys' replay position "
                                  "(grant pg_read_all_stats)"))  # fmt: skip
        else:
            seconds = float(lag or 0.0)
            signals.append(Signal("replica_lag", f"{seconds:.1f} s", limit,
                                  seconds > health.replica_lag))  # fmt: skip
    if health.archive_backlog is not None:
        limit = f"{health.archive_backlog} segments"
        if archive_mode == "off":
            signals.append(Signal("archive_backlog", "archive_mode is off", limit, False))
        elif current is None:
            signals.append(Signal("archive_backlog", "?", limit, False, "the server is a standby"))
        else:
            per_log = 0x100000000 // int(segment_bytes)
            done = _segment(archived, per_log) if archived else None
            # Nothing archived yet: every segment since the first is waiting.
            backlog = _segment(current, per_log) - (done if done is not None else 0)
            signals.append(Signal("archive_backlog", f"{max(backlog, 0)} segments", limit,
                                  backlog > health.archive_backlog))  # fmt: skip
    if health.autovacuum:
        if vacuums:
            signals.append(Signal("autovacuum", "a VACUUM is working on the table", "none", True))
        elif hidden:
            signals.append(Signal("autovacuum", "?", "none", False,
                                  f"{counted(hidden, 'vacuum')} running on tables this role cannot "
                                  "name (grant pg_read_all_stats)"))  # fmt: skip
        else:
            signals.append(Signal("autovacuum", "not on the table", "none", False))
    if health.probe is not None and probe_p95 is not None:
        limit = f"{health.probe.p95 * 1000:.0f} ms"
        signals.append(Signal("probe_p95", f"{probe_p95 * 1000:.0f} ms", limit,
                              probe_p95 > health.probe.p95))  # fmt: skip
    return signals


class Probe:
    """The spec's latency probe (one read-only SELECT), timed; p95 of the last 20 runs."""

    WINDOW = 20
    MIN_SAMPLES = 5

    def __init__(self, conn: psycopg.Connection[Any], text: str) -> None:
        self.conn = conn
        self.text = sql.SQL(text.strip().rstrip(";"))  # gated: one plain SELECT
        self.samples: deque[float] = deque(maxlen=self.WINDOW)

    def run(self) -> None:
        started = time.perf_counter()
        with self.conn.transaction():
            self.conn.execute(self.text).fetchall()
        self.samples.append(time.perf_counter() - started)

    def p95(self) -> float | None:
        if len(self.samples) < self.MIN_SAMPLES:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class WaitWatch:
    """While a chunk runs, a thread with its own session samples who waits on the backfill's
    session (pg_blocking_pids), every 50 ms: how many sessions, and the longest wait."""

    INTERVAL = 0.05

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.sessions: set[int] = set()
        self.longest = 0.0
        self.blockers: dict[int, str] = {}  # who the backfill's session waited for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, pid: int) -> None:
        self.sessions, self.longest, self.blockers = set(), 0.0, {}
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._sample, args=(pid,), name="dbtruth-wait-watch", daemon=True
        )
        self._thread.start()

    def end(self) -> tuple[int, float]:
        """Stop sampling; the sessions that waited during the chunk and the longest wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        return len(self.sessions), self.longest

    def _sample(self, pid: int) -> None:
        while not self._stop.is_set():
            try:
                with self.conn.transaction():
                    rows = self.conn.execute(query("waiters"), {"pid": pid}).fetchall()
                    blocking = self.conn.execute(query("blockers"), {"pid": pid}).fetchall()
            except psycopg.Error:
                return  # the sampler's failure must not stop the backfill
            for blocker, application, state, age in blocking:
                held = f", its transaction {age:.0f} s old" if age is not None else ""
                self.blockers[int(blocker)] = f"pid {blocker} ({application}, {state}{held})"
            for waiter, waited in rows:
                self.sessions.add(int(waiter))
                self.longest = max(self.longest, float(waited or 0.0))
            self._stop.wait(self.INTERVAL)
