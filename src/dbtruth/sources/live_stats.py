"""Live statistics read on a second session while the first reads the catalog.

Sizes are the slowest thing dbtruth asks a live server for: pg_total_relation_size() opens
every table, index and TOAST relation it measures, and in a new session each first open builds
that relation's cache entry (about 3 s for 10,000 tables with 30,000 indexes). Nothing in the
catalog queries needs those entries, so a second backend builds them while the first reads the
catalog and dbtruth turns rows into the model, on another core. Both sessions are read-only
and bounded the same way; each catalog query already ran in a snapshot of its own.

When the server refuses a second session (its connection limit, a pooler), the statistics are
read on the catalog's session afterwards, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg

from dbtruth.errors import DbtruthError
from dbtruth.model import Stats
from dbtruth.sources.introspect import read_stats


class BackgroundStats:
    """Reads the statistics on its own session in a thread; calling it waits for them."""

    def __init__(self, open_session: Callable[[], psycopg.Connection[Any]]) -> None:
        self._open_session = open_session
        self._session: psycopg.Connection[Any] | None = None
        self._stats: Stats | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, name="dbtruth-stats", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _read(self) -> None:
        try:
            try:
                self._session = self._open_session()
            except (DbtruthError, psycopg.Error):
                return  # read on the catalog's session instead
            with self._session as session:
                self._stats = read_stats(session)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._error = exc
        finally:
            self._done.set()

    def __call__(self, conn: psycopg.Connection[Any]) -> Stats:
        """The statistics: from the second session, or read on `conn` if it never opened."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._stats if self._stats is not None else read_stats(conn)

    def stop(self) -> None:
        """Cancel a read still running (the catalog read failed) and wait for the thread."""
        session = self._session
        if not self._done.is_set() and session is not None:
            with suppress(psycopg.Error):
                session.cancel_safe()
        self._thread.join()


@contextmanager
def stats_in_background(
    open_session: Callable[[], psycopg.Connection[Any]],
) -> Iterator[BackgroundStats]:
    stats = BackgroundStats(open_session)
    stats.start()
    try:
        yield stats
    finally:
        stats.stop()
