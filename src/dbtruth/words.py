"""English counts for the prose dbtruth writes: "1 table", "3 tables", "2 queries".

Every renderer and rule that counts things in a sentence uses these, so the review never says
"1 views" or "3 table(s)".
"""

from __future__ import annotations


def plural(word: str, count: float) -> str:
    """`word` as it reads after `count`; only the last word changes ("foreign key" → "foreign
    keys", "query" → "queries", "index" → "indexes")."""
    if count == 1:
        return word
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def counted(count: float, word: str) -> str:
    """ "1 table", "3 tables"."""
    return f"{count} {plural(word, count)}"


def verb(count: float, singular: str, many: str) -> str:
    """The verb that agrees with `count` things: verb(1, "has", "have") == "has"."""
    return singular if count == 1 else many
