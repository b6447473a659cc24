"""What several capabilities ask of a session they read in: where an extension lives, and the
settings under which PostgreSQL prints values alike on both sides of a comparison."""

from __future__ import annotations

from typing import Any

import psycopg

# Rows are compared by their text (drill, drift): these settings change how values print.
# SET LOCAL: they last for the transaction that compares.
SAME_TEXT = (
    "SET LOCAL TimeZone = 'UTC'", "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'", "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
)  # fmt: skip


def print_alike(conn: psycopg.Connection[Any]) -> None:
    """Within the current transaction, print values as every comparing session does."""
    for statement in SAME_TEXT:
        conn.execute(statement)


def extension_schema(conn: psycopg.Connection[Any], name: str) -> str | None:
    """The schema an extension is installed in, in this database; None when it is not."""
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = %s",
        (name,),
    ).fetchone()
    return str(row[0]) if row else None
