"""O007 wal-archiving-off."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O007", "wal-archiving-off", Severity.WARNING)
def wal_archiving_off(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a primary server whose `archive_mode` is off: no WAL segment is archived.

    ## Why is this bad?
    Without continuous archiving there is no point-in-time recovery: a restore goes back to the
    last base backup, and everything written since is lost. "Correctness without recovery is
    fragile correctness" (§3.10); a wrong UPDATE at 14:02 can only be undone by replaying WAL
    to 14:01. A backup tool that streams WAL itself (pgBackRest, Barman, WAL-G with
    `archive_command`) sets archive_mode too, so off means none does.

    ## Example
    ```
    archive_mode = off   # postgresql.conf, the default
    ```

    ## Use instead
    ```
    archive_mode = on
    archive_command = 'pgbackrest --stanza=main archive-push %p'   # or archive_library
    ```

    ## Fix safety
    archive_mode takes effect at a server restart; the archive destination must exist and be
    monitored (O008), or WAL accumulates on the server until its disk fills.

    ## References
    PostgreSQL manual 26.3 Continuous Archiving and Point-in-Time Recovery; playbook §3.10,
    §6.9.
    """
    mode = facts.setting("archive_mode")
    if mode is None or facts.in_recovery or mode.value != "off":
        return
    yield Violation(
        ObjectRef("setting", "", "archive_mode"),
        "archive_mode is off: no WAL is archived, so no point-in-time recovery is possible "
        "(a restore returns to the last base backup)",
        Fix(
            "archive WAL to the backup repository",
            sql="ALTER SYSTEM SET archive_mode = on;  -- then archive_command or archive_library",
            lock_safe=True,
            note="takes effect after a restart; monitor the archiver (O008)",
        ),
        evidence=(
            ("archive_mode", f"off ({mode.where})"),
            ("wal_level", facts.value("wal_level", "?")),
        ),
    )
