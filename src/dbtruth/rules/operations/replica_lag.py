"""O020 replica-lag."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.rules.ops_text import duration, size
from dbtruth.spec import Settings, ops_rule


@ops_rule("O020", "replica-lag", Severity.WARNING)
def replica_lag(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports standbys that trail the primary: as the primary sees them (pg_stat_replication's
    replay lag and the WAL not yet replayed) and, for each `--replica URL`, as the replica
    shows itself — how much of the primary's WAL it has not replayed, whether replay is paused,
    and whether it is a standby at all. The thresholds are `replica_lag_seconds` (30) and
    `replica_lag_bytes` (64 MiB); a paused replay, or a "replica" that is not in recovery, is an
    error.

    ## Why is this bad?
    Reads sent to a lagging replica return the past: a user saves a change and does not see
    it, a report counts yesterday's rows. A failover to it loses what it has not replayed (the
    RPO is its lag), and a replay paused by hand and forgotten keeps growing the gap until the
    disk of the primary, holding WAL for it, fills (§6.9).

    ## Example
    ```sql
    SELECT pg_wal_replay_pause();   -- on the replica, during an investigation; never resumed
    ```

    ## Use instead
    ```sql
    SELECT pg_wal_replay_resume();  -- on the replica
    ```
    and an alert on replay lag; reads that must see their own writes go to the primary.

    ## Fix safety
    No fix is produced: the cause (long queries on the replica cancelled or delaying replay,
    network, I/O, a paused replay) is read from the replica's own state and logs.

    ## References
    PostgreSQL manual 27.2.5 Streaming Replication, 28.2.4 pg_stat_replication, 9.28.4 Recovery
    Control Functions; playbook §6.9, §9.
    """
    seconds_limit = settings.ops.replica_lag_seconds
    bytes_limit = settings.ops.replica_lag_bytes
    for standby in facts.standbys:
        lag_s = standby.replay_lag_seconds or 0.0
        lag_b = standby.replay_bytes or 0
        if lag_s < seconds_limit and lag_b < bytes_limit:
            continue
        yield Violation(
            ObjectRef("standby", "", standby.application or standby.client or "?"),
            f"standby {standby.application or standby.client} replays {duration(lag_s)} and "
            f"{size(lag_b)} behind this server",
            evidence=(("state", standby.state), ("client", standby.client or "local")),
        )
    for replica in facts.replicas:
        if replica.error is not None:
            yield Violation(
                ObjectRef("replica", "", replica.label),
                f"replica {replica.label} could not be read: {replica.error}",
                severity=Severity.ERROR,
            )
            continue
        if not replica.in_recovery:
            yield Violation(
                ObjectRef("replica", "", replica.label),
                f"{replica.label} is not a standby (not in recovery): it replicates nothing "
                "from this server",
                severity=Severity.ERROR,
            )
            continue
        behind = replica.replay_bytes or 0
        if not replica.replay_paused and behind < bytes_limit:
            continue
        yield Violation(
            ObjectRef("replica", "", replica.label),
            f"replica {replica.label} has not replayed {size(behind)} of this server's WAL"
            + ("; its replay is paused" if replica.replay_paused else ""),
            evidence=(
                ("replay paused", "yes" if replica.replay_paused else "no"),
                (
                    "last replayed commit",
                    duration(replica.replay_age_seconds) + " ago"
                    if replica.replay_age_seconds is not None
                    else "none",
                ),
            ),
            severity=Severity.ERROR if replica.replay_paused else None,
        )
