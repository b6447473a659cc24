"""Index advice for a whole workload, proven by the planner where the workload was planned.

For each table the workload reads, every candidate index its queries suggest (candidates.py)
is built for real — on the statistics twin, or on the copy of SQL files, never on the target —
and every query that reads the table is planned again. The candidate worth the most is kept:
the sum over those queries of calls × cost saved, less what the index costs writers (rows
written per minute × the index's levels). Then the next, given the ones kept, up to three per
table. Everything happens in one transaction that is rolled back.

On the twin, a table's files hold nothing but their length: the candidate is built over the
table emptied for the moment (instantly, whatever its size), then the table gets its length
and statistics back, and the new index the size it would have — pages from the rows and the
key widths pg_stats gives, rows from the table (a partial index: from the share of rows its
predicate keeps, by the planner's own estimate).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

import psycopg

from dbtruth.model import Catalog, Table
from dbtruth.model.sqlnames import qualified
from dbtruth.model.workload import Advice, PlannedQuery
from dbtruth.planning.candidates import Candidate, candidates
from dbtruth.planning.explain import plan_query
from dbtruth.rules.naming import fresh_name
from dbtruth.words import plural

MAX_PER_TABLE = 3  # indexes proposed for one table
MAX_CANDIDATES = 12  # tried per table
MAX_TRIALS = 80  # builds in all: the advice stays bounded on a workload of hundreds
MIN_SAVING = 0.2  # of the weighted cost of the queries an index serves
_SERVED = 0.9  # a query is served by an index that brings its cost under 90% of before
_PAGE = 8192
_USABLE = (8192 - 24 - 16) * 0.9  # a btree leaf page at the default fillfactor
_names = count(1)


class Sizer(Protocol):
    """Gives a trial index the size it would have, where the table's rows are not real."""

    def before_build(self, table: Table) -> None: ...

    def after_build(self, conn: psycopg.Connection[Any], table: Table, index: str,
                    candidate: Candidate) -> None: ...  # fmt: skip

    def after_rollback(self, conn: psycopg.Connection[Any], table: Table) -> None: ...


class RealRows:
    """The copy of SQL files: its rows are real, the index is built over them as it is."""

    def before_build(self, table: Table) -> None:
        return None

    def after_build(self, conn: psycopg.Connection[Any], table: Table, index: str,
                    candidate: Candidate) -> None:  # fmt: skip
        return None

    def after_rollback(self, conn: psycopg.Connection[Any], table: Table) -> None:
        return None


@dataclass
class _Saved:
    relpages: int
    reltuples: float
    relallvisible: int


class TwinSizer:
    """The statistics twin: tables are lengths and statistics, the index is sized to match."""

    def __init__(self, conn: psycopg.Connection[Any], set_length: Any) -> None:
        self._file_length = set_length  # (pg_relation_filepath, pages) -> None
        self._saved: dict[str, _Saved] = {}
        self._conn = conn

    def _set_length(self, regclass: str, pages: int) -> None:
        # The path is asked in this session: a trial index exists only in its transaction.
        row = self._conn.execute(
            "SELECT pg_relation_filepath(%s::regclass)", (regclass,)
        ).fetchone()
        self._file_length(str(row[0] if row else ""), pages)

    def _stats(self, table: Table) -> _Saved:
        if table.qualified not in self._saved:
            row = self._conn.execute(
                "SELECT relpages, reltuples, relallvisible FROM pg_class WHERE oid = %s::regclass",
                (_regclass(table),),
            ).fetchone()
            assert row is not None
            self._saved[table.qualified] = _Saved(int(row[0]), float(row[1]), int(row[2]))
        return self._saved[table.qualified]

    def before_build(self, table: Table) -> None:
        self._stats(table)
        self._set_length(_regclass(table), 0)  # the build reads no page: instant

    def after_build(self, conn: psycopg.Connection[Any], table: Table, index: str,
                    candidate: Candidate) -> None:  # fmt: skip
        saved = self._stats(table)
        self._set_length(_regclass(table), saved.relpages)
        _restore(conn, table.schema, table.name, saved.relpages, saved.reltuples,
                 saved.relallvisible)  # fmt: skip
        rows = max(saved.reltuples, 0.0) * _share(conn, table, candidate)
        pages = _index_pages(conn, table, candidate, rows, saved.relpages)
        _restore(conn, table.schema, index, pages, rows, 0)
        self._set_length(qualified(table.schema, index), pages)

    def after_rollback(self, conn: psycopg.Connection[Any], table: Table) -> None:
        # An index build records the table's size as it saw it, outside the transaction.
        saved = self._stats(table)
        self._set_length(_regclass(table), saved.relpages)
        _restore(conn, table.schema, table.name, saved.relpages, saved.reltuples,
                 saved.relallvisible)  # fmt: skip


@dataclass
class Advised:
    planned: list[PlannedQuery]  # the queries, each with the advice that serves it
    notes: list[str] = field(default_factory=list)
    trials: int = 0
    chosen: list[tuple[Table, Candidate]] = field(default_factory=list)  # in the order kept


def advise(
    conn: psycopg.Connection[Any],
    planned: list[PlannedQuery],
    catalog: Catalog,
    sizer: Sizer,
    *,
    planned_on: str,
    timeout: str,
    version: int,
    per_table: int = MAX_PER_TABLE,
    observed_writes: dict[str, float] | None = None,
) -> Advised:
    """`planned`: the workload as this connection's database plans it."""
    done = Advised(list(planned))
    by_table: dict[Table, list[Candidate]] = {}
    for query in planned:
        if query.plan is None:
            continue
        for candidate in candidates(query.query.sql, catalog):
            table = catalog.table(candidate.table)
            if table is None or table.kind != "table":
                continue  # partitioned: an index per partition, which the twin does not size
            found = by_table.setdefault(table, [])
            if candidate not in found and len(found) < MAX_CANDIDATES:
                found.append(candidate)
    # Declared write paths first; a live target's counters for the tables they do not cover.
    writes = {name: (rate, "declared") for name, rate in _writes(planned).items()}
    for name, rate in (observed_writes or {}).items():
        writes.setdefault(name, (rate, "observed on the target since its counters' reset"))
    for table, found in by_table.items():
        if done.trials >= MAX_TRIALS:
            done.notes.append(f"index advice stopped after {MAX_TRIALS} trial builds")
            break
        _advise_table(
            conn, done, table, found, catalog, sizer, writes, planned_on, timeout, version,
            per_table,
        )  # fmt: skip
    return done


def _advise_table(
    conn: psycopg.Connection[Any],
    done: Advised,
    table: Table,
    found: list[Candidate],
    catalog: Catalog,
    sizer: Sizer,
    writes: dict[str, tuple[float, str]],
    planned_on: str,
    timeout: str,
    version: int,
    per_table: int,
) -> None:
    readers = [i for i, p in enumerate(done.planned)
               if p.plan is not None and table.qualified in p.plan.relations()]  # fmt: skip
    costs = {i: done.planned[i].plan.total_cost for i in readers}  # type: ignore[union-attr]
    scans = {i: _scan(done.planned[i], table) for i in readers}
    write_rate, write_source = writes.get(table.qualified, (None, ""))
    trials: dict[Candidate, str] = {}  # the name each candidate was last built under
    with conn.transaction(force_rollback=True):
        for _ in range(per_table):
            best: tuple[float, Candidate, dict[int, float], dict[int, str]] | None = None
            for candidate in found:
                if done.trials >= MAX_TRIALS:
                    break
                done.trials += 1
                trials[candidate] = f"dbtruth_trial_{next(_names)}"
                trial = _trial(
                    conn,
                    done,
                    table,
                    candidate,
                    trials[candidate],
                    readers,
                    sizer,
                    timeout,
                    version,
                )
                if trial is None:
                    continue
                after, after_scans = trial
                net = _net(done, readers, costs, after, candidate, table, write_rate)
                if net is not None and (best is None or net > best[0]):
                    best = (net, candidate, after, after_scans)
            if best is None:
                break
            _, chosen, after, after_scans = best
            found.remove(chosen)
            name = fresh_name(catalog, table.schema, table.name, *chosen.columns, suffix="idx")
            # The plans name the trial build: shown under the name the advice gives it.
            built = f"{table.schema}.{trials[chosen]}"
            after_scans = {i: text.replace(built, f"{table.schema}.{name}")
                           for i, text in after_scans.items()}  # fmt: skip
            kept = f"dbtruth_chosen_{next(_names)}"
            _build(conn, table, chosen, kept, sizer)
            done.chosen.append((table, chosen))
            served = [i for i in readers if after[i] < costs[i] * _SERVED]
            advice = Advice(
                index=chosen.label,
                sql=chosen.create_sql(name, concurrently=True) + ";",
                before=0.0,
                after=0.0,
                scan_before="",
                scan_after="",
                queries=tuple(done.planned[i].query.name for i in served),
                planned_on=planned_on,
                write_note=_write_note(write_rate, write_source, table, chosen),
            )
            for i in served:
                query = done.planned[i]
                mine = dataclasses.replace(
                    advice, before=costs[i], after=after[i], scan_before=scans[i],
                    scan_after=after_scans[i],
                )  # fmt: skip
                done.planned[i] = PlannedQuery(query.query, query.plan, query.error,
                                               (*query.advice, mine))  # fmt: skip
                costs[i], scans[i] = after[i], after_scans[i]
    sizer.after_rollback(conn, table)


def workload_cost(
    conn: psycopg.Connection[Any],
    planned: list[PlannedQuery],
    chosen: list[tuple[Table, Candidate]],
    sizer: Sizer,
    *,
    timeout: str,
    version: int,
) -> tuple[float, int]:
    """The workload's weighted cost (calls × planned cost, summed) with the `chosen` indexes
    built, and how many of its queries could be planned; nothing stays built."""
    total, counted = 0.0, 0
    with conn.transaction(force_rollback=True):
        for table, candidate in chosen:
            _build(conn, table, candidate, f"dbtruth_set_{next(_names)}", sizer)
        for query in planned:
            again = plan_query(conn, query.query, version, timeout)
            if again.plan is not None:
                total += _weight(query) * again.plan.total_cost
                counted += 1
    for table in {t for t, _ in chosen}:
        sizer.after_rollback(conn, table)
    return total, counted


def _trial(
    conn: psycopg.Connection[Any],
    done: Advised,
    table: Table,
    candidate: Candidate,
    name: str,
    readers: list[int],
    sizer: Sizer,
    timeout: str,
    version: int,
) -> tuple[dict[int, float], dict[int, str]] | None:
    """Every reader's cost and scan of `table` with the candidate built; None when it could
    not be built (an operator class the column lacks)."""
    try:
        with conn.transaction(force_rollback=True):
            _build(conn, table, candidate, name, sizer)
            after: dict[int, float] = {}
            scans: dict[int, str] = {}
            for i in readers:
                again = plan_query(conn, done.planned[i].query, version, timeout)
                if again.plan is None:
                    return None
                after[i] = again.plan.total_cost
                scans[i] = _scan(again, table)
            return after, scans
    except psycopg.Error:
        return None
    finally:
        sizer.after_rollback(conn, table)


def _build(
    conn: psycopg.Connection[Any], table: Table, candidate: Candidate, name: str, sizer: Sizer
) -> None:
    sizer.before_build(table)
    try:
        conn.execute(candidate.create_sql(name, concurrently=False))
    finally:
        sizer.after_build(conn, table, name, candidate)


def _net(
    done: Advised,
    readers: list[int],
    costs: dict[int, float],
    after: dict[int, float],
    candidate: Candidate,
    table: Table,
    write_rate: float | None,
) -> float | None:
    """Weighted cost saved less the write cost; None when the saving is too small to propose."""
    served = [i for i in readers if after[i] < costs[i] * _SERVED]
    if not served:
        return None
    weights = {i: _weight(done.planned[i]) for i in served}
    saved = sum(weights[i] * (costs[i] - after[i]) for i in served)
    base = sum(weights[i] * costs[i] for i in served)
    if base <= 0 or saved / base < MIN_SAVING:
        return None
    net = saved - (write_rate or 0.0) * _levels(candidate)
    return net if net > 0 else None


def _weight(planned: PlannedQuery) -> float:
    """How often the query runs: declared calls per minute, else observed calls, else once."""
    query = planned.query
    if query.calls_per_minute:
        return query.calls_per_minute
    if query.calls:
        return float(query.calls)
    return 1.0


def _writes(planned: list[PlannedQuery]) -> dict[str, float]:
    """Rows written per minute to each table, from the declared write queries: calls per
    minute × the rows each writes (the plan's estimate below its ModifyTable node)."""
    rates: dict[str, float] = {}
    for query in planned:
        plan = query.plan
        if plan is None or plan.root.node_type != "ModifyTable" or not plan.root.relation:
            continue
        per_call = max(1.0, plan.root.children[0].rows if plan.root.children else 1.0)
        rate = query.query.calls_per_minute or 0.0
        rates[plan.root.relation] = rates.get(plan.root.relation, 0.0) + rate * per_call
    return rates


def _levels(candidate: Candidate) -> int:
    """Pages an index write touches, roughly: a leaf and its parents (3 for most tables)."""
    return 3 if candidate.method == "btree" else 5


def _write_note(rate: float | None, source: str, table: Table, candidate: Candidate) -> str:
    if not rate:
        return (
            f"no write rate known for {table.qualified}: what the index costs writers was "
            "not weighed (give its write queries calls_per_minute in dbtruth.yaml)"
        )
    return (
        f"{rate:,.1f} {plural('row', rate)} written per minute to {table.qualified} ({source}), "
        f"each adding about {_levels(candidate)} page touches to maintain it; weighed against "
        "the saving"
        + ("; it also keeps updates of its columns from being HOT" if candidate.columns else "")
    )


def _scan(planned: PlannedQuery, table: Table) -> str:
    """How the plan reads `table`: its scan node's label."""
    if planned.plan is None:
        return ""
    for node in planned.plan.nodes():
        if node.relation == table.qualified and node.node_type != "ModifyTable":
            return node.label
    return ""


def _share(conn: psycopg.Connection[Any], table: Table, candidate: Candidate) -> float:
    """The share of the table's rows a partial index keeps, as the planner estimates it."""
    if not candidate.predicate:
        return 1.0
    where = f"FROM {_regclass(table)} WHERE {candidate.predicate}"
    keeps = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT {where}").fetchone()
    whole = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT FROM {_regclass(table)}").fetchone()
    if not keeps or not whole:
        return 1.0
    kept, total = keeps[0][0]["Plan"]["Plan Rows"], whole[0][0]["Plan"]["Plan Rows"]
    return min(1.0, float(kept) / max(1.0, float(total)))


def _index_pages(
    conn: psycopg.Connection[Any], table: Table, candidate: Candidate, rows: float, heap: int
) -> int:
    """The pages the index would take: rows × (line pointer + tuple header + keys) over a
    page at the default fillfactor, for a btree or GiST; for GIN, a guess of a third of the
    table, which depends on the values inside each row."""
    if candidate.method == "gin":
        return max(1, heap // 3)
    widths = dict(
        conn.execute(
            "SELECT attname, avg_width FROM pg_stats WHERE schemaname = %s AND tablename = %s",
            (table.schema, table.name),
        ).fetchall()
    )
    data = sum(int(widths.get(c, 8)) for c in (*candidate.columns, *candidate.include))
    per_row = 4 + 8 * math.ceil((8 + data) / 8)
    return max(1, math.ceil(rows * per_row / _USABLE) + 1)  # + the metapage


def _restore(conn: psycopg.Connection[Any], schema: str, name: str, pages: int,
             tuples: float, visible: int) -> None:  # fmt: skip
    conn.execute(
        "SELECT pg_catalog.pg_restore_relation_stats('schemaname', %s::text, 'relname', "
        "%s::text, 'relpages', %s::integer, 'reltuples', %s::real, 'relallvisible', %s::integer)",
        (schema, name, pages, tuples, visible),
    )


def _regclass(table: Table) -> str:
    return qualified(table.schema, table.name)
