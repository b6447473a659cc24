"""Output is inert: catalog names, comments, file names and dbtruth.yaml text arrive in pull
requests, and every format shows them without acting on them. Markdown is rendered by a real
CommonMark parser with raw HTML enabled (as permissive viewers do) and must hold no script, image,
event handler or javascript: link; terminal output and error lines hold no control character and
no rich markup taken from a name; JSON and SARIF carry the names exactly."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from dbtruth import engine
from dbtruth.findings import Severity
from dbtruth.manifest import Manifest
from dbtruth.report import terminal
from dbtruth.report.context import ReportContext
from dbtruth.sources import snapshot
from tests.helpers import dbtruth

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TICKS = "a`b``c"
LINK = "](javascript:alert(1))"
RICH = "[bold red]x[/][link=https://evil.example]y"
TITLE = "\x1b]0;pwned\x07"  # OSC: sets the terminal window title
CSI = "\x1b[31mred\x1b[0m"
C1 = "\x9b31m"  # CSI as a single C1 character
FENCE = "c\n```\n<script>alert(2)</script>"  # a newline and a fence inside a column name

SCHEMA = SCRIPT
PARENT = RICH + CSI + C1
KEY = TICKS
CHILD = IMG + TITLE
REF_COLUMN = FENCE
CHECKED = LINK + C1
CONSTRAINT = "<img src=x onerror=alert(3)>"
FILE_NAME = "schema <img src=x onerror=alert(5)>.sql"

# What a renderer may produce: anything else (script, img, iframe, a, ...) came from the input.
ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "code", "pre", "strong", "em", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "br", "hr",
}  # fmt: skip
# C0 except newline, DEL, C1.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def ident(text: str) -> str:
    """A PostgreSQL Unicode-escaped quoted identifier: any character, spelled in ASCII."""
    out = []
    for char in text:
        if char == '"':
            out.append('""')
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= ord(char) < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{ord(char):04x}")
    return 'U&"' + "".join(out) + '"'


HOSTILE_SQL = f"""
CREATE SCHEMA {ident(SCHEMA)};
CREATE TABLE {ident(SCHEMA)}.{ident(PARENT)} ({ident(KEY)} int PRIMARY KEY);
CREATE TABLE {ident(SCHEMA)}.{ident(CHILD)} (
    {ident(REF_COLUMN)} int REFERENCES {ident(SCHEMA)}.{ident(PARENT)},
    {ident(CHECKED)} int CONSTRAINT {ident(CONSTRAINT)} CHECK ({ident(CHECKED)} > 0)
);
COMMENT ON TABLE {ident(SCHEMA)}.{ident(CHILD)} IS '<script>alert(4)</script>';
"""

# YAML double-quoted strings: \\e is ESC, \\a BEL, \\x9b the C1 CSI.
HOSTILE_MANIFEST = r"""
context:
  summary: "<script>alert(11)</script> \e]0;pwned\a [bold]x[/bold]"
  business: "# heading <img src=x onerror=alert(12)>"
  constraints: ["](javascript:alert(13))", "`code` ``x``", "- <iframe src=javascript:alert(14)>"]
  growth: "line one\n```\n<script>alert(15)</script>"
  consistency: "\x9b31m <a href='javascript:alert(16)'>x</a>"
rules:
  ignore_objects:
    - rule: I001
      object: "nothing.<script>alert(17)</script>"
      reason: "<img src=x onerror=alert(18)> [link=javascript:alert(19)]x[/link] \e[31m"
truth:
  "<script>alert(1)</script>.*":
    role: truth
    owner: "<img src=x onerror=alert(20)>"
    sources: ["\e]0;pwned\a", "[x](javascript:alert(21))"]
invariants:
  - id: "<script>alert(22)</script>"
    statement: "<img src=x onerror=alert(23)>"
    kind: uniqueness
    tables: ["<script>alert(1)</script>.x"]
    enforcement: application
    detective_query: "SELECT 1"
workload:
  - name: "<script>alert(24)</script>"
    role: read
    sql: "SELECT 1 -- ```\n<script>alert(25)</script>"
    contract: {uses_index: "`x` <img src=x onerror=alert(26)>"}
retention:
  "<img src=x onerror=alert(27)>":
    keep: "<script>alert(28)</script>"
    method: "](javascript:alert(29))"
operations:
  backup: {method: "<script>alert(30)</script>"}
  runbooks: ["docs/<img src=x onerror=alert(31)>.md"]
  capacity_model: "[x](javascript:alert(32))"
practices:
  transaction_boundaries: "<script>alert(33)</script> and [bold]more[/bold]"
  backfill: "docs/`x`<script>alert(34)</script>.md"
decisions:
  adr_folder: adr
"""

HOSTILE_ADR = """# <script>alert(40)</script>

## Status
<img src=x onerror=alert(41)>

## Decision
<script>alert(42)</script> [x](javascript:alert(43))

## Alternatives
- ](javascript:alert(44)) \x1b]0;pwned\x07
- <iframe src=x></iframe>

## Revisit triggers
- `a` ``b``
"""


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _assert_no_active_content(html: str, allowed: set[str] | None) -> str:
    """No element outside `allowed`, no event handler, no javascript: URL; the text shown."""
    parsed = _parse(html)
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "img", "iframe", "object", "embed"), (tag, attrs)
        if allowed is not None:
            assert tag in allowed, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, attrs)
    return "".join(parsed.text)


def _markdown_to_html(markdown: str) -> str:
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return renderer.render(markdown)


def _assert_inert_markdown(markdown: str, *shown: str) -> None:
    assert not CONTROL.search(markdown), CONTROL.findall(markdown)
    text = _assert_no_active_content(_markdown_to_html(markdown), ALLOWED_TAGS)
    for expected in shown:
        assert expected in text, expected


def _assert_terminal_safe(text: str) -> None:
    assert not CONTROL.search(text), CONTROL.findall(text)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the hostile schema, its snapshot, a hostile dbtruth.yaml and ADR."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "sql").mkdir()
    (folder / "sql" / FILE_NAME).write_text(HOSTILE_SQL)
    (folder / "dbtruth.yaml").write_text(HOSTILE_MANIFEST)
    (folder / "adr").mkdir()
    (folder / "adr" / "0001-<img src=x onerror=alert(45)>.md").write_text(HOSTILE_ADR)
    outcome = dbtruth("snapshot", str(folder / "sql"), "--scratch", "embedded", "-o",
                      str(folder / "hostile.snapshot.json"))  # fmt: skip
    assert outcome.code == 0, outcome.err
    return folder


def _snapshot(folder: Path) -> str:
    return str(folder / "hostile.snapshot.json")


def test_markdown_check_shows_names_and_runs_nothing(hostile: Path) -> None:
    # Straight from the SQL file, so locations (with the hostile file name) are shown too.
    outcome = dbtruth("check", str(hostile / "sql"), "--scratch", "embedded", "--format",
                      "markdown", "--fail-on", "never", "--manifest",
                      str(hostile / "dbtruth.yaml"))  # fmt: skip
    assert outcome.code == 0, outcome.err
    _assert_inert_markdown(outcome.out, f"{SCHEMA}.{IMG}", "\\x1b]0;pwned\\x07", RICH,
                           "<img src=x onerror=alert(18)>")  # fmt: skip
    # The fix's SQL block is not closed by the fence inside the column name.
    html = _markdown_to_html(outcome.out)
    assert "<script>alert(2)</script>" in "".join(_parse(html).text)
    assert html.count("<pre>") == outcome.out.count("sql\n") > 0


def test_review_markdown_and_html_show_names_and_run_nothing(
    hostile: Path, tmp_path: Path
) -> None:
    argv = ["review", _snapshot(hostile), "--manifest", str(hostile / "dbtruth.yaml")]
    outcome = dbtruth(*argv)
    assert outcome.code == 0, outcome.err
    _assert_inert_markdown(
        outcome.out,
        SCRIPT,
        "<script>alert(11)</script>",
        "# heading <img src=x onerror=alert(12)>",
        "](javascript:alert(13))",
        "<script>alert(40)</script>",
        "0001-<img src=x onerror=alert(45)>.md",
    )
    page = tmp_path / "review.html"
    outcome = dbtruth(*argv, "-o", str(page))
    assert outcome.code == 0, outcome.err
    # The page carries its own markup (nav, svg, ...): nothing active, whatever the tag.
    text = _assert_no_active_content(page.read_text(), None)
    for shown in (SCRIPT, "<script>alert(11)</script>", "<script>alert(40)</script>"):
        assert shown in text, shown
    assert "<script" not in page.read_text()


def test_mermaid_labels_cannot_leave_the_diagram(hostile: Path) -> None:
    outcome = dbtruth("review", _snapshot(hostile))
    assert outcome.code == 0, outcome.err
    tokens = MarkdownIt("commonmark").parse(outcome.out)
    blocks = [t.content for t in tokens if t.type == "fence" and t.info == "mermaid"]
    assert len(blocks) == 1
    # Mermaid words, keys, cardinalities and quoted labels only; the fence closes after them.
    assert re.fullmatch(r"erDiagram\n[A-Za-z0-9_ \n{}|o:\"',.-]*", blocks[0]), blocks[0]
    assert blocks[0].count("--") == 1  # the one foreign key


def test_terminal_shows_control_characters_and_markup_as_text(hostile: Path) -> None:
    outcome = dbtruth("check", _snapshot(hostile), "--manifest", str(hostile / "dbtruth.yaml"),
                      "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    _assert_terminal_safe(outcome.out + outcome.err)
    assert RICH in outcome.out  # printed, not read as rich markup
    assert "\\x1b]0;pwned\\x07" in outcome.out and "\\x9b31m" in outcome.out


def test_terminal_in_colour_adds_only_its_own_styles(hostile: Path) -> None:
    catalog = snapshot.load(Path(_snapshot(hostile)))
    result = engine.run(catalog, Manifest())
    ctx = ReportContext(result=result, target=SCRIPT + TITLE, source=catalog.source,
                        server_version=catalog.server_version, rules=engine.all_specs(),
                        fail_on=Severity.WARNING, tables=len(catalog.tables),
                        notes=[C1 + RICH])  # fmt: skip
    stream = io.StringIO()
    terminal.render_to(ctx, stream, color=True)
    styled = stream.getvalue()
    assert "\x1b[" in styled  # colours are on
    _assert_terminal_safe(re.sub(r"\x1b\[[0-9;]*m", "", styled))  # SGR only, nothing else
    assert RICH in re.sub(r"\x1b\[[0-9;]*m", "", styled)


def test_json_and_sarif_keep_the_exact_names(hostile: Path) -> None:
    outcome = dbtruth("check", _snapshot(hostile), "--format", "json", "--fail-on", "never")
    assert not re.search("[\x7f-\x9f]", outcome.out)  # written as \\u escapes
    paths = {f["object"]["path"] for f in json.loads(outcome.out)["findings"]}
    assert f"{SCHEMA}.{CHILD}" in paths
    assert any("_c\n```\n<script>alert(2)" in p for p in paths), paths  # the foreign key
    outcome = dbtruth("check", _snapshot(hostile), "--format", "sarif", "--fail-on", "never")
    results = json.loads(outcome.out)["runs"][0]["results"]
    names = {loc["fullyQualifiedName"] for r in results
             for loc in r["locations"][0]["logicalLocations"]}  # fmt: skip
    assert f"{SCHEMA}.{CHILD}" in names


@pytest.fixture(scope="module")
def hostile_migrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("migrations")
    table = f"{ident(SCHEMA)}.{ident(CHILD)}"
    (folder / f"001_{IMG}.sql").write_text(
        f"ALTER TABLE {table} ADD COLUMN {ident(RICH)} int NOT NULL;\n"
        f"CREATE INDEX {ident(FENCE)} ON {table} ({ident(CHECKED)});\n"
    )
    (folder / f"002_{TITLE}.sql").write_text(
        f"ALTER TABLE {table} ALTER COLUMN {ident(TICKS + IMG)} TYPE bigint;\n"
    )
    (folder / f"003_{CSI}.sql").write_bytes(b"\xff\xfe not text\n")  # reported on stderr
    return folder


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "json"])
def test_migrate_lint_is_inert(hostile_migrations: Path, fmt: str) -> None:
    outcome = dbtruth("migrate", "lint", str(hostile_migrations), "--format", fmt,
                      "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    _assert_terminal_safe(outcome.err)
    if fmt == "markdown":
        _assert_inert_markdown(outcome.out, f"001_{IMG}.sql", RICH)
    elif fmt == "terminal":
        _assert_terminal_safe(outcome.out)
        assert RICH in outcome.out and "002_\\x1b]0;pwned\\x07.sql" in outcome.out
    else:
        document = json.loads(outcome.out)
        files = {f["location"]["file"] for f in document["findings"] if f["location"]}
        assert any(f.endswith(f"002_{TITLE}.sql") for f in files), files


def test_error_lines_show_names_without_acting_on_them(hostile: Path, tmp_path: Path) -> None:
    missing = tmp_path / f"missing{TITLE}\n{SCRIPT}.sql"
    outcome = dbtruth("check", str(missing))
    assert outcome.code == 2
    _assert_terminal_safe(outcome.err)
    assert outcome.err.count("\n") == 1 and "missing\\x1b]0;pwned\\x07" in outcome.err
    manifest = tmp_path / "dbtruth.yaml"
    manifest.write_text('rules:\n  "\\e]0;pwned\\a[bold]": 1\n')
    outcome = dbtruth("check", _snapshot(hostile), "--manifest", str(manifest))
    assert outcome.code == 2
    _assert_terminal_safe(outcome.err)
    assert outcome.err.startswith("dbtruth: error: ")
    assert len(outcome.err.rstrip("\n").split("\n  hint: ")[0].splitlines()) == 1
