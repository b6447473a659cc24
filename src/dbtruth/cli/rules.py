"""`dbtruth rules` and `dbtruth rule CODE`: the catalogue, read from its index (see
dbtruth.catalogue) without importing the rules."""

from __future__ import annotations

import click

from dbtruth.cli.output import echo
from dbtruth.errors import DbtruthError


@click.command("rules")
def rules() -> int:
    """List the rule catalogue."""
    from dbtruth.catalogue import entries
    from dbtruth.report.catalogue import rule_line

    for entry in entries():
        echo(rule_line(entry))
    return 0


@click.command("rule")
@click.argument("code")
def rule(code: str) -> int:
    """Show one rule's documentation (by code or name)."""
    from dbtruth.catalogue import find
    from dbtruth.report.catalogue import rule_page

    entry = find(code)
    if entry is None:
        raise DbtruthError(f"unknown rule '{code}'", hint="`dbtruth rules` lists them")
    echo(rule_page(entry))
    return 0
