"""The files dbtruth.yaml names stay inside the project: the folder that holds dbtruth.yaml.

The review reads the ADR folder and workload SQL files and looks for runbooks, the capacity
model and practice documents. dbtruth.yaml arrives in pull requests, so without this a change
to it could put any file the reviewing machine can read (`adr_folder: ../../..`, an absolute
path, a symlink in the repository pointing away) into the review. A path that leaves the
project, by `..`, by being absolute or through a symlink, is an error at file:line unless the
user allows it on the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dbtruth.errors import DbtruthError

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest

ALLOW_FLAG = "--allow-outside-paths"

Key = tuple[str | int, ...]


def looks_like_path(text: str) -> bool:
    """Whether a declaration names a file rather than saying something in words: the review
    reads it the same way (dbtruth.review.facts.Facts.declared)."""
    text = text.strip()
    if not text or text.upper().startswith("TODO"):
        return False
    return " " not in text and ("/" in text or "." in Path(text).name)


def named_paths(manifest: Manifest) -> Iterator[tuple[Key, str]]:
    """Every path the manifest names, with where it is (the key path the loader numbers)."""
    if manifest.decisions is not None:
        yield ("decisions", "adr_folder"), manifest.decisions.adr_folder
    operations = manifest.operations
    if operations is not None:
        for i, runbook in enumerate(operations.runbooks):
            if looks_like_path(runbook):
                yield ("operations", "runbooks", i), runbook
        if operations.capacity_model and looks_like_path(operations.capacity_model):
            yield ("operations", "capacity_model"), operations.capacity_model
        if operations.restore_drill_history:
            yield ("operations", "restore_drill_history"), operations.restore_drill_history
    if manifest.practices is not None:
        for name, value in manifest.practices:
            if isinstance(value, str) and looks_like_path(value):
                yield ("practices", name), value
    for i, query in enumerate(manifest.workload):
        if query.file is not None:
            yield ("workload", i, "file"), query.file


def check_inside(manifest: Manifest, path: Path, lines: dict[Key, int]) -> None:
    """Raise at the first path the manifest at `path` names outside its folder; the files of
    the ADR folder (what the review reads) count, so a symlink among them is caught too."""
    project = path.parent.resolve()
    for key, text in named_paths(manifest):
        where = f"{path}:{lines.get(key, 1)}"
        name = ".".join(str(part) for part in key)
        target = _resolved(path.parent / text.strip(), name, where)
        if not target.is_relative_to(project):
            raise _outside(f"{name} points outside the project ({project}): {text}", where)
        if key == ("decisions", "adr_folder") and target.is_dir():
            for adr in sorted(target.glob("*.md")):
                if not _resolved(adr, name, where).is_relative_to(project):
                    raise _outside(
                        f"{name}: {adr.name} is a link to a file outside the project ({project})",
                        where,
                    )


def check_workload_files(manifest: Manifest, path: Path, lines: dict[Key, int]) -> None:
    """Raise at the first workload query whose file is not a file: the query is input, and
    one that is missing or a folder would otherwise be a query with no SQL, silently.
    (Runbooks and the like may be missing: the review reports that.)"""
    for i, query in enumerate(manifest.workload):
        if query.file is None:
            continue
        target = path.parent / query.file.strip()
        where = f"{path}:{lines.get(('workload', i, 'file'), 1)}"
        shown = query.file if len(query.file) <= 120 else query.file[:120] + "…"
        try:
            exists, is_file, is_dir = target.exists(), target.is_file(), target.is_dir()
        except (OSError, ValueError) as exc:  # a name too long, a NUL: not a file either
            reason = getattr(exc, "strerror", None) or str(exc)
            raise DbtruthError(
                f"workload.{i}.file: cannot follow {shown}: {reason}", where=where
            ) from exc
        if not exists:
            raise DbtruthError(f"workload.{i}.file: no such file: {shown}", where=where)
        if not is_file:
            kind = "a folder" if is_dir else "not a regular file"
            raise DbtruthError(f"workload.{i}.file: {shown} is {kind}, not a SQL file", where=where)


def _resolved(path: Path, name: str, where: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL in the name
        raise DbtruthError(f"{name}: cannot follow {path}: {exc}", where=where) from exc


def _outside(message: str, where: str) -> DbtruthError:
    return DbtruthError(message, where=where, hint=f"{ALLOW_FLAG} lets dbtruth read it")
