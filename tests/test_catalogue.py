"""The rule catalogue `dbtruth rules` and `dbtruth rule CODE` read (src/dbtruth/catalogue.json)
is the rules' own declarations and docstrings, never an older copy of them."""

from __future__ import annotations

import pytest

from dbtruth import catalogue
from dbtruth.engine import find_spec

REGENERATE = "catalogue.json is stale: run `python -m dbtruth.catalogue` and commit it"


def test_catalogue_is_what_the_rules_declare() -> None:
    written = catalogue.CATALOGUE.read_text(encoding="utf-8")
    assert written == catalogue.document(catalogue.from_rules()), REGENERATE


def test_an_edited_rule_is_read_from_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule file changed since catalogue.json was written: its checksum no longer matches.
    monkeypatch.setattr(catalogue, "sources_checksum", lambda: "edited")
    catalogue.entries.cache_clear()
    try:
        assert catalogue.entries() == catalogue.from_rules()
    finally:
        catalogue.entries.cache_clear()


def test_catalogue_finds_rules_as_the_engine_does() -> None:
    for entry in catalogue.entries():
        for selector in (entry.code, entry.code.lower(), f" {entry.name} "):
            found, spec = catalogue.find(selector), find_spec(selector)
            assert found is not None and spec is not None
            assert found.code == spec.code
    assert catalogue.find("X999") is None and find_spec("X999") is None
