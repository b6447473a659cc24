"""What a live server shows about whether it can be operated and recovered: its settings with
where each comes from, its roles and their per-role settings, WAL archiving, replication slots
and standbys, transaction-ID age, the sessions and who blocks whom, dead rows and vacuum
history. Read once, read-only (dbtruth.sources.ops), then judged by the operations rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    value: str
    source: str  # pg_settings.source: default, configuration file, command line, ...
    unit: str | None = None

    @property
    def where(self) -> str:
        return "PostgreSQL's default" if self.source == "default" else self.source


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    login: bool
    superuser: bool
    bypassrls: bool
    replication: bool
    # ALTER ROLE … SET and ALTER ROLE … IN DATABASE … SET for this database: name -> value
    settings: tuple[tuple[str, str], ...] = ()

    def setting(self, name: str) -> str | None:
        return next((v for k, v in self.settings if k == name), None)


@dataclass(frozen=True, slots=True)
class Archiver:
    archived_count: int
    last_archived_wal: str | None
    last_archived_time: str | None  # ISO
    failed_count: int
    last_failed_wal: str | None
    last_failed_time: str | None


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    kind: str  # physical | logical
    active: bool
    retained_bytes: int  # WAL kept for it: from its restart_lsn to the current position
    wal_status: str | None  # reserved, extended, unreserved, lost


@dataclass(frozen=True, slots=True)
class Standby:
    """A standby streaming from this server, as pg_stat_replication shows it."""

    application: str
    client: str | None
    state: str
    replay_lag_seconds: float | None  # time for the primary's last commits to be replayed
    replay_bytes: int | None  # WAL sent but not replayed yet


@dataclass(frozen=True, slots=True)
class Replica:
    """A replica read directly (`--replica URL`)."""

    label: str
    in_recovery: bool
    replay_bytes: int | None  # the primary's WAL position less the replica's replayed one
    replay_paused: bool
    replay_age_seconds: float | None  # since the last transaction it replayed committed
    error: str | None = None  # why it could not be read


@dataclass(frozen=True, slots=True)
class Session:
    pid: int
    user: str | None
    application: str
    state: str | None  # active, idle in transaction, ...
    transaction_seconds: float | None  # since the transaction began
    state_seconds: float | None  # since the state last changed
    wait: str | None  # wait_event_type: wait_event
    query: str  # the current or last statement, cut short
    blocked_by: tuple[int, ...] = ()  # pg_blocking_pids


@dataclass(frozen=True, slots=True)
class TableHealth:
    schema: str
    name: str
    live_rows: int
    dead_rows: int
    total_bytes: int
    xid_age: int  # age(relfrozenxid)
    mxid_age: int  # mxid_age(relminmxid)
    last_vacuum: str | None  # the later of manual and auto, ISO
    last_analyze: str | None
    # Measured by pgstattuple_approx (`ops --precise`): the share of the table that is dead
    # rows, and the share that is free space; None when not measured.
    measured_dead_share: float | None = None
    measured_free_share: float | None = None


@dataclass(frozen=True, slots=True)
class IndexHealth:
    """A btree index measured by pgstatindex (`ops --precise`)."""

    schema: str
    table: str
    name: str
    size_bytes: int
    leaf_density: float  # avg_leaf_density: how full its leaf pages are, in percent


@dataclass(frozen=True, slots=True)
class OpsFacts:
    server_version_num: int
    database: str
    collected_at: str
    settings: dict[str, Setting] = field(default_factory=dict)
    roles: tuple[Role, ...] = ()
    extensions: tuple[str, ...] = ()  # created in this database
    archiver: Archiver | None = None
    slots: tuple[Slot, ...] = ()
    sessions: tuple[Session, ...] = ()  # every other backend of the server, as far as visible
    tables: tuple[TableHealth, ...] = ()
    database_xid_age: int = 0
    database_mxid_age: int = 0
    connections: int = 0  # client backends now, all databases
    in_recovery: bool = False  # a standby
    current_lsn: str | None = None  # the primary's WAL write position
    standbys: tuple[Standby, ...] = ()
    replicas: tuple[Replica, ...] = ()  # read directly, when given
    indexes: tuple[IndexHealth, ...] = ()  # measured, with --precise

    def setting(self, name: str) -> Setting | None:
        return self.settings.get(name)

    def value(self, name: str, default: str = "") -> str:
        found = self.settings.get(name)
        return found.value if found is not None else default
