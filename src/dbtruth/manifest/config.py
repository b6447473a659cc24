"""dbtruth.yaml: the design manifest. This module holds the sections `check` reads (rules and
tenancy) and the loader that turns every mistake into file:line, the key, and the nearest valid
key when it looks like a typo.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from dbtruth.errors import DbtruthError
from dbtruth.inputs import read_bytes
from dbtruth.manifest.design import DesignSections
from dbtruth.manifest.paths import check_inside, check_workload_files
from dbtruth.manifest.settings import DEFAULT_TENANT_KEYS, OpsThresholds, Settings

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
            ops=OpsThresholds(**s.ops.model_dump()),
            design=self,
        )


# dbtruth.yaml is written by hand or drafted by `dbtruth init`: a truth map of 50,000 tables
# is 4 MiB, which PyYAML composes in about 15 s and 300 MB.
MAX_MANIFEST_BYTES = 4 * 2**20
# Far deeper than any manifest section (five levels). PyYAML composes recursively: thousands
# of levels ended in RecursionError.
MAX_DEPTH = 64
# Nodes reached again through aliases (`*name`). Sharing a few lists is fine; nine levels of
# ten aliases each ("billion laughs") expand to 10^9 strings, and took 16 GB before this.
MAX_ALIAS_NODES = 10_000


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than MAX_DEPTH as it composes."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_manifest(path: Path | None, *, allow_outside: bool = False) -> Manifest:
    """The manifest at `path` (the defaults when None). The paths it names (ADR folder,
    runbooks, capacity model, practices, workload files) must stay inside its folder, the
    project, unless `allow_outside`: a pull request that changes dbtruth.yaml must not pull
    other files of the machine into the review."""
    if path is None:
        return Manifest()
    try:
        text = read_bytes(path, MAX_MANIFEST_BYTES, "a manifest").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DbtruthError(f"cannot read manifest: {exc}", where=str(path)) from exc
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DbtruthError(f"invalid YAML: {problem}", where=where) from exc
    if node is None:
        return Manifest()
    builder = _Builder(path)
    data = builder.build(node, ())
    if not isinstance(data, dict):
        raise DbtruthError("the manifest must be a mapping of sections", where=f"{path}:1")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, path, builder.lines) from exc
    if not allow_outside:
        check_inside(manifest, path, builder.lines)
    check_workload_files(manifest, path, builder.lines)
    manifest._file, manifest._lines = str(path), builder.lines
    return manifest


class _Builder:
    """Plain data from a YAML node graph, remembering the line of every key and item, with
    aliases bounded: one that contains itself is refused (it never ends), and the nodes
    reached again through aliases are counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[tuple[str | int, ...], int] = {}
        self.seen: set[int] = set()
        self.open: set[int] = set()  # the nodes being built: an alias to one is a cycle
        self.repeats = 0

    def build(self, node: yaml.Node, at: tuple[str | int, ...], *, alias_line: int = 0) -> Any:
        """`alias_line`: where the alias being expanded is used (0: not inside one)."""
        line = node.start_mark.line + 1
        if id(node) in self.open:
            raise DbtruthError(
                "a YAML alias refers to a node that contains it", where=f"{self.path}:{line}"
            )
        if alias_line:
            self.repeats += 1
            if self.repeats > MAX_ALIAS_NODES:
                raise DbtruthError(
                    f"YAML aliases repeat more than {MAX_ALIAS_NODES:,} nodes; write the values "
                    "out instead",
                    where=f"{self.path}:{alias_line}",
                )
        self.seen.add(id(node))
        self.lines[at] = line
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.add(id(node))
            try:
                return self._collection(node, at, alias_line)
            finally:
                self.open.discard(id(node))
        try:
            return yaml.SafeLoader(" ").construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            # an integer of thousands of digits, a date like 2024-02-30, an unknown !!tag
            problem = getattr(exc, "problem", None) or str(exc).split("; use sys.")[0]
            raise DbtruthError(f"invalid value: {problem}", where=f"{self.path}:{line}") from exc

    def _collection(
        self, node: yaml.MappingNode | yaml.SequenceNode, at: tuple[str | int, ...], alias: int
    ) -> Any:
        def child(value: yaml.Node, where: int) -> int:
            # a node met before is an alias: its expansion is counted from where it is used
            return alias or (where if id(value) in self.seen else 0)

        if isinstance(node, yaml.SequenceNode):
            line = node.start_mark.line + 1
            return [
                self.build(item, (*at, i), alias_line=child(item, line))
                for i, item in enumerate(node.value)
            ]
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            self.lines[(*at, key)] = line
            result[key] = self.build(value_node, (*at, key), alias_line=child(value_node, line))
            self.lines[(*at, key)] = line
        return result


def _explain(
    exc: ValidationError, path: Path, lines: dict[tuple[str | int, ...], int]
) -> DbtruthError:
    # A misspelt key explains the "field required" next to it: report typos first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    loc = tuple(error["loc"])
    known = loc
    while known and known not in lines:
        known = known[:-1]
    line = lines.get(known, 1)
    key = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        valid = _valid_keys(loc[:-1])
        nearest = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        hint = (
            f"did you mean '{nearest[0]}'?"
            if nearest
            else (f"valid keys here: {', '.join(valid)}" if valid else None)
        )
        return DbtruthError(f"unknown key '{key}'{more}", where=f"{path}:{line}", hint=hint)
    return DbtruthError(f"{key}: {error['msg']}{more}", where=f"{path}:{line}")


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at `loc` may have, for "did you mean" hints."""
    annotation: Any = Manifest
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        origin = typing.get_origin(annotation)
        if origin in (list, dict) or isinstance(part, int):
            # A list index or a free dict key (a table name): step into the item type.
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
            if (origin is dict and isinstance(part, str)) or isinstance(part, int):
                continue
        fields = getattr(annotation, "model_fields", None)
        if fields is None:
            annotation = _model_in(annotation)
            fields = getattr(annotation, "model_fields", None)
        if not fields:
            return []
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return []
        annotation = _model_in(field.annotation)
    annotation = _model_in(annotation)
    fields = getattr(annotation, "model_fields", {})
    return sorted(f.alias or name for name, f in fields.items())


def _model_in(annotation: Any) -> Any:
    """Unwrap Optional[...] to the model (or container) inside it."""
    if hasattr(annotation, "model_fields") or typing.get_origin(annotation) in (list, dict):
        return annotation
    for arg in typing.get_args(annotation):
        if hasattr(arg, "model_fields") or typing.get_origin(arg) in (list, dict):
            return arg
    return annotation
