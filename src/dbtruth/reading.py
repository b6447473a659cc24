"""What every command reads first, from its options as the user typed them: its dbtruth.yaml
and its target (a live server, SQL files or a snapshot).

The capabilities (check, review, init, snapshot, migrate lint with --against) share these, so
that a target and a manifest are found, read and refused the same way by every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbtruth.errors import DbtruthError
from dbtruth.findings import Severity
from dbtruth.manifest.locate import find_manifest

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest
    from dbtruth.sources.target import LoadedTarget, ProgressFactory


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """A target and how to read it: the words of the command line, unparsed."""

    target: tuple[str, ...] = ()  # nothing: libpq's PG* environment
    scratch: str | None = None
    keep_going: bool = False
    replace: tuple[str, ...] = ()  # OLD=NEW
    statement_timeout: str = "60s"
    lock_timeout: str = "1s"


def parse_replacements(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        if "=" not in value:
            raise DbtruthError(f"--replace expects OLD=NEW, got '{value}'")
        old, new = value.split("=", 1)
        pairs.append((old, new))
    return tuple(pairs)


def load(options: TargetOptions, progress: ProgressFactory | None = None) -> LoadedTarget:
    """The target's catalog, loaded as the options say."""
    # psycopg and the scratch server load here, when a command reads a target, and not when
    # `migrate lint` without --against imports this module.
    from dbtruth.sources.target import LoadOptions, load_target

    load_options = LoadOptions(
        scratch=options.scratch,
        keep_going=options.keep_going,
        replacements=parse_replacements(options.replace),
        statement_timeout=options.statement_timeout,
        lock_timeout=options.lock_timeout,
    )
    return load_target(options.target, load_options, progress)


def target_label(target: tuple[str, ...]) -> str:
    """The target as outputs print it: URLs normalised, then every password hidden."""
    from dbtruth.sources.conninfo import is_url, normalize, redact

    return " ".join(redact(normalize(t) if is_url(t) else t) for t in target) or "(PG* environment)"


def local_paths(target: tuple[str, ...]) -> tuple[Path, ...]:
    """The target's words that name files or folders on this machine."""
    return tuple(Path(t) for t in target if Path(t).exists())


def manifest_path(path: Path | None, target: tuple[str, ...]) -> Path | None:
    """The dbtruth.yaml to read: the one named (which must exist), else the one next to the
    target, else ./dbtruth.yaml; None when there is none."""
    if path is not None and not path.is_file():
        raise DbtruthError("manifest not found", where=str(path))
    return path or find_manifest(local_paths(target))


def read_manifest(path: Path | None, target: tuple[str, ...], allow_outside: bool) -> Manifest:
    from dbtruth.manifest.config import load_manifest  # the models: only when needed

    return load_manifest(manifest_path(path, target), allow_outside=allow_outside)


def read_manifest_if_any(
    path: Path | None, target: tuple[str, ...], allow_outside: bool
) -> Manifest | None:
    """The dbtruth.yaml there is, or None, without loading the manifest's models for nothing:
    for commands that need only its rule settings, whose defaults they know."""
    found = manifest_path(path, target)
    return None if found is None else read_manifest(found, target, allow_outside)


# rules.fail_on's default, for a run without a dbtruth.yaml
DEFAULT_FAIL_ON = "warning"


def fail_threshold(fail_on: str | None, manifest: Manifest | None) -> Severity | None:
    """The severity that fails the run (--fail-on, else rules.fail_on); None for never."""
    text = fail_on or (manifest.rules.fail_on if manifest is not None else DEFAULT_FAIL_ON)
    return None if text == "never" else Severity.parse(text)
