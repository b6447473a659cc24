"""O009 replication-slot-retaining-wal."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import literal
from dbtruth.rules.ops_text import size
from dbtruth.spec import Settings, ops_rule


@ops_rule("O009", "replication-slot-retaining-wal", Severity.WARNING)
def replication_slot_retaining_wal(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds replication slots keeping more WAL on the server than `slot_retained_bytes`
    (default 1 GiB): the distance from the slot's restart_lsn to the current WAL position. An
    inactive slot (no consumer connected) is an error: nothing will ever release that WAL.

    ## Why is this bad?
    A slot promises its consumer every WAL segment it has not confirmed; a consumer that went
    away (a decommissioned replica, a CDC connector that was stopped) keeps that promise alive
    forever, and pg_wal grows until the disk is full and the primary stops. It also holds back
    VACUUM of the catalogs (a logical slot's catalog_xmin).

    ## Example
    ```sql
    SELECT pg_create_logical_replication_slot('debezium', 'pgoutput');  -- connector removed
    ```

    ## Use instead
    Drop slots without a consumer, and cap the damage with `max_slot_wal_keep_size`.

    ## Fix safety
    Dropping a slot is immediate and cannot be undone: its consumer, if it comes back, has lost
    its place and must be re-seeded. The fix is given only for an inactive slot.

    ## References
    PostgreSQL manual 27.2.6 Replication Slots, 20.6.1 max_slot_wal_keep_size; playbook §6.9.
    """
    limit = settings.ops.slot_retained_bytes
    for slot in facts.slots:
        if slot.retained_bytes < limit:
            continue
        fix = None
        if not slot.active:
            fix = Fix(
                "drop the slot no consumer uses",
                sql=f"SELECT pg_drop_replication_slot({literal(slot.name)});",
                lock_safe=True,
                behaviour_change=True,
                note="its consumer, if it returns, must be re-seeded",
            )
        yield Violation(
            ObjectRef("replication slot", "", slot.name),
            f"{slot.kind} replication slot {slot.name} keeps {size(slot.retained_bytes)} of WAL "
            "on the server"
            + ("" if slot.active else "; no consumer is connected, so nothing will release it"),
            fix,
            evidence=(
                ("active", "yes" if slot.active else "no"),
                ("wal_status", slot.wal_status or "?"),
                ("max_slot_wal_keep_size", facts.value("max_slot_wal_keep_size", "?")),
            ),
            severity=None if slot.active else Severity.ERROR,
        )
