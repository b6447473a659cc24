"""Shared vocabulary of the catalog rules: how names are read, which tables a rule looks at,
and how objects are referred to. Kept here so that every rule reads a name the same way
(snake_case and Prisma-style camelCase alike)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from pglast import ast, parse_sql
from pglast.enums import BoolExprType, NullTestType
from pglast.parser import ParseError

from dbtruth.findings import ObjectRef
from dbtruth.spec import Settings

if TYPE_CHECKING:
    from dbtruth.model import Catalog, Column, Constraint, Index, Table

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


_SEPARATORS = re.compile(r"[_\W]+")
AND, NOT = BoolExprType.AND_EXPR, BoolExprType.NOT_EXPR


# Cached: column names repeat across thousands of tables, and every rule reads them.
@cache
def tokens(name: str) -> tuple[str, ...]:
    """'case_file_id' -> ('case', 'file', 'id'); 'projectId' -> ('project', 'id')."""
    return tuple(t for t in _SEPARATORS.split(_CAMEL.sub("_", name).lower()) if t)


@cache
def normalized(name: str) -> str:
    """Compare names across naming styles: 'tenant_id', 'tenantId' and 'TenantID' are equal."""
    return "".join(tokens(name))


def plural_forms(word: str) -> set[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


def own_tables(catalog: Catalog) -> Iterator[Table]:
    """Tables a design is made of: partitions are judged through their parent, foreign tables
    are another server's business."""
    for table in catalog.tables:
        if table.partition_of is None and table.kind != "foreign table":
            yield table


def table_ref(table: Table) -> ObjectRef:
    return ObjectRef("table", table.schema, table.name)


def column_ref(table: Table, column: str) -> ObjectRef:
    return ObjectRef("column", table.schema, table.name, column)


def constraint_ref(constraint: Constraint) -> ObjectRef:
    return ObjectRef("constraint", constraint.schema, constraint.table, constraint.name)


def index_ref(index: Index) -> ObjectRef:
    return ObjectRef("index", index.schema, index.table, index.name)


# Tables migration runners keep their history in: evidence that a migration tool is used, and
# tables only the runner touches (a lock on one queues no application query).
MIGRATION_HISTORY_TABLES = frozenset(
    {
        "schema_migrations",
        "schema_migration",  # gobuffalo pop / fizz
        "flyway_schema_history",
        "_prisma_migrations",
        "alembic_version",
        "django_migrations",
        "knex_migrations",
        "knex_migrations_lock",
        "goose_db_version",
        "gorp_migrations",
        "__diesel_schema_migrations",
        "__efmigrationshistory",
        "databasechangelog",
        "databasechangeloglock",
        "schema_version",
        "migrations",
        "applied_schema_deltas",
        "schema_update_history",
        "pgmigrations",
    }
)


def tenant_key(table: Table, settings: Settings) -> Column | None:
    """The table's tenant column, unless the table is exempt from tenancy."""
    ranks = _tenant_ranks(tuple(settings.tenant_keys))
    found: Column | None = None
    found_rank = len(ranks)
    for column in table.columns:
        rank = ranks.get(normalized(column.name))
        if rank is not None and rank < found_rank:
            found, found_rank = column, rank
    if found is None:
        return None
    if any(
        fnmatch.fnmatchcase(table.qualified, pattern) or fnmatch.fnmatchcase(table.name, pattern)
        for pattern in settings.tenant_exempt
    ):
        return None
    return found


@cache
def _tenant_ranks(keys: tuple[str, ...]) -> dict[str, int]:
    """The tenant key names as compared, each with its place in the list (the first wins)."""
    ranks: dict[str, int] = {}
    for rank, key in enumerate(keys):
        ranks.setdefault(normalized(key), rank)
    return ranks


@cache
def not_null_columns(predicate: str) -> frozenset[str] | None:
    """The columns a partial index's predicate requires to be non-null, when that is all it
    requires (`a IS NOT NULL AND b IS NOT NULL`); None for any other predicate."""
    try:
        statement = parse_sql(f"SELECT WHERE {predicate}")[0].stmt
    except ParseError:
        return None
    where = statement.whereClause if isinstance(statement, ast.SelectStmt) else None
    if where is None:
        return None
    terms = (
        where.args or () if isinstance(where, ast.BoolExpr) and where.boolop == AND else (where,)
    )
    columns: set[str] = set()
    for term in terms:
        negated = isinstance(term, ast.BoolExpr) and term.boolop == NOT
        test = term.args[0] if negated and term.args else term
        if not isinstance(test, ast.NullTest) or not isinstance(test.arg, ast.ColumnRef):
            return None
        if (test.nulltesttype == NullTestType.IS_NOT_NULL) == negated:
            return None
        fields = test.arg.fields or ()
        if len(fields) != 1 or not isinstance(fields[0], ast.String) or not fields[0].sval:
            return None
        columns.add(fields[0].sval)
    return frozenset(columns)


def covering_index(catalog: Catalog, table: Table, columns: tuple[str, ...]) -> Index | None:
    """A usable index whose leading keys are exactly `columns` in some order: the index
    PostgreSQL can use to find rows by those columns (a foreign key check, a join).

    A partial index counts when its predicate only asks some of those columns to be non-null:
    a search by `col = value` implies `col IS NOT NULL` (the operator is strict), so the planner
    proves the predicate and uses the index, for the foreign key check's own query too."""
    wanted = set(columns)
    for index in catalog.indexes_of(table):
        if not index.valid:
            continue
        if index.predicate is not None:
            required = not_null_columns(index.predicate)
            if required is None or not required <= wanted:
                continue
        if index.method not in ("btree", "hash") and len(columns) > 1:
            continue
        leading = index.leading
        if len(leading) >= len(wanted) and set(leading[: len(wanted)]) == wanted:
            return index
    return None


def short_name(*parts: str, suffix: str) -> str:
    """An identifier under PostgreSQL's 63-byte limit, named the way PostgreSQL names its own."""
    base = "_".join(parts)
    limit = 63 - len(suffix) - 1
    return f"{base[:limit]}_{suffix}"


def fresh_name(catalog: Catalog, schema: str, *parts: str, suffix: str) -> str:
    """Like short_name, but not already taken by a relation or constraint in `schema`, so a fix
    never collides with an index PostgreSQL named automatically."""
    taken = catalog.names_in_schema(schema)
    name = short_name(*parts, suffix=suffix)
    counter = 1
    while name in taken:
        name = short_name(*parts, suffix=f"{suffix}{counter}")
        counter += 1
    return name


# Words that end the name of a value generated to be unique everywhere. Not "id": "user_id" is
# a reference, and only a column named exactly "id" is the row's own surrogate key.
_GENERATED_WORDS = frozenset({"uuid", "guid", "token", "secret", "hash", "nonce"})
_IDENTIFIER_WORDS = frozenset(
    {
        "uuid",
        "guid",
        "token",
        "secret",
        "hash",
        "digest",
        "key",
        "nonce",
        "fingerprint",
        "signature",
    }
)


def names_a_generated_value(column: Column) -> bool:
    """A token, secret or hash anywhere in the name (`email_change_token_new`): a value the
    system draws at random, never chosen or re-entered by a person."""
    return bool(_GENERATED_WORDS.intersection(tokens(column.name)))


def is_generated_identifier(column: Column) -> bool:
    """Surrogate ids, tokens, secrets and hashes: values a system generates to be unique
    everywhere, as opposed to names, emails and slugs that people choose."""
    parts = tokens(column.name)
    default = (column.default or "").lower()
    return (
        parts == ("id",)
        or bool(parts and parts[-1] in _IDENTIFIER_WORDS)
        or column.type_name == "uuid"
        or bool(column.identity)
        or default.startswith(("nextval(", "gen_random_uuid(", "uuid_generate"))
    )
