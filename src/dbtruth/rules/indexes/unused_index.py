"""X004 unused-index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.rules.naming import index_ref
from dbtruth.spec import Settings, rule


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


@rule("X004", "unused-index", Severity.INFO, live_only=True)
def unused_index(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    On a live database, finds indexes that no query has scanned since the statistics were last
    reset (or the server started), when that window is at least `unused_index_min_days`
    (default 14). Unique, primary key and constraint indexes are never reported: they enforce an
    invariant even when no query reads them.

    ## Why is this bad?
    An index without a query is a contract without a party (Principle 4): it costs every write,
    vacuum and the buffer cache. The message states the observation window, because "unused for
    two days" means little and "unused since the last reset" means nothing on a fresh reset.

    ## Example
    ```sql
    CREATE INDEX case_note_body_idx ON case_note (body);  -- idx_scan = 0 for 90 days
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY case_note_body_idx;
    ```

    ## Fix safety
    DROP INDEX CONCURRENTLY blocks no writes and cannot run in a transaction block. Counters are
    per server: check the replicas (and month-end jobs) before dropping.

    ## References
    PostgreSQL manual 27.2.2 pg_stat_all_indexes; playbook Principle 4.
    """
    stats = catalog.stats
    if stats is None or not stats.collected_at:
        return
    since_text = stats.stats_reset or stats.postmaster_start
    since = _parse(since_text)
    days = (_parse(stats.collected_at) - since).total_seconds() / 86400
    if days < settings.unused_index_min_days:
        return
    for index in catalog.indexes:
        if index.unique or index.primary or index.constraint or not index.valid:
            continue
        usage = catalog.index_stats(index)
        if usage is None or usage.idx_scan > 0:
            continue
        yield Violation(
            index_ref(index),
            f"index {index.name} on {index.table_qualified} has not been scanned in "
            f"{days:.0f} days (since {since_text}); it costs "
            f"{usage.size_bytes / 1048576:.1f} MiB and every write",
            Fix(
                "drop it if no replica or periodic job uses it",
                sql=f"DROP INDEX CONCURRENTLY {qualified(index.schema, index.name)};",
                safe=True,
                note="outside a transaction block; check replicas first",
            ),
            evidence=(
                ("idx_scan", "0"),
                ("since", since_text),
                ("size_bytes", str(usage.size_bytes)),
            ),
        )
