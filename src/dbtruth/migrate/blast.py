"""Blast radius: how much a lock finding costs on the database the migration will run on.

With a live target (or a snapshot of one), each table has a size and a write rate
(pg_stat_user_tables' inserts, updates and deletes since the counters started). A finding of a
lock or rewrite rule on that table says both — "public.events: 41.2 GB, ~900 writes/s" — and
on a table below the small-table threshold (DEFAULT_SMALL_TABLE_ROWS in dbtruth.migrate, or
the manifest's rules.settings.small_table_rows) it is graded info: the lock is brief there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dbtruth.findings import Finding, Severity

if TYPE_CHECKING:
    from dbtruth.model import Catalog

# Rules whose cost is a lock held while the table is built, scanned or rewritten.
LOCK_RULES = frozenset({"M001", "M003", "M004", "M005", "M006", "M007", "M011", "M013"})


@dataclass(frozen=True, slots=True)
class TableSize:
    rows: int
    bytes: int
    writes_per_second: float | None  # None when the observation window is unknown


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def table_sizes(catalog: Catalog) -> dict[str, TableSize]:
    stats = catalog.stats
    if stats is None:
        return {}
    seconds = None
    since = stats.stats_reset or stats.postmaster_start
    if since and stats.collected_at:
        seconds = (_moment(stats.collected_at) - _moment(since)).total_seconds()
    sizes = {}
    for table in stats.tables:
        writes = table.inserts + table.updates + table.deletes
        rate = writes / seconds if seconds and seconds > 0 else None
        sizes[f"{table.schema}.{table.name}"] = TableSize(
            max(table.row_estimate, 0), table.total_bytes, rate
        )
    return sizes


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def describe(size: TableSize) -> str:
    text = f"{size.rows:,} rows, {human_bytes(size.bytes)}"
    if size.writes_per_second is not None:
        rate = size.writes_per_second
        text += f", ~{rate:,.0f} writes/s" if rate >= 1 else f", {rate * 3600:,.0f} writes/h"
    return text


def grade(finding: Finding, sizes: dict[str, TableSize], small_table_rows: int) -> Finding:
    """The finding with the table's size in its message, demoted to info on a small table."""
    if finding.code not in LOCK_RULES or finding.object.kind != "table":
        return finding
    relation = finding.object.relation
    size = sizes.get(relation)
    if size is None:
        return finding
    message = f"{finding.violation.message} ({relation}: {describe(size)})"
    severity = finding.severity
    if size.rows < small_table_rows and severity > Severity.INFO:
        severity = Severity.INFO
        message += f"; below the small-table threshold of {small_table_rows:,} rows"
    violation = dataclasses.replace(finding.violation, message=message)
    return dataclasses.replace(finding, violation=violation, severity=severity)
