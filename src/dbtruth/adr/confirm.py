"""An ADR's confirmations and revisit thresholds, checked against the target.

- `check: CODE [object]`: the catalog rule runs over the target (as `check` runs it); the
  confirmation holds when it reports nothing (on that object, when one is named).
- `invariant: ID`: dbtruth.yaml's invariant is proven on a throwaway copy (as `prove`).
- `workload: NAME`: dbtruth.yaml's query is planned (as `workload`) and its contract kept.
- `watch: <SELECT> > N` on a revisit trigger: the query runs read-only on the target (on SQL
  files, on their loaded copy, rows included) and the value is compared.

Each capability runs once for all ADRs, and only when some confirmation asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.engine import find_spec
from dbtruth.manifest import Manifest
from dbtruth.model.decisions import (
    Adr,
    Confirmation,
    ConfirmationResult,
    DecisionFacts,
    Watch,
    WatchResult,
)
from dbtruth.reading import TargetOptions
from dbtruth.sources.adrs import confirmations, watches
from dbtruth.sources.readonly import refusal
from dbtruth.sources.target import is_live

_COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def confirm(
    facts: DecisionFacts,
    manifest: Manifest,
    target: TargetOptions | None,
    manifest_path: Any,
    allow_outside: bool,
) -> list[str]:
    """Fill facts.confirmations and facts.watches; return notes on what could not run."""
    notes: list[str] = []
    wanted = {adr.path: confirmations(adr)[0] for adr in facts.adrs}
    every = [c for found in wanted.values() for c in found]
    if target is None:
        for adr in facts.adrs:
            facts.confirmations[adr.path] = [
                ConfirmationResult(
                    c,
                    "not run",
                    "no target: give the schema (SQL files or a database URL) to run it on",
                )
                for c in wanted[adr.path]
            ]
        if any(watches(adr) for adr in facts.adrs):
            notes.append("revisit thresholds not read: no target")
        return notes
    where = "the live target" if is_live(target.target) else "the SQL files' copy"
    findings = _check_findings(every, target, manifest_path, allow_outside)
    proofs = _proofs(every, target, manifest_path, allow_outside)
    contracts = _contracts(every, target, manifest_path, allow_outside)
    for adr in facts.adrs:
        facts.confirmations[adr.path] = [
            _judge(c, manifest, findings, proofs, contracts, where) for c in wanted[adr.path]
        ]
    watched = [(adr, w) for adr in facts.adrs for w in watches(adr)]
    if watched:
        _read_watches(facts, watched, target, where)
    return notes


def judged(
    adr: Adr,
    manifest: Manifest,
    findings: dict[str, list[str]] | None,
    proofs: dict[str, tuple[str, str]] | None,
    contracts: dict[str, list[str]] | None,
    where: str,
) -> list[ConfirmationResult]:
    """An ADR's confirmations judged from results already at hand (the review's): rule code
    -> the object paths its findings name (only the rules that ran), invariant id -> (status,
    why), workload query name -> its contract findings."""
    return [_judge(c, manifest, findings, proofs, contracts, where) for c in confirmations(adr)[0]]


def _check_findings(
    wanted: list[Confirmation], target: TargetOptions, manifest: Any, allow_outside: bool
) -> dict[str, list[str]] | None:
    """Rule code -> the object paths its findings name, for every catalog rule asked for."""
    codes = sorted(
        {
            spec.code
            for c in wanted
            if c.kind == "check"
            if (spec := find_spec(c.reference)) is not None and spec.kind == "catalog"
        }
    )
    if not codes:
        return None
    from dbtruth.check import CheckOptions, check_target

    checked = check_target(
        CheckOptions(
            target=target, manifest=manifest, allow_outside_paths=allow_outside, select=tuple(codes)
        )
    )
    found: dict[str, list[str]] = {code: [] for code in codes}
    for finding in checked.result.findings:
        found.setdefault(finding.code, []).append(finding.object.path)
    return found


def _proofs(
    wanted: list[Confirmation], target: TargetOptions, manifest: Any, allow_outside: bool
) -> dict[str, tuple[str, str]] | None:
    """Invariant id -> (status, why) from `prove`, when some confirmation names an invariant."""
    if not any(c.kind == "invariant" for c in wanted):
        return None
    from dbtruth.prove.run import ProveOptions, prove_target

    proved = prove_target(
        ProveOptions(
            target=target, manifest=manifest, allow_outside_paths=allow_outside, declared_only=True
        )
    )
    return {p.subject.id: (p.status.value, p.reason or broken_probe(p)) for p in proved.proofs}


def broken_probe(proof: Any) -> str:
    """The first probe whose outcome broke the invariant: what it tried and what happened."""
    for probe in proof.probes:
        if probe.status.value == "unenforced":
            return f"{probe.name}: expected {probe.expected}, observed {probe.observed}"
    return ""


def _contracts(
    wanted: list[Confirmation], target: TargetOptions, manifest: Any, allow_outside: bool
) -> dict[str, list[str]] | None:
    """Workload query name -> the messages of the workload findings on it."""
    if not any(c.kind == "workload" for c in wanted):
        return None
    from dbtruth.workload.run import WorkloadOptions, workload_target

    done = workload_target(
        WorkloadOptions(target=target, manifest=manifest, allow_outside_paths=allow_outside, top=0)
    )
    found: dict[str, list[str]] = {q.query.name: [] for q in done.planned}
    for finding in done.result.findings:
        if finding.object.kind == "query":
            found.setdefault(finding.object.name, []).append(f"{finding.code} {finding.message}")
    return found


def _judge(
    c: Confirmation,
    manifest: Manifest,
    findings: dict[str, list[str]] | None,
    proofs: dict[str, tuple[str, str]] | None,
    contracts: dict[str, list[str]] | None,
    where: str,
) -> ConfirmationResult:
    if c.kind == "check":
        spec = find_spec(c.reference)
        if spec is None:
            return ConfirmationResult(c, "unknown", f"no dbtruth rule {c.reference}")
        if spec.kind != "catalog" or findings is None:
            return ConfirmationResult(
                c,
                "unknown",
                f"{spec.code} is a {spec.kind} rule; a confirmation names a catalog rule",
            )
        if spec.code not in findings:
            return ConfirmationResult(c, "not run", f"{spec.code} was not run")
        paths = findings[spec.code]
        if c.scope:
            paths = [p for p in paths if p == c.scope or p.startswith(f"{c.scope}.")]
        if paths:
            return ConfirmationResult(
                c,
                "fails",
                f"{spec.code} {spec.name} reports {', '.join(paths[:5])} (observed on {where})",
            )
        on = f" on {c.scope}" if c.scope else ""
        return ConfirmationResult(
            c, "holds", f"{spec.code} reports nothing{on} (observed on {where})"
        )
    if c.kind == "invariant":
        if all(i.id != c.reference for i in manifest.invariants):
            return ConfirmationResult(
                c, "unknown", f"dbtruth.yaml declares no invariant {c.reference}"
            )
        status, why = (proofs or {}).get(c.reference, ("not provable", "not derived"))
        if status == "proven":
            return ConfirmationResult(
                c, "holds", "proven on a throwaway copy: the illegal writes were refused"
            )
        verdict = "fails" if status == "unenforced" else "not run"
        return ConfirmationResult(c, verdict, f"{status}{': ' + why if why else ''}")
    if all(q.name != c.reference for q in manifest.workload):
        return ConfirmationResult(
            c, "unknown", f"dbtruth.yaml's workload names no query {c.reference!r}"
        )
    broken = (contracts or {}).get(c.reference)
    if broken is None:
        return ConfirmationResult(c, "not run", "the query was not planned")
    if broken:
        return ConfirmationResult(c, "fails", "; ".join(broken[:3]))
    return ConfirmationResult(c, "holds", f"planned on {where}; its contract is kept")


def _read_watches(
    facts: DecisionFacts,
    watched: Iterable[tuple[Adr, Watch]],
    target: TargetOptions,
    where: str,
) -> None:
    from dbtruth.clone import schema_session

    with ExitStack() as stack:
        conn, _, _ = stack.enter_context(
            schema_session(target, "a revisit threshold reads the database")
        )
        for adr, watch in watched:
            facts.watches.setdefault(adr.path, []).append(_read(conn, watch, where))


def _read(conn: psycopg.Connection[Any], watch: Watch, where: str) -> WatchResult:
    why = refusal(watch.query)
    if why:
        return WatchResult(watch, None, False, f"refused: {why}")
    text = sql.SQL(watch.query.strip().rstrip(";"))  # gated: one plain SELECT
    try:
        with conn.transaction():
            row = conn.execute(text).fetchone()
    except psycopg.Error as exc:
        message = exc.diag.message_primary or str(exc).split("\n", 1)[0]
        return WatchResult(watch, None, False, f"the query failed: {message}")
    if row is None or row[0] is None:
        return WatchResult(watch, None, False, "the query returned no value")
    try:
        value = float(row[0])
    except (TypeError, ValueError):
        return WatchResult(watch, None, False, f"the query returned {row[0]!r}, not a number")
    fired = _COMPARE[watch.operator](value, watch.threshold)
    return WatchResult(
        watch,
        value,
        fired,
        f"{value:g} {watch.operator} {watch.threshold:g}: "
        f"{'crossed' if fired else 'not crossed'} (observed on {where})",
    )
