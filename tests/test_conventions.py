"""Meta-tests that keep the catalogue honest: registered once, unique codes and names, full
documentation, a fixture with a passing and a failing case for every rule, every CLI option
documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from dbtruth.cli import cli
from dbtruth.rules import RULES
from dbtruth.spec import DOC_HEADINGS, FAMILIES, spec_of

FIXTURES = Path(__file__).parent / "rules" / "fixtures"
RULES_DIR = Path(__file__).parent.parent / "src" / "dbtruth" / "rules"


def test_every_rule_registered_once_with_unique_code_and_name() -> None:
    specs = [spec_of(r) for r in RULES]
    assert len({s.code for s in specs}) == len(specs)
    assert len({s.name for s in specs}) == len(specs)
    assert len(set(RULES)) == len(RULES)
    for spec in specs:
        assert re.fullmatch(r"[A-Z]\d{3}", spec.code) and spec.code[0] in FAMILIES
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", spec.name), spec.name


def test_the_migration_registry_is_the_migration_part_of_the_registry() -> None:
    from dbtruth.rules.migration_registry import MIGRATION_RULES

    assert tuple(r for r in RULES if spec_of(r).kind == "migration") == MIGRATION_RULES


def test_one_file_per_rule_named_after_its_function() -> None:
    files = {p.stem for p in RULES_DIR.glob("*/*.py") if p.stem != "__init__"}
    functions = {r.__name__ for r in RULES}
    assert files == functions
    for check in RULES:
        assert spec_of(check).name.replace("-", "_") == check.__name__


def test_every_docstring_has_the_headings() -> None:
    for check in RULES:
        spec = spec_of(check)
        for heading in DOC_HEADINGS:
            assert spec.section(heading), f"{spec.code} lacks '## {heading}'"


def test_every_rule_has_a_failing_and_a_passing_fixture() -> None:
    for check in RULES:
        spec = spec_of(check)
        path = FIXTURES / f"{spec.code}.yaml"
        assert path.exists(), f"{spec.code} has no fixture"
        cases = yaml.safe_load(path.read_text())["cases"]
        assert any(c.get("expect") for c in cases), f"{spec.code}: no failing case"
        assert any(not c.get("expect") for c in cases), f"{spec.code}: no passing case"


def test_every_cli_option_is_documented() -> None:
    def walk(command: click.Command) -> None:
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts} has no help"
        assert command.help, f"{command.name} has no help"
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                walk(sub)

    walk(cli)


def test_readme_lists_every_rule() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for check in RULES:
        spec = spec_of(check)
        assert f"| {spec.code} | `{spec.name}` |" in readme, spec.code
