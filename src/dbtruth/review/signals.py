"""Catalog signals the review reads that no rule reports on its own: columns that look like
personal data, optimistic-lock versions, idempotency keys, lifecycle columns, outboxes, JSON
columns and their contracts, and the shape of the declared workload queries.

Each is a heuristic on names and structure, and the review says so where it uses one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

from dbtruth.inputs import UnreadableInput, read_bytes
from dbtruth.manifest.design import WorkloadQuery
from dbtruth.model import Table
from dbtruth.review.facts import Facts
from dbtruth.rules.naming import tenant_key, tokens

_PII_TOKENS = frozenset(
    {
        "email",
        "phone",
        "mobile",
        "ssn",
        "passport",
        "birth",
        "birthday",
        "birthdate",
        "dob",
        "address",
        "street",
        "postal",
        "zip",
        "ip",
        "iban",
        "salary",
        "nik",
        "npwp",
        "gender",
        "firstname",
        "lastname",
        "fullname",
        "surname",
    }
)
_PII_PAIRS = (("first", "name"), ("last", "name"), ("full", "name"), ("national", "id"))
_SECRET_TOKENS = frozenset({"password", "secret", "token", "hash", "salt", "otp", "totp"})
_VERSION_NAMES = frozenset({"version", "lock_version", "row_version", "revision", "etag"})
_IDEMPOTENCY = re.compile(r"idempoten|request_id|dedup|deduplication|external_id|event_id")
_LIFECYCLE = re.compile(r"(^|_)(status|state)$")
_OUTBOX = re.compile(r"(^|_)outbox")


F = TypeVar("F", bound=Callable[[Facts], Any])


def _once(signal: F) -> F:
    """Each signal is computed once per review: several sections and checklist answers read
    the same one (the tenant tables, the workload's shapes)."""

    @wraps(signal)
    def memo(facts: Facts) -> Any:
        if signal.__name__ not in facts.memo:
            facts.memo[signal.__name__] = signal(facts)
        return facts.memo[signal.__name__]

    return memo  # type: ignore[return-value]


@cache
def _column_tokens(name: str) -> frozenset[str]:
    return frozenset(tokens(name))


# A last word that makes the column about the personal value, not the value itself: a
# reference to it (`recovery_address_id`), its category (`address_type`, `new_address_via`) or
# a flag (`email_verified`).
_ABOUT_THE_VALUE = frozenset(
    {"id", "ids", "uuid", "type", "kind", "via", "verified", "confirmed", "count", "at"}
)


@_once
def personal_data_columns(facts: Facts) -> list[str]:
    found = []
    for table in facts.tables:
        for column in table.columns:
            parts = _column_tokens(column.name)
            if parts & _SECRET_TOKENS:
                continue  # credentials are secrets, not personal data; S-rules look at them
            words = tokens(column.name)
            if len(words) > 1 and words[-1] in _ABOUT_THE_VALUE:
                continue
            if parts & _PII_TOKENS or any(set(pair) <= parts for pair in _PII_PAIRS):
                found.append(f"{table.qualified}.{column.name}")
    return found


@_once
def version_columns(facts: Facts) -> list[str]:
    """Numeric version columns used as optimistic locks. A version inside a unique key numbers
    the versions of a document (prompt v1, v2, …) and is not a lock, so it is left out."""
    found = []
    for table in facts.tables:
        keyed = {
            column
            for c in facts.catalog.constraints_of(table)
            if c.kind in ("unique", "primary key")
            for column in c.columns
        } | {k for i in facts.catalog.indexes_of(table) if i.unique for k in i.keys}
        found += [
            f"{table.qualified}.{c.name}"
            for c in table.columns
            if c.name.lower() in _VERSION_NAMES and c.type_category == "N" and c.name not in keyed
        ]
    return found


@_once
def idempotency_keys(facts: Facts) -> list[str]:
    """Unique keys on a column whose name says it deduplicates requests or events."""
    found = []
    for table in facts.tables:
        for constraint in facts.catalog.constraints_of(table):
            if constraint.kind in ("unique", "primary key") and any(
                _IDEMPOTENCY.search(c.lower()) for c in constraint.columns
            ):
                found.append(f"{table.qualified} ({', '.join(constraint.columns)})")
        for index in facts.catalog.indexes_of(table):
            if (
                index.unique
                and index.constraint is None
                and any(_IDEMPOTENCY.search(k.lower()) for k in index.keys)
            ):
                found.append(f"{table.qualified} ({', '.join(index.keys)})")
    return found


@_once
def lifecycle_tables(facts: Facts) -> list[Table]:
    return [t for t in facts.tables if any(_LIFECYCLE.search(c.name.lower()) for c in t.columns)]


@_once
def outbox_tables(facts: Facts) -> list[str]:
    found = []
    for table in facts.tables:
        declared = facts.role_of(table.qualified)
        if (declared and declared[1].role == "outbox") or _OUTBOX.search(table.name.lower()):
            found.append(table.qualified)
    return found


@dataclass(frozen=True, slots=True)
class SharedReference:
    """A foreign key column most tables carry to one table: Kratos' `nid` to networks,
    Langfuse's `project_id` to projects — the shape of a partition key, whatever its name."""

    column: str
    target: str
    tables: int  # tables that carry it
    nullable: int  # of those, where it may be NULL
    of: int  # tables in the design


# Carried by at least this share of the design's tables (and by 5 or more) to read as a key
# that partitions the data rather than an ordinary reference.
SHARED_REFERENCE_SHARE = 0.4


@_once
def shared_reference(facts: Facts) -> SharedReference | None:
    """The single-column foreign key (by column name and referenced table) the most tables
    carry, when it is carried widely enough to partition the data."""
    carriers: dict[tuple[str, str], list[Table]] = {}
    for table in facts.tables:
        for constraint in facts.catalog.constraints_of(table):
            if constraint.kind == "foreign key" and len(constraint.columns) == 1:
                key = (constraint.columns[0], constraint.ref_qualified or "")
                if table not in carriers.setdefault(key, []):
                    carriers[key].append(table)
    if not carriers:
        return None
    (column, target), tables = max(carriers.items(), key=lambda item: len(item[1]))
    total = len(facts.tables)
    if len(tables) < 5 or len(tables) < SHARED_REFERENCE_SHARE * total:
        return None
    nullable = sum(1 for t in tables if (c := t.column(column)) is not None and not c.not_null)
    return SharedReference(column, target, len(tables), nullable, total)


@_once
def tenant_tables(facts: Facts) -> list[Table]:
    settings = facts.manifest.settings()
    return [t for t in facts.tables if tenant_key(t, settings) is not None]


@_once
def json_columns(facts: Facts) -> tuple[list[str], list[str]]:
    """(json columns with a CHECK that mentions them, json columns without one)."""
    checked, unchecked = [], []
    for table in facts.tables:
        checks = [c for c in facts.catalog.constraints_of(table) if c.kind == "check"]
        for column in table.columns:
            if column.type_name not in ("json", "jsonb"):
                continue
            name = f"{table.qualified}.{column.name}"
            if any(column.name in c.columns for c in checks):
                checked.append(name)
            else:
                unchecked.append(name)
    return checked, unchecked


@dataclass(frozen=True)
class QueryShape:
    name: str
    parsed: bool
    limit_without_order: bool = False
    offset: bool = False
    paginated: bool = False


class _ShapeVisitor(Visitor):
    def __init__(self) -> None:
        self.limit_without_order = False
        self.offset = False
        self.paginated = False

    def visit_SelectStmt(self, ancestors: object, node: ast.SelectStmt) -> None:
        if node.limitCount is not None:
            self.paginated = True
            if not node.sortClause:
                self.limit_without_order = True
        if node.limitOffset is not None:
            self.offset = True
            self.paginated = True


# A workload query is one statement: far below this.
MAX_QUERY_BYTES = 2**20


def query_text(facts: Facts, query: WorkloadQuery) -> str | None:
    if query.sql is not None:
        return query.sql
    path = facts.base / (query.file or "")
    try:
        return read_bytes(path, MAX_QUERY_BYTES, "a workload query").decode("utf-8")
    except (UnreadableInput, UnicodeDecodeError):  # a FIFO is refused, never waited on
        return None


@_once
def query_shapes(facts: Facts) -> list[QueryShape]:
    shapes = []
    for query in facts.manifest.workload:
        text = query_text(facts, query)
        if text is None:
            shapes.append(QueryShape(query.name, parsed=False))
            continue
        try:
            tree = parse_sql(text)
        except ParseError:
            shapes.append(QueryShape(query.name, parsed=False))
            continue
        visitor = _ShapeVisitor()
        visitor(tree)
        shapes.append(
            QueryShape(
                query.name,
                parsed=True,
                limit_without_order=visitor.limit_without_order,
                offset=visitor.offset,
                paginated=visitor.paginated,
            )
        )
    return shapes
