"""Schema dumps that live among migrations.

Projects keep a dump of the whole schema next to their migrations: dbmate's `schema.sql`, a
`structure.sql`, Synapse's `full_schemas/<version>/full.sql.postgres` that a new install applies
instead of the older deltas. Such a file is the schema at some point, not a change to one:
linted as a migration, every index and constraint in it reads as a change to an existing table
(dozens of lock warnings about tables that the dump itself creates), and replayed it fails on
tables that already exist. A dump is left out, with a note: it may be the schema the migrations
start from (Synapse) or the one they build (dbmate writes it after migrating), and nothing in
the folder says which. `--against` the dump lints the migrations against it.

A file is a dump when pg_dump's header says so, or when it has pg_dump's shape: tables created,
constraints added with `ALTER TABLE ONLY` (pg_dump's form; hand-written migrations rarely use
ONLY), and nothing that changes what exists (no DROP, UPDATE, DELETE, TRUNCATE, renames, column
changes). `-- dbtruth: migration` at the top of a file makes it a migration whatever it looks
like.
"""

from __future__ import annotations

import re

_HEADER = re.compile(
    r"^--\s*(PostgreSQL database dump|Dumped from database version|Dumped by pg_dump)",
    re.MULTILINE | re.IGNORECASE,
)
_HEADER_CHARS = 4096
_MIGRATION_MARKER = re.compile(r"^--\s*dbtruth:\s*migration\s*$", re.MULTILINE | re.IGNORECASE)
_CREATES_TABLE = re.compile(r"^CREATE\s+(UNLOGGED\s+)?TABLE\b", re.MULTILINE | re.IGNORECASE)
_ALTER_ONLY = re.compile(r"^ALTER\s+TABLE\s+ONLY\b", re.MULTILINE | re.IGNORECASE)
# A statement that changes what already exists. Statements start at a line's beginning in
# pg_dump's output; an indented one in a function body is not a statement of the file.
_CHANGES_EXISTING = re.compile(
    r"^(DROP|UPDATE|DELETE|TRUNCATE|ALTER\s+TYPE\s+\S+\s+(ADD|RENAME)"
    r"|ALTER\s+TABLE\s+(IF\s+EXISTS\s+)?(ONLY\s+)?\S+\s+"
    r"(RENAME|DROP|ADD\s+COLUMN|ALTER\s+(COLUMN\s+)?\S+\s+(TYPE|SET\s+NOT\s+NULL|DROP)))\b",
    re.MULTILINE | re.IGNORECASE,
)


def dump_reason(text: str) -> str | None:
    """Why the text is a schema dump rather than a migration, or None when it is not one."""
    if _MIGRATION_MARKER.search(text, 0, _HEADER_CHARS):
        return None
    if _HEADER.search(text, 0, _HEADER_CHARS):
        return "pg_dump's header"
    if (
        _CREATES_TABLE.search(text)
        and _ALTER_ONLY.search(text)
        and not _CHANGES_EXISTING.search(text)
    ):
        return "pg_dump's shape: tables created, ALTER TABLE ONLY, nothing changed"
    return None
