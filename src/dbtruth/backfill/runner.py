"""The chunk loop of `dbtruth backfill run`.

Before each chunk: the health signals (at most once a second), backing off while one is over
its limit; then the rate limit. Each chunk is one transaction under its own lock_timeout and
statement_timeout: find the chunk's last key (an index range scan), run the statement over
(last chunk's key, this chunk's key], record the chunk and the new position, commit. A chunk
that times out waiting for a lock, deadlocks or is cancelled is rolled back and tried again
after a wait (smaller, when it ran out of time); one that fails otherwise stops the backfill
as failed, naming its key range. Every decision is logged in dbtruth_backfill.event with the
signal that caused it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql

from dbtruth.backfill import checkpoint
from dbtruth.backfill.checkpoint import Checkpoint, Event
from dbtruth.backfill.health import Probe, WaitWatch, read_signals
from dbtruth.backfill.keys import Key
from dbtruth.backfill.prepare import Prepared
from dbtruth.backfill.results import BackfillRun, Progress
from dbtruth.errors import DbtruthError
from dbtruth.words import counted

# Rolled back and tried again: the chunk met other sessions, not a mistake of its own.
RETRYABLE = (
    errors.LockNotAvailable, errors.QueryCanceled, errors.DeadlockDetected,
    errors.SerializationFailure,
)  # fmt: skip
HEALTH_EVERY = 1.0  # seconds between two readings of the signals


@dataclass
class ChunkDone:
    upper: Key
    visited: int
    changed: int
    seconds: float
    waiting: int
    longest_wait: float
    status: str
    last: bool


class Runner:
    def __init__(
        self, conn: psycopg.Connection[Any], monitor: psycopg.Connection[Any],
        watch: WaitWatch, prepared: Prepared, result: BackfillRun,
        on_progress: Callable[[Progress], None] | None,
        on_event: Callable[[Event], None] | None,
    ) -> None:  # fmt: skip
        self.conn = conn
        self.monitor = monitor
        self.watch = watch
        self.prepared = prepared
        self.spec = prepared.loaded.spec
        self.result = result
        self.on_progress = on_progress
        self.on_event = on_event
        self.probe = (
            Probe(monitor, self.spec.health.probe.query) if self.spec.health.probe else None
        )

    def log(self, kind: str, detail: str, signal: str | None = None) -> None:
        event = checkpoint.log(self.conn, self.prepared.name, kind, detail, signal)
        self.result.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def stop(self, status: str, reason: str) -> None:
        checkpoint.set_status(self.conn, self.prepared.name, status, reason)
        self.result.status, self.result.reason = status, reason
        self.log(status, reason)

    def run(self, state: Checkpoint) -> None:
        try:
            self._run(state)
        except (KeyboardInterrupt, SystemExit):
            # ^C or SIGTERM: the chunk in flight is rolled back; the checkpoint stays at the
            # last committed one, where the next run resumes.
            with contextlib.suppress(psycopg.Error):
                self.log("interrupted", "interrupted: `dbtruth backfill run` resumes after the "
                                        "last committed chunk")  # fmt: skip
            raise

    def _run(self, state: Checkpoint) -> None:
        spec, chunk, health = self.spec, self.spec.chunk, self.spec.health
        low, high = state.last_key, state.high_key
        assert high is not None
        rows = state.chunk_rows if chunk.target_duration else chunk.rows
        rows = self._clamp(rows)
        number = state.chunks
        began = time.monotonic()
        next_allowed = began
        last_health = -HEALTH_EVERY
        unhealthy_since: float | None = None
        wait = health.backoff
        tries = 0
        if self.probe is not None:
            # A baseline before the first chunk: the p95 is known at the first health check.
            try:
                for _ in range(self.probe.MIN_SAMPLES - 1):
                    self.probe.run()
            except psycopg.Error:
                pass  # the first health check runs it again, and reports the failure
        while True:
            now = time.monotonic()
            if now - last_health >= HEALTH_EVERY:
                last_health = now
                over = self._unhealthy()
                if over:
                    unhealthy_since = unhealthy_since or now
                    if now - unhealthy_since > health.give_up_after:
                        self.stop("paused", f"unhealthy for {now - unhealthy_since:.0f} s: {over}")
                        return
                    # never past the moment the run gives up
                    wait = min(wait, max(health.give_up_after - (now - unhealthy_since), 0.1))
                    self.log("back-off", f"{over}: waiting {wait:g} s", over.split(" ", 1)[0])
                    if self._sleep_unless_stopped(wait):
                        return
                    wait = min(wait * 2, health.max_backoff)
                    last_health = -HEALTH_EVERY
                    continue
                unhealthy_since, wait = None, health.backoff
            ahead = next_allowed - now if spec.rate is not None else 0.0
            if ahead > 0 and self._sleep_unless_stopped(ahead):
                return
            started = time.monotonic()
            try:
                done = self._chunk(low, high, rows, number + 1)
            except RETRYABLE as exc:
                tries += 1
                cause = _cause(exc)
                if tries > chunk.retries:
                    tried = f"{tries} {'try' if tries == 1 else 'tries'}"
                    self.stop("failed", f"chunk {number + 1} after key {_show(low)}: {cause}, "
                                        f"after {tried}")  # fmt: skip
                    return
                if isinstance(exc, errors.QueryCanceled) and rows > chunk.min_rows:
                    rows = max(chunk.min_rows, rows // 2)
                    self.log("smaller", f"{cause}: chunk size {rows * 2} -> {rows} rows",
                             "statement_timeout")  # fmt: skip
                pause = min(health.backoff * 2 ** (tries - 1), health.max_backoff)
                blockers = list(self.watch.blockers.values())
                held = f" (waiting for {'; '.join(blockers[:3])})" if blockers else ""
                self.log("retry", f"chunk {number + 1}: {cause}{held}; try {tries + 1} in "
                                  f"{pause:g} s", _signal(exc))  # fmt: skip
                if self._sleep_unless_stopped(pause):
                    return
                continue
            except psycopg.OperationalError as exc:
                raise DbtruthError(
                    f"the connection to the target was lost after chunk {number}: "
                    f"{_cause(exc)}; `dbtruth backfill run` resumes after the last committed chunk"
                ) from exc
            except psycopg.Error as exc:
                self.stop("failed", f"chunk {number + 1} after key {_show(low)}: {_cause(exc)}")
                return
            tries = 0
            if done is None:  # no key left in the range
                self.stop("done", "every chunk of the key range is done")
                return
            number += 1
            low = done.upper
            self._count(done, rows, time.monotonic() - began, state)
            if spec.rate is not None:
                next_allowed = max(next_allowed, started) + done.visited / spec.rate
            rows = self._next_size(rows, done)
            if done.status != "running":
                self.result.status = done.status
                self.log("stopped", f"stopped after chunk {number}: the backfill is {done.status}")
                current = checkpoint.read(self.conn, self.prepared.name)
                self.result.reason = current.reason if current else None
                return
            if done.last:
                self.stop("done", "every chunk of the key range is done")
                return

    def _unhealthy(self) -> str | None:
        """The first signal over its limit, as "name value > limit"; None when healthy."""
        probe_p95 = None
        if self.probe is not None:
            try:
                self.probe.run()
            except psycopg.Error as exc:
                return f"probe failed: {_cause(exc)}"
            probe_p95 = self.probe.p95()
        signals = read_signals(self.monitor, self.prepared.table.oid, self.spec.health, probe_p95)
        for signal in signals:
            if signal.over:
                return f"{signal.name} {signal.value} > {signal.limit}"
        return None

    def _sleep_unless_stopped(self, seconds: float) -> bool:
        """Sleep, looking every second whether someone paused or aborted the backfill; True
        when they did (the run then ends)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 1.0))
            current = checkpoint.read(self.conn, self.prepared.name)
            if current is not None and current.status != "running":
                self.result.status, self.result.reason = current.status, current.reason
                self.log("stopped", f"stopped while waiting: the backfill is {current.status}")
                return True

    def _chunk(self, low: Key | None, high: Key, rows: int, number: int) -> ChunkDone | None:
        prepared, chunk = self.prepared, self.spec.chunk
        conn = self.conn
        self.watch.begin(conn.info.backend_pid)
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}").format(
                        sql.Literal(f"{round(chunk.lock_timeout * 1000)}ms"),
                        sql.Literal(f"{round(chunk.statement_timeout * 1000)}ms"),
                    )
                )
                found = conn.execute(prepared.keyset.boundary(low, high, rows)).fetchone()
                if found is None:
                    return None
                count, *upper = found
                last = int(count) < rows
                # The last chunk runs to the range's end: rows written inside it meanwhile too.
                bound: Key = high if last else tuple(str(v) for v in upper)
                text = prepared.statement.with_range(
                    prepared.keyset.predicate(conn, prepared.statement.reference, low, bound)
                )
                lsn = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
                started = time.perf_counter()
                cursor = conn.execute(text.encode())
                seconds = time.perf_counter() - started
                changed = max(cursor.rowcount, 0)
                wal_row = conn.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)::int8",
                    (lsn[0] if lsn else None,),
                ).fetchone()
                status = checkpoint.record_chunk(
                    conn, prepared.name, number, low, bound, int(count), changed, seconds,
                    wal_row[0] if wal_row else None, rows,
                )  # fmt: skip
        finally:
            waiting, longest = self.watch.end()
        checkpoint.record_waits(conn, prepared.name, number, waiting, longest)
        return ChunkDone(bound, int(count), changed, seconds, waiting, longest, status, last)

    def _count(self, done: ChunkDone, rows: int, elapsed: float, state: Checkpoint) -> None:
        result = self.result
        result.chunks += 1
        result.rows_visited += done.visited
        result.rows_changed += done.changed
        result.chunk_rows = rows
        if self.on_progress is not None:
            self.on_progress(
                Progress(
                    state.chunks + result.chunks,
                    state.rows_visited + result.rows_visited,
                    state.rows_estimate,
                    result.rows_visited / elapsed if elapsed > 0 else 0.0,
                    rows,
                )
            )

    def _clamp(self, rows: float) -> int:
        """Within min_rows..max_rows, and under a rate limit at most one second's worth: a
        chunk bigger than its second would commit a burst, and the last chunk's budget is
        never waited for."""
        chunk, rate = self.spec.chunk, self.spec.rate
        ceiling = chunk.max_rows if rate is None else min(chunk.max_rows, max(int(rate), 1))
        return int(min(max(rows, chunk.min_rows), max(ceiling, chunk.min_rows)))

    def _next_size(self, rows: int, done: ChunkDone) -> int:
        chunk, health = self.spec.chunk, self.spec.health
        if health.lock_wait is not None and done.longest_wait > health.lock_wait:
            smaller = max(chunk.min_rows, rows // 2)
            self.log(
                "smaller",
                f"{counted(done.waiting, 'session')} waited up to "
                f"{done.longest_wait * 1000:.0f} ms on the chunk "
                f"(limit {health.lock_wait * 1000:.0f} ms): chunk size {rows} -> {smaller} rows",
                "lock_wait",
            )
            return smaller
        if chunk.target_duration is None or done.seconds <= 0:
            return rows
        # Towards the target duration, at most halving or doubling at a time.
        wanted = rows * chunk.target_duration / done.seconds
        wanted = min(max(wanted, rows / 2), rows * 2)
        return self._clamp(wanted)


def _cause(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag else None) or str(exc).split("\n", 1)[0]
    state = diag.sqlstate if diag else None
    return f"{text} (SQLSTATE {state})" if state else text


def _signal(exc: BaseException) -> str:
    if isinstance(exc, errors.LockNotAvailable):
        return "lock_timeout"
    if isinstance(exc, errors.QueryCanceled):
        return "statement_timeout"
    if isinstance(exc, errors.DeadlockDetected):
        return "deadlock"
    return "serialization"


def _show(key: Key | None) -> str:
    if key is None:
        return "(the first)"
    return "(" + ", ".join(key) + ")"
