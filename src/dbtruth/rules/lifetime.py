"""Tables whose rows live briefly: login flows, token exchanges, challenges, anything with an
expiry. A row that is gone in minutes makes some costs moot — a dangling reference expires
with it, and a catch-all of optional columns holds no history to misread — so the rules that
would report them grade such tables apart, saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dbtruth.rules.naming import tokens

if TYPE_CHECKING:
    from dbtruth.model import Table

_EXPIRY_WORDS = frozenset({"expires", "expiry", "expiration", "ttl"})
_TRANSIENT_NAMES = frozenset({"flow", "flows", "exchange", "exchanges", "challenge", "challenges"})


def short_lived(table: Table) -> str | None:
    """Why the table's rows live briefly (an expiry column, or a name that says it holds
    login flows, exchanges, challenges), or None."""
    return short_lived_by_names(table.name, (c.name for c in table.columns))


def short_lived_by_names(table: str, columns: Iterable[str]) -> str | None:
    """short_lived from names alone, for a table known only from migrations' statements."""
    expiry = next((c for c in columns if _EXPIRY_WORDS & set(tokens(c))), None)
    if expiry is not None:
        return f"they expire: {expiry}"
    if _TRANSIENT_NAMES & set(tokens(table)):
        return "the table's name says it holds flows or exchanges"
    return None
