"""A bound on how long dbtruth waits for a statement it sends, kept on dbtruth's side.

SQL from a pull request runs on the scratch server with the power to `SET statement_timeout =
0` (any role may) and then `SELECT pg_sleep(1e9)` or loop in a DO block: a server-side timeout
alone would let it hang a CI job. A timer thread cancels the running statement instead, and the
caller reports which statement it was."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+)(us|ms|s|min|h|d)?")


def seconds(duration: str) -> float:
    """A PostgreSQL duration ("500ms", "5s", "2min"; a bare number is milliseconds)."""
    match = _DURATION.fullmatch(duration.strip())
    if match is None:
        raise ValueError(f"not a duration: {duration!r}")
    return int(match.group(1)) * _UNITS[match.group(2) or "ms"]


@dataclass
class Watch:
    fired: bool = False


@contextlib.contextmanager
def cancel_after(conn: Any, budget: float) -> Iterator[Watch]:
    """Cancel whatever `conn` (a psycopg connection) still runs after `budget` seconds; the
    yielded Watch says whether it had to."""
    watch = Watch()

    def cancel() -> None:
        watch.fired = True
        with contextlib.suppress(Exception):  # the connection may be done by then
            conn.cancel_safe(timeout=5)

    timer = threading.Timer(budget, cancel)
    timer.daemon = True
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
