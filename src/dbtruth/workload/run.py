"""`dbtruth workload` as one call: gather the queries, plan each on a database that has the
target's schema, and check every plan against its contract.

Where the plans come from decides what they say, and the result says which it was:
- a live target is planned on itself, in dbtruth's read-only session: the plans PostgreSQL
  makes there today, from its own statistics (observed);
- SQL files are planned on the throwaway copy dbtruth loads them into, analysed first, so the
  plans see the rows the files hold and nothing else: an empty table is planned as the small
  table it is there, not as production's.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth import engine
from dbtruth.clone import schema_session
from dbtruth.engine import Result
from dbtruth.errors import DbtruthError
from dbtruth.findings import Severity
from dbtruth.model import Catalog
from dbtruth.model.workload import Agreement, PlannedQuery
from dbtruth.planning import intake
from dbtruth.planning.compare import TOLERANCE, agreement
from dbtruth.planning.explain import plan_query
from dbtruth.planning.indexmap import (
    IndexUse,
    ServerUsage,
    index_map,
    primary_usage,
    replica_usage,
)
from dbtruth.planning.observed import observed
from dbtruth.planning.whatif import Advised, RealRows, TwinSizer, advise
from dbtruth.reading import TargetOptions, fail_threshold, read_manifest, target_label
from dbtruth.sources.conninfo import normalize
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.target import is_live
from dbtruth.words import counted

# Planning is quick; a query whose planning takes longer is stuck on something (a lock, a
# function the planner folds), and is reported as not planned.
DEFAULT_PLAN_TIMEOUT = "10s"


@dataclass(frozen=True, slots=True)
class WorkloadOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    queries: tuple[Path, ...] = ()  # SQL files of queries (--queries)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None
    plan_timeout: str = DEFAULT_PLAN_TIMEOUT
    top: int = 20  # observed queries read from pg_stat_statements on a live target (0: none)
    twin: bool = False  # also plan on a statistics twin of the live target
    suggest: bool = False  # index advice, tried on the twin (live) or on the copy (SQL files)
    replicas: tuple[str, ...] = ()  # their index scan counters are summed into the index map


@dataclass
class WorkloadResult:
    planned: list[PlannedQuery]
    result: Result
    label: str  # the target as outputs print it, passwords hidden
    planned_on: str  # which database made the plans, and how
    server_version: str
    tables: int
    notes: list[str]
    threshold: Severity | None
    # With --twin: each query as the statistics twin planned it, beside the target's plan.
    twin: list[Agreement] | None = None
    index_map: list[IndexUse] = field(default_factory=list)

    def fails(self) -> bool:
        return self.threshold is not None and any(
            f.severity >= self.threshold for f in self.result.findings
        )


def workload_target(options: WorkloadOptions) -> WorkloadResult:
    words = options.target.target
    if options.replicas and not is_live(words):
        raise DbtruthError("--replica counts index scans of a live target's replicas; the "
                           "target is SQL files")  # fmt: skip
    if options.twin and not is_live(words):
        raise DbtruthError(
            "--twin copies a live target's planner statistics; give the database URL (SQL "
            "files have none: they are planned on their own copy)"
        )
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    notes: list[str] = []
    queries = intake.declared(manifest)
    for path in options.queries:
        queries += intake.from_file(path)
    queries = intake.distinct(queries, notes)
    with ExitStack() as stack:
        conn, planned_on, more = _planner(stack, options.target)
        notes += more
        live = is_live(words)
        catalog = read_catalog(conn, planned_on, live=live)
        if not live:
            _analyze_loaded(conn, catalog)
        elif options.top > 0:
            seen, more = observed(conn, catalog.server_version_num, options.top)
            notes += more
            queries = intake.distinct([*queries, *seen], notes)
        planned = [
            plan_query(conn, q, catalog.server_version_num, options.plan_timeout) for q in queries
        ]
        if options.suggest and not live:
            advised = advise(
                conn, planned, catalog, RealRows(), planned_on="copy of the SQL files",
                timeout=options.plan_timeout, version=catalog.server_version_num,
            )  # fmt: skip
            planned, notes = advised.planned, [*notes, *advised.notes, _advice_note(advised)]
    servers = _servers(catalog, options) if live else []
    rates = _write_rates(catalog, servers[0] if servers else None)
    min_days = manifest.settings().unused_index_min_days
    used = index_map(catalog, planned, servers, min_days, rates)
    twin = None
    if options.twin or (options.suggest and live):
        twin, planned = _on_twin(planned, options, catalog.server_version_num, notes, rates)
    unplanned = sum(1 for p in planned if p.error and p.query.origin == "observed")
    if unplanned:
        notes.append(
            f"{counted(unplanned, 'observed statement')} could not be planned as a generic plan "
            "(the types of their $n parameters are not known without the application's values); "
            "the server plans them with those values"
        )
    if not planned:
        notes.append(
            "no queries to plan: dbtruth.yaml declares no workload, no --queries file was "
            "given" + (" and pg_stat_statements showed none" if is_live(words) else "")
        )
    result = engine.run_workload(
        planned,
        catalog,
        manifest,
        extra_select=list(options.select) or None,
        extra_ignore=list(options.ignore),
        baseline=options.baseline,
    )
    return WorkloadResult(
        planned=planned,
        result=result,
        label=target_label(words),
        planned_on=planned_on,
        server_version=catalog.server_version,
        tables=len(catalog.tables),
        notes=notes,
        threshold=fail_threshold(options.fail_on, manifest),
        twin=twin,
        index_map=used,
    )


def _on_twin(
    planned: list[PlannedQuery],
    options: WorkloadOptions,
    version_num: int,
    notes: list[str],
    write_rates: dict[str, float],
) -> tuple[list[Agreement], list[PlannedQuery]]:
    """Every query planned again on the live target's statistics twin, and with --suggest the
    index advice tried there (attached to the target's queries)."""
    from dbtruth.sources.twin import statistics_twin

    conninfo = normalize(options.target.target[0]) if options.target.target else ""
    with statistics_twin(conninfo, options.target.lock_timeout, version_num) as twin:
        notes += twin.notes
        with psycopg.connect(twin.conninfo, autocommit=True) as conn:
            on_twin = [
                plan_query(conn, p.query, twin.server_version_num, options.plan_timeout)
                for p in planned
            ]
            if options.suggest:
                twin_catalog = read_catalog(conn, twin.description, live=False)
                advised = advise(
                    conn, on_twin, twin_catalog, TwinSizer(conn, twin.set_length),
                    planned_on="statistics twin", timeout=options.plan_timeout,
                    version=twin.server_version_num, observed_writes=write_rates,
                )  # fmt: skip
                notes += [*advised.notes, _advice_note(advised)]
                planned = [
                    dataclasses.replace(p, advice=a.advice)
                    for p, a in zip(planned, advised.planned, strict=True)
                ]
    agreements = [agreement(a, b) for a, b in zip(planned, on_twin, strict=True)]
    planned, agreements = _replan_moved(planned, on_twin, agreements, options, version_num, notes)
    agreeing = sum(1 for a in agreements if a.agrees(TOLERANCE))
    notes.append(
        f"statistics twin: {agreeing} of {counted(len(agreements), 'plan')} agree with the "
        f"target's (the same shape, total cost within {TOLERANCE:.0%})"
    )
    return agreements, planned


def _replan_moved(
    planned: list[PlannedQuery],
    on_twin: list[PlannedQuery],
    agreements: list[Agreement],
    options: WorkloadOptions,
    version_num: int,
    notes: list[str],
) -> tuple[list[PlannedQuery], list[Agreement]]:
    """The queries whose twin plan differs, planned once more on the target. The target was
    planned before the twin copied its statistics; autovacuum or ANALYZE in between (a table
    just filled is the usual case) changes relation sizes and visibility, and so the plans. The
    later plan of the target is the one the twin's copy matches, and the change is said."""
    differing = [i for i, a in enumerate(agreements) if a.twin and not a.agrees(TOLERANCE)]
    if not differing:
        return planned, agreements
    with ExitStack() as stack:
        conn, _, _ = _planner(stack, options.target)
        again = {
            i: plan_query(conn, planned[i].query, version_num, options.plan_timeout)
            for i in differing
        }
    moved = [i for i in differing if _cost(again[i]) != _cost(planned[i])]
    if not moved:
        return planned, agreements
    planned, agreements = list(planned), list(agreements)
    for i in moved:
        planned[i] = dataclasses.replace(again[i], advice=planned[i].advice)
        agreements[i] = agreement(planned[i], on_twin[i])
    notes.append(
        f"{counted(len(moved), 'query plan')} changed on the target while the twin was built (its "
        "statistics moved: autovacuum or ANALYZE ran); the target's later plan is shown and "
        "compared"
    )
    return planned, agreements


def _cost(planned: PlannedQuery) -> float | None:
    return planned.plan.total_cost if planned.plan else None


def _write_rates(catalog: Catalog, primary: ServerUsage | None) -> dict[str, float]:
    """Rows written per minute to each table of the live target: its insert, update and
    delete counters over the window since they were reset."""
    stats = catalog.stats
    if stats is None or primary is None or primary.days <= 0:
        return {}
    minutes = primary.days * 1440
    return {
        f"{t.schema}.{t.name}": (t.inserts + t.updates + t.deletes) / minutes
        for t in stats.tables
        if t.inserts + t.updates + t.deletes
    }


def _servers(catalog: Catalog, options: WorkloadOptions) -> list[ServerUsage]:
    """The index scan counters of the target and of every replica given."""
    primary = primary_usage(catalog)
    target = options.target
    replicas = [
        replica_usage(url, target.statement_timeout, target.lock_timeout)
        for url in options.replicas
    ]
    return [*([primary] if primary else []), *replicas]


def _advice_note(advised: Advised) -> str:
    indexes = {a.sql for p in advised.planned for a in p.advice}
    served = sum(1 for p in advised.planned if p.advice)
    return (
        f"index advice: {counted(advised.trials, 'trial build')}; "
        f"{counted(len(indexes), 'index')} proposed, serving {counted(served, 'query')}"
    )


def _planner(
    stack: ExitStack, target: TargetOptions
) -> tuple[psycopg.Connection[Any], str, list[str]]:
    """A session on a database with the target's schema, what it is, and notes on it."""
    conn, planned_on, copy = stack.enter_context(
        schema_session(target, "workload plans queries on a database")
    )
    if copy is None:
        return conn, f"{planned_on} (its own statistics)", []
    note = (
        "planned on a copy holding only the rows the SQL files insert; a table they leave "
        "empty is planned as PostgreSQL plans a table never analysed (as if it held 10 pages "
        "of rows), not with production's sizes"
    )
    return conn, planned_on, [*copy.notes, note]


def _analyze_loaded(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    """Statistics for the tables the SQL files filled, so their plans see those rows. Empty
    tables are left unanalysed: an analysed empty table is planned as holding nothing (any
    plan is free), a never-analysed one as ten pages, which is closer to a table in use."""
    for table in catalog.tables:
        if catalog.rows_loaded(table) is None:
            continue
        try:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name)))
        except psycopg.Error as exc:
            raise DbtruthError(f"the scratch copy stopped answering: {exc}") from exc
