"""Every rule against real PostgreSQL, from its YAML fixture: the failing cases must fire on
exactly the objects listed, the passing cases must stay quiet, and where a case says
`apply_fix`, each fix's SQL is applied and the rule must go quiet. `fix_labels` states what every
fix of the case says about itself (lock_safe, behaviour_change, data_loss); `after_fix` lists
statements run once the fixes are in, each with `fails: true` when the fixed database must refuse
it (a NULL tenant escaping a composite key) or without when it must still work (a retention
purge, a cascade the fix had to keep); `message_contains` gives words every message holds (a
list) or one object's message holds (a mapping)."""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg
import pytest
from pglast import parser as pg_parser

from dbtruth.engine import find_spec
from dbtruth.findings import Violation
from dbtruth.manifest import Manifest
from dbtruth.model import Catalog
from dbtruth.sources.introspect import read_catalog
from dbtruth.spec import RuleSpec, Settings
from tests.rules.cases import fixture_cases


def _run_sql(conninfo: str, text: str) -> None:
    """Statement by statement in autocommit, as a user would paste a fix into psql."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for piece in pg_parser.split(text, with_parser=False):
            conn.execute(piece)  # type: ignore[call-overload]


def _check(spec: RuleSpec, conninfo: str, case: dict[str, Any]) -> tuple[Catalog, list[Violation]]:
    live = bool(case.get("live"))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog = read_catalog(conn, "fixture", live=live)
    manifest = case.get("manifest")
    base = Manifest.model_validate(manifest).settings() if manifest else Settings()
    settings = dataclasses.replace(base, **case.get("settings", {}))
    return catalog, list(spec.check(catalog, settings))


@pytest.mark.parametrize(("code", "case"), fixture_cases("catalog"))
def test_rule_fixture(server: Any, code: str, case: dict[str, Any]) -> None:
    spec = find_spec(code)
    assert spec is not None, f"fixture names unknown rule {code}"
    if server.version_num < case.get("min_version", 0):
        pytest.skip(f"needs server_version_num >= {case['min_version']}")
    name = server.create_database()
    try:
        conninfo = server.conninfo(name)
        _run_sql(conninfo, case["schema"])
        if case.get("data"):
            if case.get("data_fails"):
                with pytest.raises(psycopg.Error):
                    _run_sql(conninfo, case["data"])
            else:
                _run_sql(conninfo, case["data"])
        _, violations = _check(spec, conninfo, case)
        fired = sorted(v.object.path for v in violations)
        assert fired == sorted(case.get("expect", [])), [v.message for v in violations]
        graded = {v.object.path: (v.severity or spec.severity).label for v in violations}
        for path, label in case.get("severity", {}).items():
            assert graded[path] == label, (path, graded[path])
        for violation in violations:
            # A message names its object, so a reader never has to decode the path.
            assert violation.object.name.split("(")[0] in violation.message
        messages = {v.object.path: v.message for v in violations}
        contains = case.get("message_contains", {})
        # A list: words every message holds; a mapping: words one object's message holds.
        expected = (
            [(path, words) for words in contains for path in messages]
            if isinstance(contains, list)
            else list(contains.items())
        )
        for path, words in expected:
            assert words in messages[path], (path, messages[path])
        for path in case.get("no_fix", []):
            # the finding says the design is deliberate: a fix would undo it
            assert next(v for v in violations if v.object.path == path).fix is None, path
        for field, wanted in case.get("fix_labels", {}).items():
            labelled = [getattr(v.fix, field) for v in violations if v.fix is not None]
            assert labelled and set(labelled) == {wanted}, (field, labelled)
        if case.get("apply_fix"):
            fixes = [v.fix.sql for v in violations if v.fix is not None and v.fix.sql]
            assert fixes, "apply_fix: the rule offered no SQL fix"
            for fix in fixes:
                _run_sql(conninfo, fix)
            _, after = _check(spec, conninfo, case)
            assert after == [], [v.message for v in after]
            for step in case.get("after_fix", []):
                if step.get("fails"):
                    with pytest.raises(psycopg.Error):
                        _run_sql(conninfo, step["sql"])
                else:
                    _run_sql(conninfo, step["sql"])
    finally:
        server.drop_database(name)
