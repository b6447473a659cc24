"""O008 wal-archiving-failing."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O008", "wal-archiving-failing", Severity.ERROR)
def wal_archiving_failing(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a server whose WAL archiver's last attempt failed: pg_stat_archiver's last failure
    is later than its last success (or it never succeeded).

    ## Why is this bad?
    A segment that cannot be archived stays in pg_wal, and so does every later one: the disk
    fills until the server stops, and meanwhile the point-in-time recovery the archive promises
    has a hole that grows with every minute (§3.10, §9 "Restore failed").

    ## Example
    ```
    archive_command = 'cp %p /mnt/archive/%f'   # /mnt/archive unmounted
    ```

    ## Use instead
    An archive command that succeeds, alerts on pg_stat_archiver.failed_count, and a restore
    drill that replays the archive (`dbtruth drill restore`).

    ## Fix safety
    No fix is produced: the server log names why archive_command failed.

    ## References
    PostgreSQL manual 26.3.1 Setting Up WAL Archiving, 28.2.13 pg_stat_archiver; playbook
    §3.10.
    """
    archiver = facts.archiver
    if archiver is None or not archiver.failed_count or archiver.last_failed_time is None:
        return
    last_ok = archiver.last_archived_time
    if last_ok is not None and last_ok >= archiver.last_failed_time:
        return  # failures in the past; the archiver has caught up since
    yield Violation(
        ObjectRef("setting", "", "archive_command"),
        f"WAL archiving is failing: segment {archiver.last_failed_wal} failed at "
        f"{archiver.last_failed_time}, "
        + (f"the last success was {last_ok}" if last_ok else "and no segment was ever archived")
        + f" ({archiver.failed_count:,} failures since the counters' reset)",
        evidence=(
            ("archive_command", facts.value("archive_command") or "(empty)"),
            ("archive_library", facts.value("archive_library") or "(none)"),
            ("archived", f"{archiver.archived_count:,}"),
        ),
    )
