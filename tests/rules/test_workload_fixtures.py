"""Every workload rule from its YAML fixture, against real PostgreSQL (18 and the machine's 15):
the schema and its `data` are loaded and analysed, dbtruth.yaml's `workload` (the case's
`manifest`) is planned with dbtruth's own EXPLAIN, and the rule must fire on exactly the queries
listed in `expect`. `message_contains` gives words every message holds."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from pglast import parser as pg_parser

from dbtruth.engine import find_spec
from dbtruth.manifest import Manifest
from dbtruth.planning import intake
from dbtruth.planning.explain import plan_query
from dbtruth.planning.whatif import RealRows, advise
from dbtruth.sources.introspect import read_catalog
from tests.rules.cases import fixture_cases


def _run(spec: Any, conn: Any, manifest: Manifest, case: dict[str, Any]) -> Any:
    catalog = read_catalog(conn, "fixture", live=False)
    planned = [
        plan_query(conn, q, catalog.server_version_num, "10s") for q in intake.declared(manifest)
    ]
    if case.get("suggest"):
        planned = advise(conn, planned, catalog, RealRows(), planned_on="fixture",
                         timeout="10s", version=catalog.server_version_num).planned  # fmt: skip
    settings = manifest.settings()
    violations = [v for p in planned for v in spec.check(p, catalog, settings)]
    return planned, violations


@pytest.mark.parametrize(("code", "case"), fixture_cases("workload", "X*.yaml"))
def test_workload_fixture(server: Any, code: str, case: dict[str, Any]) -> None:
    spec = find_spec(code)
    assert spec is not None
    name = server.create_database()
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            for piece in pg_parser.split(case["schema"] + "\n" + case.get("data", ""),
                                         with_parser=False):  # fmt: skip
                conn.execute(piece)  # type: ignore[call-overload]
            conn.execute("ANALYZE")
            manifest = Manifest.model_validate(case["manifest"])
            planned, violations = _run(spec, conn, manifest, case)
            expected = sorted(case.get("expect") or [])
            assert sorted({v.object.name for v in violations}) == expected, (
                [v.message for v in violations],
                [(p.query.name, p.error, p.plan and [n.label for n in p.plan.nodes()])
                 for p in planned],
            )  # fmt: skip
            for word in case.get("message_contains", []):
                assert all(word in v.message for v in violations), (word, violations)
            if case.get("apply_fix"):
                fixes = [v.fix.sql for v in violations if v.fix and v.fix.sql]
                assert fixes, "apply_fix: the case has no fix to apply"
                for fix in dict.fromkeys(fixes):
                    conn.execute(fix)  # type: ignore[call-overload]
                conn.execute("ANALYZE")
                _, after = _run(spec, conn, manifest, case)
                assert after == [], [v.message for v in after]
    finally:
        server.drop_database(name)
