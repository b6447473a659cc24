"""Catalog snapshots: JSON written by `dbtruth snapshot`, read back for offline checks.

The round trip is exact (snapshot → check gives the live target's findings) because the JSON is
the Catalog's own fields, decoded through pydantic's dataclass validation.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dbtruth import __version__
from dbtruth.errors import DbtruthError
from dbtruth.model import Catalog

FORMAT = "dbtruth-snapshot"
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def dumps(catalog: Catalog) -> str:
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dbtruth_version": __version__,
        "catalog": _plain(catalog),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _catalog_fields() -> set[str]:
    return {f.name for f in dataclasses.fields(Catalog) if f.init}


def is_snapshot(path: Path) -> bool:
    return path.is_file() and path.suffix == ".json"


def load(path: Path) -> Catalog:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DbtruthError(f"cannot read snapshot: {exc}", where=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise DbtruthError(f"not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}") from exc
    except RecursionError as exc:  # the decoder recurses once per level of nesting
        raise DbtruthError("not a snapshot: JSON nested too deeply", where=str(path)) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DbtruthError(
            'not a dbtruth snapshot (no "format": "dbtruth-snapshot")', where=str(path)
        )
    if document.get("format_version") != FORMAT_VERSION:
        raise DbtruthError(
            f"snapshot format version {document.get('format_version')} is not supported "
            f"(this dbtruth reads version {FORMAT_VERSION})",
            where=str(path),
        )
    raw = document.get("catalog")
    if not isinstance(raw, dict):
        raise DbtruthError("snapshot has no catalog object", where=str(path))
    raw = {k: v for k, v in raw.items() if k in _catalog_fields()}
    raw["source"] = f"snapshot {path.name} (taken from {raw.get('source', 'unknown')})"
    try:
        return TypeAdapter(Catalog).validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DbtruthError(
            f"snapshot catalog is malformed at {where}: {first['msg']}", where=str(path)
        ) from exc
