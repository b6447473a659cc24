"""Where dbtruth.yaml is, found without loading the manifest's models: a run without one
(`migrate lint` in a pre-commit hook, most often) never pays for them."""

from __future__ import annotations

from pathlib import Path

from dbtruth.inputs import UnreadableInput, not_regular

MANIFEST_NAME = "dbtruth.yaml"


def find_manifest(paths: tuple[Path, ...]) -> Path | None:
    """dbtruth.yaml next to the target: inside a target folder, beside a target file, or in the
    working directory."""
    candidates = []
    for path in paths:
        candidates.append(path / MANIFEST_NAME if path.is_dir() else path.parent / MANIFEST_NAME)
    candidates.append(Path.cwd() / MANIFEST_NAME)
    for candidate in candidates:
        kind = not_regular(candidate) if candidate.exists() else None
        if kind is not None:  # a FIFO would never be read; anything else is not a manifest
            raise UnreadableInput(f"is {kind}, not a manifest; not read", where=str(candidate))
        if candidate.is_file():
            return candidate
    return None
