"""The index map: every index of the schema beside the planned queries that use it, what it
enforces, and — on a live target — how often it was scanned, summed over the primary and every
replica given, with each server's observation window.

An index is kept for a reason the map states: a query plan uses it, it enforces a constraint
(primary key, unique, exclusion), or it serves the checks of a foreign key (a delete or key
update of a referenced row finds the referencing rows through it, which may happen once a
quarter). Only an index with none of these and no scan on any server, over a window at least
`unused_index_min_days` long everywhere, is called unused; "unused" advice that counted one
server, or dropped an index a month-end job needed, is how indexes applications needed were
removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from dbtruth.model import Catalog, Index
from dbtruth.model.workload import PlannedQuery
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.words import counted, plural


@dataclass(frozen=True, slots=True)
class ServerUsage:
    """One server's index scan counters and the window they cover."""

    label: str
    since: str  # ISO: the counters' reset, else the server's start
    days: float
    scans: dict[str, int]  # index (schema.name) -> idx_scan


@dataclass(frozen=True, slots=True)
class IndexUse:
    index: str
    table: str
    queries: tuple[str, ...]  # planned queries whose plan reads it
    enforces: str | None  # "primary key", "unique", "constraint x", "foreign key checks of y"
    scans: int | None  # summed over every server read; None without counters
    size_bytes: int | None
    verdict: str
    unused: bool = False  # no reason to keep it was seen anywhere, over a long enough window
    writes_per_minute: float | None = None  # rows written to its table: each maintains it


def replica_usage(url: str, statement_timeout: str, lock_timeout: str) -> ServerUsage:
    conninfo = normalize(url)
    with connect_live(
        conninfo, statement_timeout=statement_timeout, lock_timeout=lock_timeout
    ) as conn:
        return _usage(conn, describe(conninfo))


def _usage(conn: psycopg.Connection[Any], label: str) -> ServerUsage:
    row = conn.execute(
        "SELECT coalesce(d.stats_reset, pg_postmaster_start_time()), now()"
        " FROM pg_stat_database d WHERE d.datname = current_database()"
    ).fetchone()
    assert row is not None
    since, now = row
    scans = {
        f"{schema}.{name}": int(count)
        for schema, name, count in conn.execute(
            "SELECT schemaname, indexrelname, idx_scan FROM pg_stat_user_indexes"
        ).fetchall()
    }
    return ServerUsage(label, since.isoformat(), (now - since).total_seconds() / 86400, scans)


def primary_usage(catalog: Catalog) -> ServerUsage | None:
    """The live target's own counters, as the catalog read them."""
    stats = catalog.stats
    if stats is None or not stats.collected_at:
        return None
    since = stats.stats_reset or stats.postmaster_start
    days = (_parse(stats.collected_at) - _parse(since)).total_seconds() / 86400
    scans = {f"{i.schema}.{i.name}": i.idx_scan for i in stats.indexes}
    return ServerUsage("the target", since, days, scans)


def index_map(
    catalog: Catalog,
    planned: list[PlannedQuery],
    servers: list[ServerUsage],
    min_days: float,
    write_rates: dict[str, float] | None = None,
) -> list[IndexUse]:
    users: dict[str, list[str]] = {}
    for query in planned:
        for read in query.plan.indexes() if query.plan else ():
            users.setdefault(read, []).append(query.query.name)
    sizes = {f"{i.schema}.{i.name}": i.size_bytes for i in catalog.stats.indexes} \
        if catalog.stats else {}  # fmt: skip
    window_ok = bool(servers) and all(s.days >= min_days for s in servers)
    found = []
    for index in catalog.indexes:
        name = index.qualified
        queries = tuple(users.get(name, ()))
        enforces = _enforces(catalog, index)
        counted = [s.scans[name] for s in servers if name in s.scans]
        scans = sum(counted) if counted else None
        unused = not queries and enforces is None and window_ok and scans == 0 and index.valid
        writes = (write_rates or {}).get(index.table_qualified)
        verdict = _verdict(queries, enforces, scans, servers, window_ok, min_days)
        if writes and not queries and not enforces:
            verdict += (
                f"; {writes:,.1f} {plural('row', writes)} a minute written to its table maintain it"
            )
        found.append(
            IndexUse(
                index=name,
                table=index.table_qualified,
                queries=queries,
                enforces=enforces,
                scans=scans,
                size_bytes=sizes.get(name),
                verdict=verdict,
                unused=unused,
                writes_per_minute=writes,
            )
        )
    return found


def _enforces(catalog: Catalog, index: Index) -> str | None:
    if index.primary:
        return "primary key"
    if index.constraint:
        return f"constraint {index.constraint}"
    if index.unique:
        return "unique"
    table = catalog.table(index.table_qualified)
    if table is not None:
        for fk in catalog.constraints_of(table):
            if fk.kind == "foreign key" and set(index.leading[: len(fk.columns)]) == set(
                fk.columns
            ):
                return f"foreign key checks of {fk.name}"
    return None


def _verdict(
    queries: tuple[str, ...],
    enforces: str | None,
    scans: int | None,
    servers: list[ServerUsage],
    window_ok: bool,
    min_days: float,
) -> str:
    if queries:
        return f"serves {counted(len(queries), 'planned query')}"
    if enforces:
        return f"enforces: {enforces}"
    if scans is None:
        return "no planned query uses it (no usage counters: not a live target)"
    where = f"{counted(len(servers), 'server')}"
    shortest = min(s.days for s in servers)
    if scans:
        return (
            f"no planned query uses it; {scans:,} {plural('scan', scans)} on {where} in "
            f"{shortest:.0f}+ days"
        )
    if not window_ok:
        return (
            f"no planned query uses it and no scan on {where}, but the shortest window is "
            f"{shortest:.1f} days (under {min_days:g}): too short to call it unused"
        )
    return f"unused: no planned query, no constraint, no scan on {where} in {shortest:.0f}+ days"


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))
