"""`dbtruth review` as one call: read dbtruth.yaml and the target, run the catalog rules, and
build the review from the same facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dbtruth import engine
from dbtruth.findings import Location
from dbtruth.manifest.config import load_manifest
from dbtruth.reading import TargetOptions, load, local_paths, manifest_path, target_label
from dbtruth.review import build_review
from dbtruth.review.model import Review
from dbtruth.sources.target import ProgressFactory


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    today: date | None = None  # judge dates as of this day; None: today


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
    review = build_review(
        loaded.catalog,
        manifest,
        result,
        target=target_label(target),
        manifest_path=found,
        target_paths=local_paths(target),
        today=options.today or date.today(),
        notes=tuple(loaded.notes),
    )
    return ReviewedTarget(review, len(result.findings), loaded.description)
