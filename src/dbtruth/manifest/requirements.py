"""A requirements file for `dbtruth decide`: what the data must do, each requirement of the
playbook's decision matrix (§8) weighted.

```yaml
title: Case management for regulated investigations
context: Investigators of many agencies (tenants) open, assign and close cases …
requirements:
  strong_relational_integrity: critical    # critical, high, medium, low, none
  complex_transactions: critical
  strict_audit_regulatory_trace: critical
  operational_simplicity: high
  full_text_relevance_search: medium
```

A requirement left out weighs nothing. The file may come from a pull request: every mistake
is one line, file:line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dbtruth.errors import DbtruthError
from dbtruth.manifest.yamlfile import Lines, explain, read_yaml

MAX_REQUIREMENTS_BYTES = 1 << 20
Weight = Literal["critical", "high", "medium", "low", "none"]
WEIGHTS = {"critical": 5, "high": 3, "medium": 2, "low": 1, "none": 0}


class Requirements(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    context: str | None = Field(default=None, max_length=20_000)
    requirements: dict[str, Weight] = Field(min_length=1)


class LoadedRequirements:
    def __init__(self, requirements: Requirements, path: Path, lines: Lines) -> None:
        self.requirements = requirements
        self.path = path
        self.lines = lines

    def error(self, message: str, *key: str, hint: str | None = None) -> DbtruthError:
        where = key
        while where and where not in self.lines:
            where = where[:-1]
        return DbtruthError(message, where=f"{self.path}:{self.lines.get(where, 1)}", hint=hint)


def load_requirements(path: Path) -> LoadedRequirements:
    data, lines = read_yaml(path, MAX_REQUIREMENTS_BYTES, "a requirements file")
    if not isinstance(data, dict):
        raise DbtruthError(
            "a requirements file is a mapping: title, requirements", where=f"{path}:1"
        )
    try:
        requirements = Requirements.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, path, lines, Requirements) from exc
    return LoadedRequirements(requirements, path, lines)
