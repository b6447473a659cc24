"""Quoting of identifiers for the SQL that fixes carry.

Fixes are text shown to a user and applied by the fixture runner, so they need PostgreSQL's own
quoting rules: an identifier is left bare only when it is lower case, starts with a letter or
underscore, and is not a keyword that would change the statement's meaning.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"^[a-z_][a-z0-9_$]*$")
# Reserved words that cannot appear bare as a column or table name (the short list that real
# schemas trip on; anything else that is lower case and plain is safe bare).
_RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "system_user",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
    ]
)


def ident(name: str) -> str:
    """Quote one identifier if PostgreSQL needs it quoted."""
    if _BARE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def column_list(columns: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ident(c) for c in columns)
