"""The cases of the rule fixtures, for the runner of each kind of rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dbtruth.engine import find_spec

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_cases(kind: str, pattern: str = "*.yaml") -> list[Any]:
    """Every case of the fixtures whose rule is of `kind` (catalog, workload, ops), as pytest
    parameters (code, case) named file:case."""
    cases = []
    for path in sorted(FIXTURES.glob(pattern)):
        document = yaml.safe_load(path.read_text())
        spec = find_spec(document["rule"])
        if spec is None or spec.kind != kind:
            continue
        for case in document["cases"]:
            cases.append(pytest.param(document["rule"], case, id=f"{path.stem}:{case['name']}"))
    return cases
