"""Catalog objects and SQL name helpers; no I/O."""

from dbtruth.model.catalog import (
    Catalog,
    Column,
    Constraint,
    Extension,
    Function,
    Grant,
    Index,
    IndexStats,
    Policy,
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
    "Function",
    "Grant",
    "Index",
    "IndexStats",
    "Policy",
    "Schema",
    "Sequence",
    "Stats",
    "Table",
    "TableStats",
    "Trigger",
    "View",
]
