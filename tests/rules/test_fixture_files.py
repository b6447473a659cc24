"""The fixture files themselves: a key written twice in one case (two `schema:` when a case
was pasted into another) is silently the last one for YAML, and the case then tests something
else than its name says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping key written twice."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} written twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture_has_no_key_twice_and_unique_case_names(path: Path) -> None:
    document = yaml.load(path.read_text(), Loader=_StrictLoader)
    names = [case["name"] for case in document["cases"]]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]


def test_the_strict_loader_refuses_a_case_pasted_into_another() -> None:
    pasted = "cases:\n  - name: a\n    schema: CREATE TABLE a ();\n    schema: CREATE TABLE b ();\n"
    with pytest.raises(yaml.constructor.ConstructorError, match="'schema' written twice"):
        yaml.load(pasted, Loader=_StrictLoader)
