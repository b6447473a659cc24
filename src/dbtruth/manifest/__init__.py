"""The design manifest, dbtruth.yaml: models, loading with line-numbered errors, JSON Schema."""

from dbtruth.manifest.config import Manifest, find_manifest, load_manifest

__all__ = ["Manifest", "find_manifest", "load_manifest"]
