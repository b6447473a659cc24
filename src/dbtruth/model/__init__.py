"""Catalog objects and SQL name helpers; no I/O.

The catalog classes load on first use: `migrate lint` reads only `dbtruth.model.migration`, and
building forty dataclasses is a visible share of a pre-commit hook's start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtruth.model.catalog import (
        Catalog,
        Column,
        Constraint,
        Extension,
        ExtensionMember,
        Function,
        Grant,
        Index,
        IndexStats,
        LoadedRows,
        Policy,
        Removal,
        Schema,
        Sequence,
        Stats,
        Table,
        TableStats,
        Trigger,
        View,
    )


__all__ = [
    "Catalog",
    "Column",
    "Constraint",
    "Extension",
    "ExtensionMember",
    "Function",
    "Grant",
    "Index",
    "IndexStats",
    "LoadedRows",
    "Policy",
    "Removal",
    "Schema",
    "Sequence",
    "Stats",
    "Table",
    "TableStats",
    "Trigger",
    "View",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dbtruth.model import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
