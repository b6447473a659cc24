"""One notion of target for every command: a live server, SQL files, or a snapshot."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbtruth.errors import DbtruthError
from dbtruth.model import Catalog, Removal
from dbtruth.sources import snapshot, sqlfiles
from dbtruth.sources.conninfo import connect_live, describe, is_url
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.live_stats import stats_in_background
from dbtruth.sources.removals import still_removed
from dbtruth.sources.scratch import open_scratch
from dbtruth.words import counted


@dataclass(frozen=True, slots=True)
class LoadOptions:
    scratch: str | None = None  # None/"auto", "system", "embedded" or a URL
    keep_going: bool = False
    replacements: tuple[tuple[str, str], ...] = ()
    statement_timeout: str = "60s"
    lock_timeout: str = "1s"


@dataclass
class LoadedTarget:
    catalog: Catalog
    description: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds: scratch, load, introspect
    notes: list[str] = field(default_factory=list)
    # Where each SQL file target lives on disk, for finding locations and the manifest lookup.
    paths: tuple[Path, ...] = ()
    # schema.relation -> (file, line) of the statement that created it (SQL-file targets).
    locations: dict[str, tuple[str, int]] = field(default_factory=dict)


def is_live(target: tuple[str, ...]) -> bool:
    """A URL however spelled (POSTGRESQL://, postgresql+psycopg://, spaces around) or a
    key=value string is a live target; never a path, whose "not found" would print it whole."""
    if not target:
        return True
    first = target[0]
    return is_url(first) or ("=" in first and not Path(first).exists())


ProgressFactory = Callable[[str, int], Callable[[str, int], None]]


def load_target(
    target: tuple[str, ...], options: LoadOptions, progress: ProgressFactory | None = None
) -> LoadedTarget:
    if is_live(target):
        if len(target) > 1:
            raise DbtruthError("a live target is one connection string; got several arguments")
        return _load_live(target[0] if target else None, options)
    paths = [Path(t) for t in target]
    if len(paths) == 1 and snapshot.is_snapshot(paths[0]):
        started = time.perf_counter()
        catalog = snapshot.load(paths[0])
        return LoadedTarget(
            catalog,
            f"snapshot {paths[0]}",
            {"load": time.perf_counter() - started},
            paths=tuple(paths),
        )
    return _load_sql_files(paths, options, progress)


def _load_live(conninfo: str | None, options: LoadOptions) -> LoadedTarget:
    name = describe(conninfo)

    def session() -> psycopg.Connection[Any]:
        return connect_live(
            conninfo,
            statement_timeout=options.statement_timeout,
            lock_timeout=options.lock_timeout,
        )

    started = time.perf_counter()
    with session() as conn:
        connected = time.perf_counter()
        try:
            with stats_in_background(session) as stats:
                catalog = read_catalog(conn, f"live {name}", live=True, stats=stats)
        except psycopg.Error as exc:
            raise DbtruthError(
                f"reading the catalog of {name} failed: {exc.diag.message_primary or exc}"
            ) from exc
    done = time.perf_counter()
    return LoadedTarget(
        catalog,
        f"live database {name}",
        {"connect": connected - started, "introspect": done - connected},
    )


def _load_sql_files(
    paths: list[Path], options: LoadOptions, progress: ProgressFactory | None
) -> LoadedTarget:
    skipped: list[str] = []  # what discovery says: files never opened, a Prisma set
    files = sqlfiles.discover(paths, skipped)
    # Read every file before starting a server: unreadable input fails fast and cheaply.
    for path in files:
        sqlfiles.read_text(path)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with open_scratch(options.scratch) as scratch:
        timings["scratch"] = time.perf_counter() - started
        database = scratch.create_database()
        conninfo = database.conninfo
        locations: dict[str, tuple[str, int]] = {}
        removals: list[Removal] = []
        try:
            started = time.perf_counter()
            tick = (
                progress(f"loading {counted(len(files), 'file')} into {scratch.label}", 0)
                if progress
                else None
            )
            problems, notes = sqlfiles.load(
                conninfo,
                files,
                scratch_label=scratch.label,
                keep_going=options.keep_going,
                replacements=options.replacements,
                progress=tick,
                locations=locations,
                removals=removals,
                sandbox=database.sandbox,
                statement_timeout=options.statement_timeout,
            )
            database.hand_over()
            timings["load"] = time.perf_counter() - started
            started = time.perf_counter()
            with psycopg.connect(conninfo, autocommit=True) as conn:
                catalog = read_catalog(conn, f"sql files (scratch: {scratch.label})", live=False)
            if removals:
                catalog = dataclasses.replace(catalog, removed=still_removed(catalog, removals))
            timings["introspect"] = time.perf_counter() - started
        finally:
            scratch.drop_database(database.name)
    if problems:
        catalog = _with_problems(catalog, tuple(str(p) for p in problems))
    label = ", ".join(str(p) for p in paths)
    return LoadedTarget(
        catalog,
        f"{label} loaded into {scratch.label}",
        timings,
        [*skipped, *notes],
        tuple(paths),
        locations,
    )


def _with_problems(catalog: Catalog, problems: tuple[str, ...]) -> Catalog:
    return dataclasses.replace(catalog, load_problems=problems)
