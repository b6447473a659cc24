"""`dbtruth prove` as one call: copy the target's schema into a throwaway database, read its
catalog, plan a probe for every invariant, run each in its own rolled-back transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbtruth.errors import DbtruthError
from dbtruth.model import Catalog
from dbtruth.prove import derive
from dbtruth.prove.clone import cloned
from dbtruth.prove.model import Proof, Proved, Status, Subject, verdict
from dbtruth.prove.plans import Plan, Unprovable
from dbtruth.prove.probes import Prober
from dbtruth.prove.runner import CannotSynthesize, probe_transaction
from dbtruth.reading import TargetOptions, read_manifest, target_label
from dbtruth.sources.introspect import read_catalog

# A probe's statements are single-row writes on an empty copy; longer means a trigger of the
# schema loops or waits, and the probe is reported as not provable.
DEFAULT_PROBE_TIMEOUT = "5s"


@dataclass(frozen=True, slots=True)
class ProveOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    probe_timeout: str = DEFAULT_PROBE_TIMEOUT


def prove_target(options: ProveOptions) -> Proved:
    words = options.target.target
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    with cloned(options.target) as copy:
        try:
            with psycopg.connect(copy.conninfo, autocommit=True) as conn:
                catalog = read_catalog(conn, copy.description, live=False)
                planned = derive.plans(catalog, list(manifest.invariants))
                proofs = [prove_one(conn, catalog, s, p, options.probe_timeout) for s, p in planned]
        except psycopg.OperationalError as exc:
            raise DbtruthError(f"the scratch copy stopped answering: {exc}") from exc
    notes = list(copy.notes)
    partitions = sum(1 for t in catalog.tables if t.partition_of)
    if partitions:
        notes.append(f"{partitions} partition(s) probed through their partitioned tables")
    return Proved(
        proofs=proofs,
        target=target_label(words),
        clone=copy.description,
        clone_database=copy.database,
        server_version=catalog.server_version,
        notes=notes,
    )


def prove_one(
    conn: psycopg.Connection[Any], catalog: Catalog, subject: Subject, plan: Plan, timeout: str
) -> Proof:
    if isinstance(plan, Unprovable):
        return Proof(subject, Status.NOT_PROVABLE, reason=plan.reason)
    try:
        with probe_transaction(conn, timeout) as tx:
            prober = Prober(tx, catalog)
            try:
                probes = tuple(prober.probes(plan))
            except CannotSynthesize as exc:
                return Proof(subject, Status.NOT_PROVABLE, reason=str(exc))
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:  # a lookup of dbtruth's own failed: say so, go on
        message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
        return Proof(subject, Status.NOT_PROVABLE, reason=f"PostgreSQL refused a lookup: {message}")
    return Proof(subject, verdict(probes), probes)
