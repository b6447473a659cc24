"""What rules are told: thresholds and tenancy from dbtruth.yaml, and its design sections.

A plain frozen dataclass, so a rule (or a fixture) can be given settings without a file;
`Manifest.settings()` builds one from a loaded manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from dbtruth.manifest.design import DesignSections

DEFAULT_TENANT_KEYS = ("tenant_id", "org_id", "organization_id", "account_id")


@dataclass(frozen=True, slots=True)
class OpsThresholds:
    """When an operational state becomes a finding (`dbtruth ops`), unless dbtruth.yaml's
    rules.settings.ops says otherwise: the defaults a careful operator starts from."""

    long_transaction_seconds: float = 300.0  # a transaction open this long holds back vacuum
    idle_in_transaction_seconds: float = 60.0
    lock_wait_seconds: float = 10.0  # a session waiting this long for a lock is blocked
    slot_retained_bytes: int = 1 << 30  # WAL a replication slot may keep on the server
    wraparound_share: float = 0.4  # of the ~2.1 billion transaction IDs before wraparound
    dead_row_share: float = 0.2  # of a table's rows, dead, before its bloat is reported
    dead_row_min_bytes: int = 100 << 20  # and at least this much of the table
    connection_share: float = 0.8  # of max_connections in use
    replica_lag_seconds: float = 30.0  # a standby this far behind serves stale reads
    replica_lag_bytes: int = 64 << 20  # WAL not yet replayed


@dataclass(frozen=True, slots=True)
class Settings:
    """Defaults are what a careful reviewer assumes when the manifest says nothing."""

    tenant_keys: tuple[str, ...] = DEFAULT_TENANT_KEYS
    tenant_exempt: tuple[str, ...] = ()  # glob patterns of qualified table names
    application_role: str | None = None  # the role the application connects as (tenancy.role)
    max_indexes_per_table: int = 10
    sequence_usage_share: float = 0.5  # warn once a sequence has used this share of its range
    unused_index_min_days: float = 14.0  # observation window needed before "unused" means much
    boolean_flag_soup_min: int = 3
    catch_all_min_nullable: int = 12
    # A table with fewer rows is small: lock findings on it are brief, a scan of it is cheap.
    small_table_rows: int = 10_000
    # Migrations run with nothing else on the database: lock findings block nobody.
    migrations_offline: bool = False
    # The role migrations run as has a lock_timeout of its own (ALTER ROLE … SET).
    migration_role_lock_timeout: bool = False
    ops: OpsThresholds = field(default_factory=OpsThresholds)
    # truth, invariants, workload, time, ...: empty when there is no manifest
    design: DesignSections = field(default_factory=lambda: no_design())


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _NoDesign:
    """The design sections of a missing dbtruth.yaml, as plain data: the rules read them like
    the manifest's, and a run without a manifest never loads the manifest's models."""

    __slots__ = ()
    truth: Mapping[str, Any] = _EMPTY
    invariants: tuple[Any, ...] = ()
    workload: tuple[Any, ...] = ()
    time: Mapping[str, Any] = _EMPTY
    retention: Mapping[str, Any] = _EMPTY
    operations: None = None
    decisions: None = None
    context: None = None
    practices: None = None


def no_design() -> DesignSections:
    return cast("DesignSections", _NoDesign())
