"""`dbtruth check`: the catalog rules over one target, with suppressions and the baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbtruth import engine
from dbtruth.engine import Result
from dbtruth.findings import Location, Severity
from dbtruth.model import Catalog
from dbtruth.reading import TargetOptions, fail_threshold, load, read_manifest, target_label
from dbtruth.sources.target import ProgressFactory


@dataclass(frozen=True, slots=True)
class CheckOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    manifest: Path | None = None  # else dbtruth.yaml next to the target
    allow_outside_paths: bool = False
    select: tuple[str, ...] = ()  # codes, names or family letters, beyond rules.select
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None  # else the manifest's rules.fail_on


@dataclass
class CheckedTarget:
    result: Result
    catalog: Catalog
    label: str  # the target as outputs print it, passwords hidden
    notes: list[str]
    load_seconds: dict[str, float]  # scratch, load, introspect, connect
    threshold: Severity | None  # the severity that fails the run; None: never

    def fails(self) -> bool:
        return self.threshold is not None and any(
            f.severity >= self.threshold for f in self.result.findings
        )


def check_target(options: CheckOptions, progress: ProgressFactory | None = None) -> CheckedTarget:
    target = options.target.target
    manifest = read_manifest(options.manifest, target, options.allow_outside_paths)
    loaded = load(options.target, progress)
    locations = {name: Location(file, line) for name, (file, line) in loaded.locations.items()}
    result = engine.run(
        loaded.catalog,
        manifest,
        extra_select=list(options.select) or None,
        extra_ignore=list(options.ignore),
        baseline=options.baseline,
        locations=locations,
    )
    return CheckedTarget(
        result=result,
        catalog=loaded.catalog,
        label=target_label(target),
        notes=loaded.notes,
        load_seconds=loaded.timings,
        threshold=fail_threshold(options.fail_on, manifest),
    )
