"""`dbtruth prove` as one call: copy the target's schema into a throwaway database, read its
catalog, plan a probe for every invariant, run each in its own rolled-back transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbtruth.clone import Clone, cloned
from dbtruth.errors import DbtruthError
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog
from dbtruth.prove import derive, tenancy
from dbtruth.prove.data import DataReport, read_data
from dbtruth.prove.model import Proof, Proved, Status, Subject, verdict
from dbtruth.prove.plans import Plan, Unprovable
from dbtruth.prove.probes import Prober
from dbtruth.prove.race import race_probe
from dbtruth.prove.runner import proof_of
from dbtruth.reading import TargetOptions, read_manifest, target_label
from dbtruth.sources.conninfo import connect_live, describe, normalize
from dbtruth.sources.introspect import read_catalog
from dbtruth.sources.readonly import refusal
from dbtruth.sources.target import is_live
from dbtruth.sources.watchdog import seconds
from dbtruth.words import counted

# A probe's statements are single-row writes on an empty copy; longer means a trigger of the
# schema loops or waits, and the probe is reported as not provable.
DEFAULT_PROBE_TIMEOUT = "5s"


@dataclass(frozen=True, slots=True)
class ProveOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    probe_timeout: str = DEFAULT_PROBE_TIMEOUT
    # Only the invariants dbtruth.yaml declares (and the tenant matrix), not those derived from
    # every constraint: what the review needs.
    declared_only: bool = False
    data: bool = False  # also read the rows, read-only (`--data`)


def prove_target(options: ProveOptions) -> Proved:
    words = options.target.target
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    if options.data:
        _gate_detective_queries(manifest)
    with cloned(options.target) as copy:
        try:
            with psycopg.connect(copy.conninfo, autocommit=True) as conn:
                catalog = read_catalog(conn, copy.description, live=False)
                planned = derive.plans(
                    catalog,
                    list(manifest.invariants),
                    derived=not options.declared_only,
                    application_role=manifest.tenancy.role,
                )
                proofs = [prove_one(conn, catalog, s, p, options.probe_timeout) for s, p in planned]
                tenancy_notes = _tenant_isolation(conn, copy, catalog, manifest, options, proofs)
            # Races commit: each interleaving runs on a fresh copy of this one, which no
            # session may hold open meanwhile.
            _races(copy, manifest, options, proofs)
        except psycopg.OperationalError as exc:
            raise DbtruthError(f"the scratch copy stopped answering: {exc}") from exc
        # A query that fails or runs out of time is reported with the others (data.py).
        data = _data(copy, catalog, manifest, options) if options.data else None
    notes = [*copy.notes, *tenancy_notes, *_privilege_notes(manifest)]
    partitions = sum(1 for t in catalog.tables if t.partition_of)
    if partitions:
        notes.append(f"{counted(partitions, 'partition')} probed through their partitioned tables")
    return Proved(
        proofs=proofs,
        target=target_label(words),
        clone=copy.description,
        clone_database=copy.database,
        server_version=catalog.server_version,
        notes=notes,
        data=data,
    )


def _tenant_isolation(
    conn: psycopg.Connection[Any],
    copy: Clone,
    catalog: Catalog,
    manifest: Manifest,
    options: ProveOptions,
    proofs: list[Proof],
) -> list[str]:
    """The tenant isolation matrix, appended to `proofs`; its notes (who acted, bypass paths
    named but not probed)."""
    settings = manifest.settings()
    tables = tenancy.tenant_tables(catalog, settings)
    if not tables:
        return []
    # The boundary is meant to be the database's when a table enables row-level security or
    # dbtruth.yaml describes the tenancy; otherwise a tenant-named column (account_id) is no
    # promise the database was asked to keep.
    declared = bool(manifest.tenancy.model_fields_set)
    if not declared and not any(table.rls_enabled for table, _ in tables):
        return [
            "tenant isolation not probed: no table enables row-level security and dbtruth.yaml "
            "has no tenancy section, so tenant rows are kept apart by the application alone "
            "(`dbtruth check` reports it as S001); describe the tenancy to have it proven"
        ]
    copy.hold_to_policies()
    who = tenancy.acting(catalog, manifest.tenancy.role, manifest.tenancy.setting)
    proofs += tenancy.isolation_proofs(conn, catalog, tables, who, options.probe_timeout, declared)
    return [
        f"tenant isolation probed as {who.role or 'the owner'} ({who.role_why}); "
        + (
            f"the tenant set through {who.setting} ({who.setting_why})"
            if who.setting
            else f"no tenant setting to set ({who.setting_why})"
        ),
        *tenancy.bypass_notes(conn, catalog, who),
    ]


def _privilege_notes(manifest: Manifest) -> list[str]:
    """What a proof by privileges does not cover: the owner, whom privileges do not bind."""
    role = manifest.tenancy.role
    return [
        f"{invariant.id} is kept by privileges, so it is probed as {role}: the table's owner "
        "and superusers may still change its rows"
        for invariant in manifest.invariants
        if invariant.enforcement == "privilege" and role is not None
    ]


def _gate_detective_queries(manifest: Manifest) -> None:
    """Before anything runs: each detective query `--data` will run is one plain SELECT that
    calls nothing beyond reading rows, or an error at its line."""
    for index, invariant in enumerate(manifest.invariants):
        if invariant.detective_query and (why := refusal(invariant.detective_query)):
            raise DbtruthError(
                f"detective query of {invariant.id} not run: {why}",
                where=manifest.place("invariants", index, "detective_query"),
            )


def _data(copy: Clone, catalog: Catalog, manifest: Manifest, options: ProveOptions) -> DataReport:
    """`--data`: the rows of a live target, read in dbtruth's read-only session; of SQL files,
    the rows they loaded into the copy."""
    words = options.target.target
    if is_live(words):
        conninfo = normalize(words[0]) if words else ""
        with connect_live(
            conninfo,
            statement_timeout=options.target.statement_timeout,
            lock_timeout=options.target.lock_timeout,
        ) as conn:
            return read_data(conn, catalog, manifest, f"{describe(conninfo)}, read-only")
    with psycopg.connect(copy.conninfo, autocommit=True) as conn:
        # The gate keeps a detective query from lifting it (no SET, no set_config).
        conn.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            (options.target.statement_timeout,),
        )
        return read_data(conn, catalog, manifest, "the rows the SQL files loaded into the copy")


def _races(copy: Clone, manifest: Manifest, options: ProveOptions, proofs: list[Proof]) -> None:
    """The race probe of every invariant dbtruth.yaml gives a race, added to its proof."""
    raced = [i for i in manifest.invariants if i.race is not None]
    if not raced or copy.fork is None:
        return
    by_id = {p.subject.id: n for n, p in enumerate(proofs) if p.subject.source == "dbtruth.yaml"}
    for invariant in raced:
        assert invariant.race is not None
        check = invariant.race.check or invariant.detective_query or ""
        probe = race_probe(copy.fork, invariant.race, check, seconds(options.probe_timeout))
        at = by_id.get(invariant.id)
        if at is None:
            continue
        before = proofs[at]
        probes = (*before.probes, probe)
        # Without probes of its own (a cross-row invariant), the race is the whole proof.
        proofs[at] = Proof(before.subject, verdict(probes), probes)


def prove_one(
    conn: psycopg.Connection[Any], catalog: Catalog, subject: Subject, plan: Plan, timeout: str
) -> Proof:
    if isinstance(plan, Unprovable):
        return Proof(subject, Status.NOT_PROVABLE, reason=plan.reason)
    return proof_of(conn, subject, timeout, lambda tx: Prober(tx, catalog).probes(plan))
