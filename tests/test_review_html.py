"""The HTML review: one self-contained file that opens offline in a real browser (headless
Chromium) with no console errors, shows the ER diagram and the findings, and lays out a schema
of hundreds of tables without one unreadable wall."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from dbtruth.report.erd_svg import BOX_WIDTH, GAP_X, PER_ROW, render_group
from dbtruth.review.model import Column, Entity, Relationship, SchemaGroup
from tests.helpers import EXAMPLES, dbtruth

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs Chromium and sets this, so a missing browser fails there instead of skipping.
REQUIRE_BROWSER = os.environ.get("DBTRUTH_REQUIRE_BROWSER") == "1"


def _html(tmp: Path, example: Path, *extra: str) -> Path:
    output = tmp / "review.html"
    outcome = dbtruth(
        "review", str(example), "--scratch", "embedded", "--as-of", "2026-11-23", "-o",
        str(output), *extra,
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert f"wrote {output}" in outcome.err
    return output


@pytest.fixture(scope="module")
def legacy_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    folder = tmp / "legacy"
    shutil.copytree(EXAMPLES / "legacy", folder)
    assert dbtruth("init", str(folder), "--scratch", "embedded").code == 0
    return _html(tmp, folder)


def test_html_is_self_contained(legacy_html: Path) -> None:
    html = legacy_html.read_text()
    assert html.startswith("<!DOCTYPE html>")
    # nothing fetched: no remote src/href, no external stylesheet or script, no @import
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html
    assert "@import" not in html and 'rel="stylesheet"' not in html
    assert html.count("<svg") >= 2  # marker definitions + at least one diagram


def test_html_escapes_what_the_database_and_manifest_say(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "schema.sql").write_text(
        'CREATE TABLE "<b>x</b>" (id bigint PRIMARY KEY, "a&b" text);\n'
        "COMMENT ON TABLE \"<b>x</b>\" IS '<script>alert(1)</script>';\n"
    )
    (folder / "dbtruth.yaml").write_text(
        "context:\n  summary: \"<img src=x onerror=alert(1)> decide\"\n"
    )
    html = _html(tmp_path, folder).read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_large_schema_is_drawn_in_clusters_with_hubs_as_labels() -> None:
    # 300 tables: one hub referenced by 200 of them, 20 chains of 5, 100 unrelated tables.
    def entity(name: str) -> Entity:
        return Entity("big", name, (Column("id", "bigint", "PK", True),), 0, None)

    entities = [entity("hub")] + [entity(f"t{i:03}") for i in range(299)]
    relationships = [
        Relationship(f"big.t{i:03}", "big.hub", ("hub_id",), False, False, f"fk_hub_{i}")
        for i in range(200)
    ]
    for chain in range(20):
        for step in range(4):
            child, parent = 200 + chain * 5 + step + 1, 200 + chain * 5 + step
            if child < 299:
                relationships.append(
                    Relationship(f"big.t{child:03}", f"big.t{parent:03}", ("p",), True, False,
                                 f"fk_{child}")
                )  # fmt: skip
    group = SchemaGroup("big", tuple(entities), tuple(relationships), ())
    svgs = render_group(group)
    drawn_edges = sum(svg.count('class="edge"') for svg in svgs)
    assert drawn_edges == len(relationships) - 200  # edges into the hub become labels
    assert sum(svg.count("→ hub (hub_id)") for svg in svgs) == 200
    assert sum(svg.count('class="entity"') for svg in svgs) == 300
    widest = max(int(re.search(r'width="(\d+)"', svg).group(1)) for svg in svgs)  # type: ignore[union-attr]
    assert widest <= 10 + PER_ROW * (BOX_WIDTH + GAP_X)  # rows wrap instead of growing sideways
    assert len(svgs) == 21  # 20 chains, then one grid of the tables with no drawn relationship


@pytest.mark.skipif(
    CHROMIUM is None and not REQUIRE_BROWSER, reason="no chromium on this machine"
)
def test_html_renders_in_chromium_with_diagram_and_findings(
    legacy_html: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "DBTRUTH_REQUIRE_BROWSER=1 but chromium is not installed"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(legacy_html.as_uri())
            assert problems == []
            assert all(url.startswith(("file:", "data:")) for url in requests), requests

            figure = page.locator("figure.schema").first
            figure.scroll_into_view_if_needed()
            box = figure.bounding_box()
            assert box and box["width"] > 400 and box["height"] > 200
            # the first table box is painted where it claims to be: the browser hit-tests it
            entity = page.locator("svg.erd g.entity rect.box").first
            rect = entity.bounding_box()
            assert rect and rect["width"] > 100
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y)?.closest('svg.erd') !== null",
                [rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] - 4],
            )
            assert hit
            assert page.locator("svg.erd g.entity").count() == 8  # legacy has 8 tables
            shot = tmp_path / "diagram.png"
            figure.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000  # a drawn diagram, not an empty frame

            findings = page.locator("#findings article.finding")
            # a design decision repeated is one article listing its objects
            single = page.locator("#findings article.finding:not(:has(ul))").count()
            listed = page.locator("#findings article.finding li").count()
            assert single + listed >= 40 and findings.count() < single + listed
            findings.first.scroll_into_view_if_needed()
            assert findings.first.is_visible()
            page.locator("#findings").screenshot(path=str(tmp_path / "findings.png"))
            assert (tmp_path / "findings.png").stat().st_size > 10_000

            pdf = page.pdf(format="A4")  # prints: a multi-page document
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 5
        finally:
            browser.close()


MERMAID = Path(__file__).parent / "js" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


@pytest.mark.skipif(
    (CHROMIUM is None or not MERMAID.exists()) and not REQUIRE_BROWSER,
    reason="needs chromium and `npm install --prefix tests/js` (Mermaid)",
)
@pytest.mark.parametrize("example", ["casefile", "legacy"])
def test_mermaid_blocks_render_with_mermaid(example: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM and MERMAID.exists(), "chromium or tests/js/node_modules/mermaid missing"
    outcome = dbtruth("review", str(EXAMPLES / example), "--scratch", "embedded")
    assert outcome.code == 0, outcome.err
    blocks = re.findall(r"```mermaid\n(.*?)```", outcome.out, re.S)
    assert blocks
    page_file = tmp_path / "mermaid.html"
    page_file.write_text(f'<html><body><script src="{MERMAID.as_uri()}"></script></body></html>')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.evaluate("mermaid.initialize({startOnLoad: false})")
            for i, text in enumerate(blocks):
                drawn = page.evaluate(
                    """async ([id, text]) => {
                        try { return (await mermaid.render(id, text)).svg; }
                        catch (e) { return 'ERROR ' + (e.message || e); }
                    }""",
                    [f"erd{i}", text],
                )
                assert not drawn.startswith("ERROR"), drawn
                # every entity of the block is drawn as a node of the SVG
                for entity in re.findall(r"^    (\w+)(?: \{)?$", text, re.M):
                    assert f">{entity}<" in drawn, entity
        finally:
            browser.close()
