"""`dbtruth ops` as one call: read a live server's operational facts in dbtruth's read-only
session, judge them with the operations rules, and add the catalog rules that need a live
server's numbers (sequences near exhaustion, O001; invalid indexes, X003)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from dbtruth import engine
from dbtruth.engine import Result
from dbtruth.errors import DbtruthError
from dbtruth.findings import Severity
from dbtruth.model.ops import OpsFacts
from dbtruth.reading import TargetOptions, fail_threshold, read_manifest, target_label
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.ops import measure_bloat, read_ops, read_replicas
from dbtruth.sources.target import is_live

# Catalog rules about a live server's operation, run beside the operations rules.
CATALOG_CODES = ("O001", "X003")


@dataclass(frozen=True, slots=True)
class OpsOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None
    allow_outside_paths: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None
    replicas: tuple[str, ...] = ()  # read directly for their lag (--replica)
    precise: bool = False  # measure dead rows with pgstattuple_approx where installed
    precise_max_bytes: int = 10 << 30


@dataclass
class OpsResult:
    result: Result
    facts: OpsFacts
    label: str
    source: str
    server_version: str
    notes: list[str]
    threshold: Severity | None
    catalog_codes: tuple[str, ...]  # the catalog rules that ran beside the operations rules

    def fails(self) -> bool:
        return self.threshold is not None and any(
            f.severity >= self.threshold for f in self.result.findings
        )


def ops_target(options: OpsOptions) -> OpsResult:
    words = options.target.target
    if not is_live(words):
        raise DbtruthError(
            "ops reads a live server's state (sessions, archiving, slots, vacuum); give a "
            "database URL",
            hint="SQL files and snapshots have no running server to read",
        )
    if len(words) > 1:
        raise DbtruthError("a live target is one connection string; got several arguments")
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    conninfo = normalize(words[0]) if words else ""
    notes: list[str] = []
    with connect_live(
        conninfo,
        statement_timeout=options.target.statement_timeout,
        lock_timeout=options.target.lock_timeout,
    ) as conn:
        facts = read_ops(conn, notes)
        if options.precise:
            share = manifest.settings().ops.dead_row_share
            facts = measure_bloat(conn, facts, share, options.precise_max_bytes, notes)
        catalog = read_catalog(conn, describe(conninfo), live=True)
    if options.replicas:
        target = options.target
        facts = dataclasses.replace(
            facts,
            replicas=read_replicas(
                options.replicas, facts, target.statement_timeout, target.lock_timeout
            ),
        )
    select, ignore = list(options.select), list(options.ignore)
    result = engine.run_ops(
        facts, manifest, extra_select=select or None, extra_ignore=ignore,
        baseline=options.baseline,
    )  # fmt: skip
    codes = _catalog_codes(select)
    if codes:
        extra = engine.run(
            catalog, manifest, extra_select=list(codes), extra_ignore=ignore,
            baseline=options.baseline,
        )  # fmt: skip
        result.findings = sorted([*result.findings, *extra.findings],
                                 key=lambda f: (-f.severity, f.code, f.object.path))  # fmt: skip
        result.rules_run += extra.rules_run
        result.ran += extra.ran
        result.suppressed += extra.suppressed
        result.baselined += extra.baselined
    if facts.in_recovery:
        notes.append("the target is a standby: archiving and slots are the primary's to judge")
    return OpsResult(
        result=result,
        facts=facts,
        label=target_label(words),
        source=f"{describe(conninfo)}, read-only session",
        server_version=catalog.server_version,
        notes=notes,
        threshold=fail_threshold(options.fail_on, manifest),
        catalog_codes=codes,
    )


def _catalog_codes(select: list[str]) -> tuple[str, ...]:
    """The catalog rules to run: O001 and X003, or those of them --select names."""
    if not select:
        return CATALOG_CODES
    specs = tuple(s for s in engine.all_specs() if s.code in CATALOG_CODES)
    return tuple(s.code for s in engine.select(select, [], specs=specs))
