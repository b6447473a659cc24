"""`dbtruth adr check [TARGET]` as one call: read the manifest's ADR folder, run each ADR's
confirmations and revisit thresholds against TARGET (when given), and judge it all with the
decision rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbtruth import engine
from dbtruth.adr.confirm import confirm
from dbtruth.engine import Result
from dbtruth.errors import DbtruthError
from dbtruth.findings import Severity
from dbtruth.manifest import Manifest
from dbtruth.model.decisions import DecisionFacts
from dbtruth.reading import TargetOptions, fail_threshold, read_manifest, target_label
from dbtruth.sources.adrs import read_adrs


@dataclass(frozen=True, slots=True)
class AdrOptions:
    target: TargetOptions | None = None  # None: the ADRs alone, confirmations not run
    manifest: Path | None = None
    allow_outside_paths: bool = False
    folder: Path | None = None  # else dbtruth.yaml's decisions.adr_folder
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None


@dataclass
class AdrCheck:
    facts: DecisionFacts
    result: Result
    label: str
    notes: list[str] = field(default_factory=list)
    threshold: Severity | None = None

    def fails(self) -> bool:
        return self.threshold is not None and any(
            f.severity >= self.threshold for f in self.result.findings
        )


def adr_folder(manifest: Manifest, explicit: Path | None) -> Path:
    """The ADR folder: the one given, else dbtruth.yaml's decisions.adr_folder (relative to
    dbtruth.yaml), else adr-tools' `.adr-dir`, else docs/adr."""
    if explicit is not None:
        return explicit
    if manifest.decisions is not None and manifest.file:
        return manifest.file.parent / manifest.decisions.adr_folder
    marker = Path(".adr-dir")
    if marker.is_file():
        text = marker.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if text:
            return Path(text[0].strip())
    return Path("docs/adr")


def check_adrs(options: AdrOptions) -> AdrCheck:
    words = options.target.target if options.target is not None else ()
    manifest = read_manifest(options.manifest, words, options.allow_outside_paths)
    folder = adr_folder(manifest, options.folder)
    if not folder.is_dir():
        raise DbtruthError(
            f"no ADR folder at {folder}",
            hint="set decisions.adr_folder in dbtruth.yaml, or give --folder; "
            "`dbtruth adr new` creates it",
        )
    adrs, problems = read_adrs(folder)
    facts = DecisionFacts(folder, adrs)
    notes = list(problems)
    if not adrs:
        notes.append(f"no ADR in {folder}")
    manifest_path = options.manifest or manifest.file
    notes += confirm(facts, manifest, options.target, manifest_path, options.allow_outside_paths)
    result = engine.run_decisions(
        facts, manifest, extra_select=list(options.select) or None,
        extra_ignore=list(options.ignore), baseline=options.baseline,
    )  # fmt: skip
    label = target_label(words) if options.target is not None else str(folder)
    return AdrCheck(facts, result, label, notes, fail_threshold(options.fail_on, manifest))
