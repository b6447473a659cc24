"""dbtruth.yaml: the design manifest. This module holds the sections `check` reads (rules and
tenancy) and the loader that turns every mistake into file:line, the key, and the nearest valid
key when it looks like a typo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from dbtruth.errors import DbtruthError
from dbtruth.manifest.design import DesignSections
from dbtruth.manifest.paths import check_inside, check_workload_files
from dbtruth.manifest.settings import DEFAULT_TENANT_KEYS, OpsThresholds, Settings
from dbtruth.manifest.yamlfile import explain, read_yaml

SeverityName = Literal["info", "warning", "error"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectIgnore(_Strict):
    """Silence one rule on matching objects; the reason is required and shown in reports."""

    rule: str = Field(description="Rule code or name, e.g. I001 or table-without-primary-key.")
    object: str = Field(description="Object path or glob: schema.table, schema.table.column.")
    reason: str = Field(min_length=3, description="Why this finding does not apply here.")


class OpsSettings(_Strict):
    """Thresholds of `dbtruth ops`: when a server's state becomes a finding."""

    long_transaction_seconds: float = Field(300.0, gt=0)
    idle_in_transaction_seconds: float = Field(60.0, gt=0)
    lock_wait_seconds: float = Field(10.0, gt=0)
    slot_retained_bytes: int = Field(1 << 30, ge=0, description="WAL a slot may keep (bytes).")
    wraparound_share: float = Field(
        0.4, gt=0, lt=1, description="Share of the ~2.1 billion transaction IDs used."
    )
    dead_row_share: float = Field(0.2, gt=0, lt=1)
    dead_row_min_bytes: int = Field(100 << 20, ge=0)
    connection_share: float = Field(0.8, gt=0, le=1, description="Of max_connections.")
    replica_lag_seconds: float = Field(30.0, gt=0)
    replica_lag_bytes: int = Field(64 << 20, ge=0, description="WAL not yet replayed (bytes).")


class RuleSettings(_Strict):
    max_indexes_per_table: int = Field(10, ge=1)
    sequence_usage_share: float = Field(0.5, gt=0, lt=1)
    unused_index_min_days: float = Field(14.0, ge=0)
    boolean_flag_soup_min: int = Field(3, ge=2)
    catch_all_min_nullable: int = Field(12, ge=2)
    small_table_rows: int = Field(
        10_000,
        ge=0,
        description="Lock findings of migrate lint, and foreign keys without an index "
        "(I002) on tables holding fewer rows, are info.",
    )
    migrations_offline: bool = Field(
        False,
        description="Migrations run while nothing else uses the database (the application "
        "applies them at start-up before it serves, or in a maintenance window): what a lock "
        "would block does not happen, so migrate lint's lock findings are info.",
    )
    migration_role_lock_timeout: bool = Field(
        False,
        description="The role migrations run as has a lock_timeout of its own (ALTER ROLE … "
        "SET lock_timeout, M011's fix for a runner that spreads a file over pooled "
        "connections): every session the runner opens starts with it, so M011 is quiet.",
    )
    ops: OpsSettings = Field(default_factory=OpsSettings)  # type: ignore[arg-type]


class RulesSection(_Strict):
    select: list[str] = Field(
        default_factory=list, description="Codes, family letters or names; empty = all rules."
    )
    ignore: list[str] = Field(default_factory=list)
    severity: dict[str, SeverityName] = Field(default_factory=dict)
    fail_on: Literal["info", "warning", "error", "never"] = "warning"  # as --fail-on
    ignore_objects: list[ObjectIgnore] = Field(default_factory=list)
    settings: RuleSettings = Field(default_factory=RuleSettings)  # type: ignore[arg-type]


class TenancySection(_Strict):
    key: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TENANT_KEYS),
        description="Column name(s) that carry the tenant.",
    )
    exempt: list[str] = Field(
        default_factory=list, description="Globs of tables that are shared across tenants."
    )
    role: str | None = Field(
        default=None,
        description="The role the application connects as; `prove` acts as it (else as the "
        "tables' owner).",
    )
    setting: str | None = Field(
        default=None,
        description="The session setting that names the tenant (app.tenant_id); else the one "
        "the policies read.",
    )

    @field_validator("key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Manifest(DesignSections):
    rules: RulesSection = Field(default_factory=RulesSection)
    tenancy: TenancySection = Field(default_factory=TenancySection)
    # Where each value was written (file, and line per key path), so that what is checked
    # after loading (a rule name, a path) is reported at its line.
    _file: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path | None:
        """The dbtruth.yaml this was read from; None for the defaults of a run without one."""
        return None if self._file is None else Path(self._file)

    def line(self, *key: str | int) -> int | None:
        """The line of the value at `key` (or of its nearest parent), None without a file."""
        if self._file is None:
            return None
        while key and key not in self._lines:
            key = key[:-1]
        return self._lines.get(key, 1)

    def place(self, *key: str | int) -> str | None:
        """`file:line` of the value at `key` (or of its nearest parent), None without a file."""
        if self._file is None:
            return None
        while key and key not in self._lines:
            key = key[:-1]
        return f"{self._file}:{self._lines.get(key, 1)}"

    def settings(self) -> Settings:
        s = self.rules.settings
        return Settings(
            tenant_keys=tuple(self.tenancy.key),
            tenant_exempt=tuple(self.tenancy.exempt),
            application_role=self.tenancy.role,
            max_indexes_per_table=s.max_indexes_per_table,
            sequence_usage_share=s.sequence_usage_share,
            unused_index_min_days=s.unused_index_min_days,
            boolean_flag_soup_min=s.boolean_flag_soup_min,
            catch_all_min_nullable=s.catch_all_min_nullable,
            small_table_rows=s.small_table_rows,
            migrations_offline=s.migrations_offline,
            migration_role_lock_timeout=s.migration_role_lock_timeout,
            ops=OpsThresholds(**s.ops.model_dump()),
            design=self,
        )


# dbtruth.yaml is written by hand or drafted by `dbtruth init`: a truth map of 50,000 tables
# is 4 MiB, which PyYAML composes in about 15 s and 300 MB.
MAX_MANIFEST_BYTES = 4 * 2**20


def load_manifest(path: Path | None, *, allow_outside: bool = False) -> Manifest:
    """The manifest at `path` (the defaults when None). The paths it names (ADR folder,
    runbooks, capacity model, practices, workload files) must stay inside its folder, the
    project, unless `allow_outside`: a pull request that changes dbtruth.yaml must not pull
    other files of the machine into the review."""
    if path is None:
        return Manifest()
    data, lines = read_yaml(path, MAX_MANIFEST_BYTES, "a manifest")
    if data is None:
        return Manifest()
    if not isinstance(data, dict):
        raise DbtruthError("the manifest must be a mapping of sections", where=f"{path}:1")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, path, lines, Manifest) from exc
    if not allow_outside:
        check_inside(manifest, path, lines)
    check_workload_files(manifest, path, lines)
    manifest._file, manifest._lines = str(path), lines
    return manifest
