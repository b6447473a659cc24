"""Every renderer against a reviewed golden file, from a committed snapshot of examples/legacy
(so no server is needed and nothing varies between runs). When a change to a renderer is
intended, regenerate with DBTRUTH_UPDATE_GOLDEN=1 and read the diff before committing it."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.manifest import Manifest
from dbtruth.report import github, gitlab, jsonout, junit, markdown, sarif, terminal
from dbtruth.report.context import ReportContext
from dbtruth.sources import snapshot

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


def _context() -> ReportContext:
    catalog = snapshot.load(DATA / "legacy.snapshot.json")
    result = engine.run(catalog, Manifest())
    catalog_rules = tuple(s for s in engine.all_specs() if s.kind == "catalog")
    return ReportContext(result=result, target="legacy.snapshot.json", source=catalog.source,
                         server_version=catalog.server_version, rules=catalog_rules,
                         fail_on=Severity.WARNING, tables=len(catalog.tables))


def _terminal(ctx: ReportContext) -> str:
    stream = io.StringIO()
    terminal.render_to(ctx, stream, color=False)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("name", "render"),
    [("legacy.json", jsonout.render), ("legacy.sarif", sarif.render),
     ("legacy.md", markdown.render), ("legacy.txt", _terminal),
     ("legacy.github.txt", github.render), ("legacy.junit.xml", junit.render),
     ("legacy.gitlab.json", gitlab.render)],
)
def test_renderer_matches_golden(name: str, render: object) -> None:
    text = render(_context())  # type: ignore[operator]
    path = GOLDEN / name
    if os.environ.get("DBTRUTH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()
