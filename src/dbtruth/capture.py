"""What a target holds, written down: `dbtruth snapshot` (its catalog and live statistics as
JSON, for offline checks) and `dbtruth init` (a first dbtruth.yaml, guesses marked)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dbtruth.manifest.draft import draft
from dbtruth.manifest.locate import MANIFEST_NAME
from dbtruth.reading import TargetOptions, load, local_paths
from dbtruth.sources import snapshot
from dbtruth.sources.target import ProgressFactory


@dataclass(frozen=True, slots=True)
class Captured:
    text: str  # the document to write
    description: str  # the target, as its loader names it
    tables: int


def take_snapshot(options: TargetOptions, progress: ProgressFactory | None = None) -> Captured:
    loaded = load(options, progress)
    return Captured(snapshot.dumps(loaded.catalog), loaded.description, len(loaded.catalog.tables))


def draft_manifest(options: TargetOptions, progress: ProgressFactory | None = None) -> Captured:
    """dbtruth.yaml as the catalog suggests it: what it shows, guesses marked as guesses, and
    the playbook's open questions as TODOs."""
    loaded = load(options, progress)
    return Captured(draft(loaded.catalog), loaded.description, len(loaded.catalog.tables))


def manifest_destination(target: tuple[str, ...]) -> Path:
    """Where init writes by default: dbtruth.yaml next to the target (in a target folder,
    beside a target file), or in the working directory for a live target."""
    local = local_paths(target)
    base = local[0] if local else Path.cwd()
    return (base if base.is_dir() else base.parent) / MANIFEST_NAME
