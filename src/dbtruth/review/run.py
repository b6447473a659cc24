"""`dbtruth review` as one call: read dbtruth.yaml and the target, run the catalog rules, prove
the declared invariants on a throwaway copy, plan the declared workload, and build the review
from the same facts.

Proving is what lets the review say an invariant holds: without it the review can only say an
object that should enforce it exists. It runs by default when the target is SQL files (the copy is
made on dbtruth's own scratch server), and on a live target only when asked (`--prove`: the
schema is copied with pg_dump, which only reads); a snapshot holds no schema to copy. Nothing
is proven when dbtruth.yaml declares no invariant and no table enables row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dbtruth import engine
from dbtruth.errors import DbtruthError
from dbtruth.findings import Location
from dbtruth.manifest.config import Manifest, load_manifest
from dbtruth.model import Catalog
from dbtruth.reading import TargetOptions, load, local_paths, manifest_path, target_label
from dbtruth.review import build_review
from dbtruth.review.model import Health, Plans, Proofs, Review
from dbtruth.sources.target import ProgressFactory


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    today: date | None = None  # judge dates as of this day; None: today
    prove: bool | None = None  # None: prove unless the target is a live server
    data: bool = False  # also read the rows (prove --data)


@dataclass(frozen=True, slots=True)
class ReviewedTarget:
    review: Review
    findings: int
    description: str  # the target, as its loader names it


def review_target(
    options: ReviewOptions, progress: ProgressFactory | None = None
) -> ReviewedTarget:
    target = options.target.target
    found = manifest_path(options.manifest, target)
    manifest = load_manifest(found, allow_outside=options.allow_outside_paths)
    loaded = load(options.target, progress)
    locations = {name: Location(file, line) for name, (file, line) in loaded.locations.items()}
    result = engine.run(loaded.catalog, manifest, locations=locations)
    proofs = _proofs(options, manifest, loaded.catalog)
    plans = _plans(options, manifest, loaded.catalog)
    health = _health(options, loaded.catalog)
    review = build_review(
        loaded.catalog,
        manifest,
        result,
        target=target_label(target),
        manifest_path=found,
        target_paths=local_paths(target),
        today=options.today or date.today(),
        notes=(*loaded.notes, *_unread(options, proofs)),
        proofs=proofs,
        plans=plans,
        health=health,
    )
    return ReviewedTarget(review, len(result.findings), loaded.description)


def _plans(options: ReviewOptions, manifest: Manifest, catalog: Catalog) -> Plans:
    """dbtruth.yaml's workload planned (EXPLAIN, never ANALYZE) where the review read the
    schema, or why it was not: planning runs nothing, so it needs no asking."""
    if not manifest.workload:
        return Plans(None, "dbtruth.yaml declares no workload to plan")
    if catalog.source.startswith("snapshot"):
        return Plans(None, "a snapshot holds no schema to plan on; review the SQL files or URL")
    from dbtruth.workload.run import WorkloadOptions, workload_target

    try:
        planned = workload_target(
            WorkloadOptions(
                target=options.target,
                manifest=options.manifest,
                allow_outside_paths=options.allow_outside_paths,
                top=0,  # the declared queries: the review judges the design's own contracts
            )
        )
    except DbtruthError as exc:  # a query that does not parse is X006's to report
        return Plans(None, f"not planned: {exc}")
    return Plans(planned, None)


def _health(options: ReviewOptions, catalog: Catalog) -> Health:
    """What `dbtruth ops` reads of a live server (read-only, like the review's own session);
    SQL files and snapshots have no running server."""
    if not catalog.is_live:
        return Health(
            None, "the target is not a running server: operations are declared, not measured"
        )
    from dbtruth.ops.run import OpsOptions, ops_target

    return Health(
        ops_target(
            OpsOptions(
                target=options.target,
                manifest=options.manifest,
                allow_outside_paths=options.allow_outside_paths,
            )
        ),
        None,
    )


def _unread(options: ReviewOptions, proofs: Proofs) -> tuple[str, ...]:
    """--data asked for the rows; where nothing was proven, nothing was read either."""
    if options.data and proofs.proved is None:
        return (f"--data: the rows were not read ({proofs.absent})",)
    return ()


def _proofs(options: ReviewOptions, manifest: Manifest, catalog: Catalog) -> Proofs:
    """The proofs of the declared invariants (and the tenant matrix), or why there are none."""
    snapshot = catalog.source.startswith("snapshot")
    wanted = options.prove
    if wanted is None:
        wanted = not catalog.is_live and not snapshot
    if not wanted or snapshot:
        why = (
            "the review was asked not to prove them (--no-prove)"
            if options.prove is False
            else "a snapshot holds no schema or rows to copy; review the SQL files to prove them"
            if snapshot
            else "the target is a live server; `dbtruth review --prove` copies its schema "
            "and proves them"
        )
        return Proofs(None, f"not proven in this review: {why}")
    nothing = not manifest.invariants and not any(t.rls_enabled for t in catalog.tables)
    if nothing and not options.data:
        return Proofs(None, "nothing to prove: dbtruth.yaml declares no invariant")
    from dbtruth.prove.run import ProveOptions, prove_target

    proved = prove_target(
        ProveOptions(
            target=options.target,
            manifest=options.manifest,
            allow_outside_paths=options.allow_outside_paths,
            declared_only=True,
            data=options.data,
        )
    )
    return Proofs(proved, None)
