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
