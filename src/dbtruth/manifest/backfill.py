"""A backfill spec (`dbtruth backfill … SPEC.yaml`): the table and key the chunks walk, the
statement each chunk runs, how big a chunk is and how fast they go, the query that says the
work is done, and the health limits that make the runner back off.

```yaml
table: public.orders
key: [id]                       # default: the primary key; composite keys and any type
statement: |                    # one UPDATE, DELETE or INSERT … SELECT reading the table
  UPDATE orders SET currency = 'EUR' WHERE currency IS NULL
chunk: {rows: 1000, target_duration: 200ms, lock_timeout: 2s}
rate: 5000                      # rows per second, at most
validate: SELECT id FROM orders WHERE currency IS NULL   # passes when it returns no row
health: {replica_lag: 10s, archive_backlog: 16, autovacuum: true, lock_wait: 500ms,
         probe: {query: "SELECT …", p95: 50ms}}
```

The spec comes from a pull request like dbtruth.yaml: every mistake is one line, file:line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from dbtruth.errors import DbtruthError
from dbtruth.manifest.yamlfile import Lines, explain, read_yaml

MAX_SPEC_BYTES = 1 << 20
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h)?\s*")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, None: 1.0}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def seconds(value: Any) -> Any:
    """'200ms', '2s', '5min' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 200ms, 2s or 5min")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    raise ValueError("expected a duration such as 200ms, 2s or 5min")


Duration = Annotated[float, BeforeValidator(seconds), Field(gt=0, le=86_400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkSpec(_Strict):
    rows: int = Field(default=1000, ge=1, le=10_000_000)  # the first chunk's size
    # With a target duration, each chunk's size follows the last one's time towards it.
    target_duration: Duration | None = None
    min_rows: int = Field(default=10, ge=1)
    max_rows: int = Field(default=100_000, ge=1, le=10_000_000)
    lock_timeout: Duration = 2.0  # SET LOCAL for each chunk: a chunk never queues long
    statement_timeout: Duration = 60.0
    retries: int = Field(default=5, ge=0, le=100)  # consecutive failed tries of one chunk


class ProbeSpec(_Strict):
    query: str = Field(min_length=1, max_length=100_000)
    p95: Duration  # of the last 20 runs


class HealthSpec(_Strict):
    replica_lag: Duration | None = None
    archive_backlog: int | None = Field(default=None, ge=0)  # WAL segments waiting to be archived
    autovacuum: bool = True  # wait while autovacuum works on the table
    lock_wait: Duration | None = 0.5  # a session waiting on a chunk this long halves chunks
    probe: ProbeSpec | None = None
    backoff: Duration = 1.0  # the first wait; it doubles while the signal stays
    max_backoff: Duration = 60.0
    # Unhealthy this long in one stretch: the backfill pauses itself (exit 1).
    give_up_after: Duration = 1800.0


class BackfillSpec(_Strict):
    name: str | None = None  # the checkpoint's name; default: the spec file's stem
    table: str = Field(min_length=1, max_length=200)
    key: tuple[str, ...] = ()
    statement: str = Field(min_length=1, max_length=100_000)
    chunk: ChunkSpec = Field(default_factory=ChunkSpec)
    rate: float | None = Field(default=None, gt=0)  # rows per second, at most
    validate_query: str | None = Field(default=None, alias="validate", max_length=100_000)
    health: HealthSpec = Field(default_factory=HealthSpec)

    @field_validator("key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("key")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({k for k in value if value.count(k) > 1})
        if repeated:
            raise ValueError(f"key column {repeated[0]} is named twice")
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.fullmatch(value):
            raise ValueError("a name is letters, digits, '_', '.' and '-', at most 63")
        return value


class LoadedSpec:
    """The spec, where it came from, and the line of each key for errors later found on the
    server (a key column the table lacks, a statement that does not read the table)."""

    def __init__(self, spec: BackfillSpec, path: Path, lines: Lines) -> None:
        self.spec = spec
        self.path = path
        self.lines = lines
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)[:63] or "backfill"
        self.name = spec.name or stem

    def place(self, *key: str) -> str:
        while key and key not in self.lines:
            key = key[:-1]
        return f"{self.path}:{self.lines.get(key, 1)}"

    def error(self, message: str, *key: str, hint: str | None = None) -> DbtruthError:
        return DbtruthError(message, where=self.place(*key), hint=hint)


def load_backfill_spec(path: Path) -> LoadedSpec:
    data, lines = read_yaml(path, MAX_SPEC_BYTES, "a backfill spec")
    if not isinstance(data, dict):
        raise DbtruthError(
            "a backfill spec is a mapping: table, statement, and what else it needs",
            where=f"{path}:1",
        )
    try:
        spec = BackfillSpec.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, path, lines, BackfillSpec) from exc
    if spec.chunk.min_rows > spec.chunk.max_rows:
        raise DbtruthError("chunk.min_rows is above chunk.max_rows", where=f"{path}:1")
    return LoadedSpec(spec, path, lines)
