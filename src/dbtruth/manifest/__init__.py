"""The design manifest, dbtruth.yaml: models, loading with line-numbered errors, JSON Schema.

The models are imported when first asked for (`from dbtruth.manifest import Manifest`), not
with the package: building them is most of pydantic's cost, and `dbtruth --help` reads only
manifest.paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest, load_manifest
    from dbtruth.manifest.locate import find_manifest

__all__ = ["Manifest", "find_manifest", "load_manifest"]


def __getattr__(name: str) -> Any:
    if name == "find_manifest":
        from dbtruth.manifest import locate

        return locate.find_manifest
    if name in __all__:
        from dbtruth.manifest import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
