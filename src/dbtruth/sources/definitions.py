"""Display definitions of keys and indexes, composed from catalog facts.

PostgreSQL's pg_get_indexdef() and pg_get_constraintdef() deparse one object per call and were
most of the time spent reading schemas of thousands of tables. Primary keys, unique keys,
foreign keys and indexes are fully described by catalog columns, so their definitions are
composed here in the form pg_get_*def() prints; CHECK and EXCLUDE constraints, whose bodies
are expressions, are still deparsed by PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

from dbtruth.model.sqlnames import ident, qualified

_ACTION_SQL = {
    "restrict": "RESTRICT",
    "cascade": "CASCADE",
    "set null": "SET NULL",
    "set default": "SET DEFAULT",
}
_CALL = re.compile(r'^(?:[\w$]+|"[^"]+")(?:\.(?:[\w$]+|"[^"]+"))*\(')
# pg_index.indoption bits (catalog/pg_index.h)
_DESC = 1
_NULLS_FIRST = 2


def names(numbers: list[int] | None, attnames: dict[int, str]) -> tuple[str, ...]:
    return tuple(attnames.get(n, f"#{n}") for n in (numbers or []))


def key_definition(
    kind: str,
    columns: tuple[str, ...],
    *,
    ref: str | None = None,
    ref_columns: tuple[str, ...] = (),
    on_update: str | None = None,
    on_delete: str | None = None,
    on_delete_columns: tuple[str, ...] = (),
    deferrable: bool = False,
    validated: bool = True,
    nulls_not_distinct: bool = False,
) -> str:
    cols = ", ".join(ident(c) for c in columns)
    if kind == "primary key":
        text = f"PRIMARY KEY ({cols})"
    elif kind == "unique":
        text = f"UNIQUE {'NULLS NOT DISTINCT ' if nulls_not_distinct else ''}({cols})"
    else:
        text = f"FOREIGN KEY ({cols}) REFERENCES {ref}({', '.join(ident(c) for c in ref_columns)})"
        if on_update in _ACTION_SQL:
            text += f" ON UPDATE {_ACTION_SQL[on_update]}"
        if on_delete in _ACTION_SQL:
            text += f" ON DELETE {_ACTION_SQL[on_delete]}"
            if on_delete_columns:  # PostgreSQL 15+: SET NULL (only these columns)
                text += f" ({', '.join(ident(c) for c in on_delete_columns)})"
    if deferrable:
        text += " DEFERRABLE"
    if not validated:
        text += " NOT VALID"
    return text


def index_keys(row: dict[str, Any], attnames: dict[int, str]) -> tuple[list[str], list[bool]]:
    """Key texts (quoted column names or deparsed expressions) and whether each is a column."""
    expressions = iter(row["expressions"])
    keys: list[str] = []
    is_column: list[bool] = []
    for number in row["column_numbers"][: row["key_count"]]:
        if number == 0:
            keys.append(next(expressions))
            is_column.append(False)
        else:
            keys.append(ident(attnames.get(number, f"#{number}")))
            is_column.append(True)
    return keys, is_column


def _looks_like_function(expression: str) -> bool:
    """`lower(code)` prints bare in an index definition; `(parent_id + 1)` and casts get
    parentheses — as PostgreSQL's deparser decides for expression keys."""
    match = _CALL.match(expression)
    if match is None:
        return False
    depth = 0
    for position in range(match.end() - 1, len(expression)):
        char = expression[position]
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return position == len(expression) - 1
    return False


def index_definition(
    row: dict[str, Any], keys: list[str], is_column: list[bool], include: tuple[str, ...]
) -> str:
    parts = []
    for key, column, extra, option in zip(
        keys, is_column, row["key_extras"], row["options"], strict=False
    ):
        text = key if column or _looks_like_function(key) else f"({key})"
        text = f"{text} {extra}" if extra else text
        if row["ordered"]:
            descending, nulls_first = bool(option & _DESC), bool(option & _NULLS_FIRST)
            if descending:
                text += " DESC"
            if descending and not nulls_first:
                text += " NULLS LAST"
            elif nulls_first and not descending:
                text += " NULLS FIRST"
        parts.append(text)
    text = (
        f"CREATE {'UNIQUE ' if row['unique'] else ''}INDEX {ident(row['name'])} ON "
        f"{'ONLY ' if row['on_partitioned_table'] else ''}"
        f"{qualified(row['schema'], row['table'])} USING {row['method']} ({', '.join(parts)})"
    )
    if include:
        text += f" INCLUDE ({', '.join(ident(c) for c in include)})"
    if row["nulls_not_distinct"]:
        text += " NULLS NOT DISTINCT"
    if row["predicate"]:
        text += f" WHERE {row['predicate']}"  # pg_get_expr() parenthesizes it already
    return text
