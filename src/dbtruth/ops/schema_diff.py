"""Two catalogs compared object by object: what a restore must reproduce exactly.

Tables with their columns (type, NOT NULL, default), constraints with their definitions and
whether they are validated, indexes with their definitions, views, functions by signature,
sequences. Owners and privileges are left out: a drill restores without them (pg_restore
--no-owner --no-privileges), as a restore onto other infrastructure does.
"""

from __future__ import annotations

from dbtruth.model import Catalog


def catalog_facts(catalog: Catalog) -> dict[str, str]:
    """Every object a restore must reproduce, by a stable key, with what it must equal."""
    facts: dict[str, str] = {}
    for table in catalog.tables:
        facts[f"table {table.qualified}"] = table.kind
        for column in table.columns:
            facts[f"column {table.qualified}.{column.name}"] = (
                f"{column.type}{' NOT NULL' if column.not_null else ''}"
                f"{f' DEFAULT {column.default}' if column.default else ''}"
                f"{f' {column.generated}' if column.generated else ''}"
            )
    for constraint in catalog.constraints:
        key = f"constraint {constraint.table_qualified}.{constraint.name}"
        facts[key] = constraint.definition + ("" if constraint.validated else " (NOT VALID)")
    for index in catalog.indexes:
        facts[f"index {index.qualified}"] = index.definition + ("" if index.valid else " INVALID")
    for view in catalog.views:
        facts[f"view {view.schema}.{view.name}"] = " ".join(view.definition.split())
    for function in catalog.functions:
        facts[f"function {function.schema}.{function.name}({function.arguments})"] = (
            f"{function.kind} returns {function.returns}"
        )
    for sequence in catalog.sequences:
        facts[f"sequence {sequence.schema}.{sequence.name}"] = sequence.data_type
    return facts


def differences(source: Catalog, restored: Catalog, limit: int = 50) -> tuple[list[str], int]:
    """What the restore lacks, has more of, or has otherwise; at most `limit` lines, and how
    many differences there are in all."""
    want, have = catalog_facts(source), catalog_facts(restored)
    lines: list[str] = []
    for key, value in want.items():
        if key not in have:
            lines.append(f"missing from the restore: {key}")
        elif have[key] != value:
            lines.append(f"differs: {key}: {value!r} on the source, {have[key]!r} restored")
    lines += [f"only in the restore: {key}" for key in have if key not in want]
    return lines[:limit], len(lines)
