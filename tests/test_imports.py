"""A command imports only what it runs: each runs in a fresh Python process, and the heavy
modules it ended up importing are compared with what it needs. Deterministic where a timing
is not; benchmarks/bench_startup.py measures the time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

# The imports that cost start-up, each tens of milliseconds or more.
HEAVY = (
    "psycopg",  # connections: live targets, scratch servers, replay
    "pydantic",  # dbtruth.yaml's models
    "jinja2",  # the HTML review
    "markdown_it",  # Markdown inside the HTML review
    "pglast",  # PostgreSQL's parser: migrations and the rules
    "yaml",
    "rich",  # the terminal report
    "dbtruth.engine",  # selecting and running rules
    "dbtruth.rules.registry",  # every rule, catalog rules included
)

# Runs dbtruth as the console script does, then reports the heavy modules loaded; the
# commands' own output is swallowed.
LAUNCHER = """
import io, json, sys
from dbtruth.cli import run
sys.stdout = io.StringIO()
code = run(sys.argv[1:], io.StringIO(), io.StringIO())
heavy = [m for m in json.loads(HEAVY) if m in sys.modules]
sys.__stdout__.write(json.dumps({"code": code, "imported": heavy}))
"""


def imported(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER.replace("HEAVY", repr(json.dumps(HEAVY))), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    outcome = json.loads(done.stdout)
    assert outcome["code"] in (0, 1), (argv, outcome, done.stderr)
    return set(outcome["imported"])


@pytest.fixture(scope="module")
def migrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("migrations")
    (folder / "0001_accounts.sql").write_text("CREATE TABLE accounts (id bigint PRIMARY KEY);\n")
    (folder / "0002_email.sql").write_text("ALTER TABLE accounts ADD COLUMN email text;\n")
    return folder


SNAPSHOT = str(ROOT / "tests" / "data" / "legacy.snapshot.json")


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("--version",),
        ("rules",),
        ("rule", "I002"),
        ("rule", "foreign-key-without-index"),
        ("check", "--help"),
        ("migrate", "lint", "--help"),
        ("review", "--help"),
        ("prove", "--help"),
    ],
)
def test_help_and_the_catalogue_import_nothing_heavy(argv: tuple[str, ...]) -> None:
    assert imported(*argv) == set()


def test_migrate_lint_without_a_target_connects_nothing(migrations: Path) -> None:
    loaded = imported("migrate", "lint", str(migrations))
    assert {"pglast", "dbtruth.engine"} <= loaded  # what the lint runs
    assert not loaded & {"psycopg", "jinja2", "markdown_it", "dbtruth.rules.registry"}
    for fmt in ("json", "sarif", "markdown", "github", "junit", "gitlab"):
        loaded = imported("migrate", "lint", str(migrations), "--format", fmt)
        assert not loaded & {"psycopg", "jinja2", "markdown_it", "rich"}, fmt


def test_migrate_lint_reads_the_manifest_models_only_for_a_dbtruth_yaml(tmp_path: Path) -> None:
    # a pre-commit hook's run has no dbtruth.yaml most often: its defaults cost nothing
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_index.sql").write_text("CREATE INDEX accounts_email ON accounts (email);\n")
    assert not imported("migrate", "lint", str(folder)) & {"pydantic", "yaml"}
    (folder / "dbtruth.yaml").write_text("rules:\n  ignore: [M001]\n")
    assert {"pydantic", "yaml"} <= imported("migrate", "lint", str(folder))


def test_check_and_review_load_html_only_for_html(tmp_path: Path) -> None:
    assert not imported("check", SNAPSHOT) & {"jinja2", "markdown_it"}
    assert not imported("review", SNAPSHOT) & {"jinja2", "markdown_it"}
    html = imported("review", SNAPSHOT, "-o", str(tmp_path / "review.html"))
    assert {"jinja2", "markdown_it"} <= html


def test_schema_reads_only_the_manifest_models() -> None:
    assert imported("schema") == {"pydantic", "yaml"}
