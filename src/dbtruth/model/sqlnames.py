"""Quoting of identifiers for the SQL that fixes carry.

Fixes are text shown to a user and applied by the fixture runner, so they need PostgreSQL's own
quoting rules: an identifier is left bare only when it is lower case, starts with a letter or
underscore, and is not a keyword other than an unreserved one.
"""

from __future__ import annotations

import re
from functools import cache

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

_BARE = re.compile(r"^[a-z_][a-z0-9_$]*$")
# Every keyword that is not "unreserved" must be quoted to be used as a name: the rule
# PostgreSQL's own quote_ident() applies. pglast carries the keyword lists of its parser.
_RESERVED = frozenset(RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS)


# Cached: the same names are quoted for every definition and fix (450,000 calls for a schema of
# 10,000 tables), and there are far fewer distinct ones.
@cache
def ident(name: str) -> str:
    """Quote one identifier if PostgreSQL needs it quoted."""
    if _BARE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def column_list(columns: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ident(c) for c in columns)


def literal(text: str) -> str:
    """A string constant with standard_conforming_strings (on since PostgreSQL 9.1)."""
    return "'" + text.replace("'", "''") + "'"
