"""`prove --data`: what the rows themselves show, read-only.

Two kinds of result, each with the SQL that counted it:

- **violations** of the invariants dbtruth.yaml declares with a detective query (the rows the
  query returns, counted; a few keys shown, never whole rows), and **orphans** behind columns
  named like references that no foreign key constrains;
- **latent invariants**: what holds in every row today without the database promising it — a
  nullable column that never holds NULL, a column of identifiers unique in practice, a
  reference column whose every value exists in the table it names (an inclusion dependency),
  a text column with a handful of values (a closed set). Each is proposed as the constraint
  that would keep it, with its migration-safe form.

Counts are exact up to `EXACT_ROWS` rows (the table's estimate); above it the table is read
through `TABLESAMPLE SYSTEM`, the sampling is stated, and what a sample shows is a guess, not an
observation. On a live target every query runs in dbtruth's read-only session with its
statement timeout; a query that fails or times out is reported, not skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.manifest import Manifest
from dbtruth.model import Catalog, Column, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.prove.overlap import exclusion_plan
from dbtruth.prove.plans import NonOverlap
from dbtruth.rules.invariants.foreign_key_shaped_column_without_constraint import (
    unconstrained_references,
)
from dbtruth.rules.naming import fresh_name, own_tables, tokens

# Tables above this many rows (estimate) are sampled rather than read whole.
EXACT_ROWS = 200_000
SAMPLE_PERCENT = 1
# Fewer rows than this show too little to propose an invariant from.
MIN_ROWS = 20
# Uniqueness by chance is likely in a small table: a unique key is proposed from this many on.
MIN_UNIQUE_ROWS = 100
# Words of names that hold codes many rows share in life, however distinct a sample looks.
_SHARED_CODE_WORDS = frozenset(
    {"postal", "zip", "country", "currency", "language", "area", "region", "city", "state"}
)
# A closed value set has at most this many values, each used by several rows.
MAX_VALUES = 8
# Identifier-like names whose uniqueness in practice is worth a unique index (not a created_at
# that happens to differ row by row).
_IDENTIFIER_WORDS = frozenset(
    {"code", "key", "slug", "email", "number", "ref", "reference", "handle", "username",
     "login", "sku", "isbn", "iban", "token", "uuid", "external"}
)  # fmt: skip
# Names of columns that hold a category (a closed set of values is their nature).
_CATEGORY_WORDS = frozenset(
    {"status", "state", "type", "kind", "role", "level", "priority", "category", "mode",
     "stage", "phase", "channel", "method", "plan", "tier", "severity", "visibility"}
)  # fmt: skip
_SHOWN_KEYS = 3
# A reference read from values alone needs this many distinct values, and is looked for in at
# most this many (column, table) pairs.
MIN_DISTINCT = 5
MAX_INCLUSION_CHECKS = 300
# Key types by family: a column and a primary key compare without a cast within one.
_KEY_TYPES = {"int2": "int", "int4": "int", "int8": "int", "uuid": "uuid"}


@dataclass(frozen=True, slots=True)
class DataFinding:
    """One thing the rows show."""

    # "violation" | "orphans" | "overlaps" | "not null" | "unique" | "reference" | "value set"
    # | "non-overlap"
    kind: str
    subject: str  # the invariant's id, or table.column
    statement: str  # in words
    rows: int  # rows read (after sampling)
    count: int  # rows that break it (violation, orphans); 0 for a latent invariant
    query: str  # the SQL that counted
    sample: tuple[str, ...] = ()  # keys of a few breaking rows, never whole rows
    proposal: str | None = None  # the constraint that would keep it
    safe_form: str | None = None  # the same, in steps that keep the table available
    sampled: str | None = None  # how the table was sampled, when it was
    error: str | None = None  # the query failed: nothing is known
    # Read from the values alone (a reference the column's name does not point at): which
    # table it means is a guess, however exact the count.
    inferred: bool = False

    @property
    def evidence(self) -> str:
        if self.error:
            return "unknown"
        return "guessed" if self.sampled or self.inferred else "observed"


@dataclass(frozen=True, slots=True)
class DataReport:
    source: str  # whose rows were read
    findings: tuple[DataFinding, ...]

    def violations(self) -> list[DataFinding]:
        return [f for f in self.findings if f.kind == "violation" and f.count]


def read_data(
    conn: psycopg.Connection[Any], catalog: Catalog, manifest: Manifest, source: str
) -> DataReport:
    """Everything `--data` reports, read through `conn` (which must not be able to write)."""
    found: list[DataFinding] = []
    found += _declared(conn, manifest)
    sizes = _sizes(conn)
    found += _references(conn, catalog, sizes)
    found += _unnamed_references(conn, catalog, sizes)
    found += _overlaps(conn, catalog, manifest, sizes)
    for table in own_tables(catalog):
        if table.kind != "table" or catalog.extension_of(table.schema, table.name):
            continue
        found += _columns(conn, catalog, table, sizes.get(table.qualified, 0))
    return DataReport(source, tuple(found))


def _sizes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Each table's row estimate (pg_class.reltuples; -1 before the first ANALYZE, read as
    small: counted exactly)."""
    rows = _fetch(
        conn,
        "SELECT n.nspname || '.' || c.relname, c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')",
    )
    return {str(name): max(int(estimate), 0) for name, estimate in rows}


def _source(table: Table, rows: int) -> tuple[sql.Composable, str | None]:
    name = sql.Identifier(table.schema, table.name)
    if rows > EXACT_ROWS:
        sampled = f"{SAMPLE_PERCENT}% of about {rows:,} rows (TABLESAMPLE SYSTEM)"
        return sql.SQL("{} TABLESAMPLE SYSTEM ({})").format(name, SAMPLE_PERCENT), sampled
    return name, None


def _fetch(conn: psycopg.Connection[Any], query: sql.Composed | str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query; each in its own transaction so that one failure (a timeout,
    a permission) leaves the next query free to run."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query if isinstance(query, sql.Composed) else query.encode())
        return list(cur.fetchall())


def _error(exc: psycopg.Error) -> str:
    return exc.diag.message_primary or str(exc).strip().splitlines()[0]


def _declared(conn: psycopg.Connection[Any], manifest: Manifest) -> Iterator[DataFinding]:
    """Each declared invariant's detective query, counted."""
    for invariant in manifest.invariants:
        query = (invariant.detective_query or "").strip().rstrip(";")
        if not query:
            continue
        counting = f"SELECT count(*) FROM ({query}) AS violation"
        try:
            count = _fetch(conn, counting)[0][0]
            keys = _fetch(conn, f"SELECT * FROM ({query}) AS violation LIMIT {_SHOWN_KEYS}")
        except psycopg.Error as exc:
            yield DataFinding("violation", invariant.id, invariant.statement, 0, 0, counting,
                              error=_error(exc))  # fmt: skip
            continue
        yield DataFinding(
            "violation",
            invariant.id,
            invariant.statement,
            0,
            int(count),
            counting,
            sample=tuple(str(row[0]) for row in keys),
        )


def _references(
    conn: psycopg.Connection[Any], catalog: Catalog, sizes: dict[str, int]
) -> Iterator[DataFinding]:
    """Columns named like references that no foreign key constrains: orphans counted; none
    means the inclusion holds and the foreign key can be declared."""
    for table, column, target, key in unconstrained_references(catalog):
        rows = sizes.get(table.qualified, 0)
        source, sampled = _source(table, rows)
        col = sql.Identifier(column.name)
        query = sql.SQL(
            "SELECT count({col}), count(*) FILTER (WHERE NOT EXISTS "
            "(SELECT 1 FROM {parent} p WHERE p.{key} = c.{col})) FROM {source} AS c "
            "WHERE {col} IS NOT NULL"
        ).format(
            col=col, parent=sql.Identifier(target.schema, target.name),
            key=sql.Identifier(key), source=source,
        )  # fmt: skip
        subject = f"{table.qualified}.{column.name}"
        words = f"every {subject} exists in {target.qualified}.{key}"
        text = query.as_string(conn)
        try:
            ((present, orphans),) = _fetch(conn, query)
        except psycopg.Error as exc:
            yield DataFinding("reference", subject, words, 0, 0, text, error=_error(exc))
            continue
        if not present:
            continue  # an empty column shows nothing
        if orphans:
            sample = _fetch(conn, sql.SQL(
                "SELECT DISTINCT c.{col}::text FROM {source} AS c WHERE c.{col} IS NOT NULL AND "
                "NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = c.{col}) LIMIT {n}"
            ).format(col=col, source=source, parent=sql.Identifier(target.schema, target.name),
                     key=sql.Identifier(key), n=_SHOWN_KEYS))  # fmt: skip
            yield DataFinding(
                "orphans", subject, words, int(present), int(orphans), text,
                sample=tuple(str(r[0]) for r in sample), sampled=sampled,
            )  # fmt: skip
            continue
        proposal, safe_form = _foreign_key(catalog, table, column, target, key)
        yield DataFinding(
            "reference", subject, words, int(present), 0, text,
            proposal=proposal, safe_form=safe_form, sampled=sampled,
        )  # fmt: skip


def _unnamed_references(
    conn: psycopg.Connection[Any], catalog: Catalog, sizes: dict[str, int]
) -> Iterator[DataFinding]:
    """References the names do not reveal (`assignee_id` holding users' ids): a column named
    as an id or an actor (`*_id`, `*_by`) that no foreign key constrains and no table's name
    matches, whose distinct values (at least MIN_DISTINCT) all exist in exactly one table's
    single-column primary key. Small serial ids exist in many tables: one table holding them
    all is required, and the result is labelled a guess."""
    named = {(t.qualified, c.name) for t, c, _, _ in unconstrained_references(catalog)}
    parents = [
        (table, pk.columns[0])
        for table in own_tables(catalog)
        if (pk := next((c for c in catalog.constraints_of(table) if c.kind == "primary key"),
                       None)) is not None and len(pk.columns) == 1
    ]  # fmt: skip
    checks = 0
    for table in own_tables(catalog):
        constrained = {
            c
            for fk in catalog.constraints_of(table)
            if fk.kind == "foreign key"
            for c in fk.columns
        } | {c for k in catalog.constraints_of(table) if k.kind == "primary key" for c in k.columns}
        for column in table.columns:
            parts = tokens(column.name)
            if (
                len(parts) < 2
                or parts[-1] not in ("id", "by")
                or column.name in constrained
                or (table.qualified, column.name) in named
                or column.type_name not in _KEY_TYPES
            ):
                continue
            source, sampled = _source(table, sizes.get(table.qualified, 0))
            col = sql.Identifier(column.name)
            try:
                ((present, distinct),) = _fetch(conn, sql.SQL(
                    "SELECT count({c}), count(DISTINCT {c}) FROM {s}"
                ).format(c=col, s=source))  # fmt: skip
            except psycopg.Error:
                continue
            if distinct < MIN_DISTINCT or sampled:
                continue
            holding = []
            for parent, key in parents:
                key_column = parent.column(key)
                if (
                    parent is table
                    or key_column is None
                    or _KEY_TYPES.get(key_column.type_name) != _KEY_TYPES[column.type_name]
                ):
                    continue
                checks += 1
                if checks > MAX_INCLUSION_CHECKS:
                    return
                query = sql.SQL(
                    "SELECT count(*) FROM (SELECT DISTINCT {c} AS v FROM {s} WHERE {c} IS NOT "
                    "NULL) AS d WHERE NOT EXISTS (SELECT 1 FROM {p} WHERE {k} = d.v)"
                ).format(c=col, s=source, p=sql.Identifier(parent.schema, parent.name),
                         k=sql.Identifier(key))  # fmt: skip
                try:
                    ((missing,),) = _fetch(conn, query)
                except psycopg.Error:
                    continue
                if missing == 0:
                    holding.append((parent, key, query.as_string(conn)))
            if len(holding) != 1:
                continue
            parent, key, text = holding[0]
            subject = f"{table.qualified}.{column.name}"
            proposal, safe_form = _foreign_key(catalog, table, column, parent, key)
            yield DataFinding(
                "reference", subject,
                f"every {subject} exists in {parent.qualified}.{key}, and in no other table: "
                f"its {distinct} distinct values say so, not its name",
                int(present), 0, text,
                proposal=proposal, safe_form=safe_form, inferred=True,
            )  # fmt: skip


# Range constructors by the type of a period's columns.
_RANGES = {"timestamptz": "tstzrange", "timestamp": "tsrange", "date": "daterange"}


def _overlaps(
    conn: psycopg.Connection[Any], catalog: Catalog, manifest: Manifest, sizes: dict[str, int]
) -> Iterator[DataFinding]:
    """Effective-dated tables (dbtruth.yaml's time section) that no exclusion constraint keeps
    from overlapping: the pairs of rows of one timeline whose half-open periods [from, to)
    overlap, counted. Which rows share a timeline is read from a unique key that holds the
    period's start (`UNIQUE (contract_id, valid_from)`: the timeline is the contract)."""
    for name, columns in manifest.time.items():
        period = columns.effective
        table = catalog.table(name if "." in name else f"public.{name}")
        if period is None or table is None:
            continue
        start, end = table.column(period.from_), table.column(period.to)
        subject = f"{table.qualified} ({period.from_}, {period.to})"
        words = f"the periods of one timeline of {table.qualified} never overlap"
        # What the exclusion constraints compare WITH &&, read as prove reads them.
        kept = any(
            isinstance(plan := exclusion_plan(table, c), NonOverlap)
            and {plan.period.start, plan.period.column} & {period.from_}
            for c in catalog.constraints_of(table)
            if c.kind == "exclusion"
        )
        if kept or start is None or end is None:
            continue  # an exclusion constraint keeps it: `prove` probes that
        timeline = next(
            (
                [k.strip('"') for k in index.keys if k.strip('"') not in (start.name, end.name)]
                for index in catalog.indexes_of(table)
                if index.unique and all(index.key_is_column)
                and start.name in [k.strip('"') for k in index.keys]
            ),
            None,
        )  # fmt: skip
        constructor = _RANGES.get(start.type_name)
        why = (
            "no unique key holding the period's start says which rows share one timeline"
            if not timeline
            else f"periods of type {start.type} are not read"
            if constructor is None
            else None
        )
        if why:
            yield DataFinding("overlaps", subject, words, 0, 0, "", error=why)
            continue
        assert timeline is not None and constructor is not None
        source, sampled = _source(table, sizes.get(table.qualified, 0))
        same = sql.SQL(" AND ").join(
            sql.SQL("a.{c} = b.{c}").format(c=sql.Identifier(c)) for c in timeline
        )
        query = sql.SQL(
            "SELECT count(*), (array_agg(concat_ws(', ', {keys})))[1:{n}] FROM {s} AS a "
            "JOIN {s} AS b ON {same} AND a.ctid < b.ctid "
            "AND {r}(a.{f}, a.{t}) && {r}(b.{f}, b.{t})"
        ).format(
            keys=sql.SQL(", ").join(sql.SQL("a.{}").format(sql.Identifier(c)) for c in timeline),
            n=_SHOWN_KEYS, s=source, same=same, r=sql.SQL(constructor),
            f=sql.Identifier(start.name), t=sql.Identifier(end.name),
        )  # fmt: skip
        text = query.as_string(conn)
        try:
            ((pairs, keys),) = _fetch(conn, query)
        except psycopg.Error as exc:
            yield DataFinding("overlaps", subject, words, 0, 0, text, error=_error(exc))
            continue
        if pairs:
            yield DataFinding(
                "overlaps", subject, words, 0, int(pairs), text,
                sample=tuple(str(k) for k in keys or ()), sampled=sampled,
            )  # fmt: skip
            continue
        check = fresh_name(catalog, table.schema, table.name, "no_overlap", suffix="excl")
        elements = ", ".join(f"{ident(c)} WITH =" for c in timeline)
        add = (
            f"ALTER TABLE {qualified(table.schema, table.name)} ADD CONSTRAINT {ident(check)} "
            f"EXCLUDE USING gist ({elements}, {constructor}({ident(start.name)}, "
            f"{ident(end.name)}) WITH &&)"
        )
        yield DataFinding(
            "non-overlap", subject, words, 0, 0, text,
            proposal=add + ";",
            safe_form="CREATE EXTENSION IF NOT EXISTS btree_gist;  -- = on plain columns in GiST\n"
            f"{add};  -- builds its index under ACCESS EXCLUSIVE: a quiet hour",
            sampled=sampled,
        )  # fmt: skip


def _foreign_key(
    catalog: Catalog, table: Table, column: Column, parent: Table, key: str
) -> tuple[str, str]:
    """The foreign key that keeps a latent reference, and its migration-safe form."""
    name = fresh_name(catalog, table.schema, table.name, column.name, suffix="fkey")
    table_sql = qualified(table.schema, table.name)
    add = (
        f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
        f"({ident(column.name)}) REFERENCES {qualified(parent.schema, parent.name)} "
        f"({ident(key)})"
    )
    return (
        add + ";",
        f"{add} NOT VALID;\nALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)};",
    )


def _columns(
    conn: psycopg.Connection[Any], catalog: Catalog, table: Table, rows: int
) -> Iterator[DataFinding]:
    """NOT NULL, unique and closed value sets that hold in every row of one table; one query
    for the table, counting every column at once."""
    candidates = [c for c in table.columns if not c.generated and c.type_category != "A"]
    if not candidates:
        return
    unique_led = {
        i.keys[0].strip('"') for i in catalog.indexes_of(table) if i.unique and i.predicate is None
    }
    checked = {col for c in catalog.constraints_of(table) if c.kind == "check" for col in c.columns}
    source, sampled = _source(table, rows)
    parts: list[sql.Composable] = [sql.SQL("count(*)")]
    for column in candidates:
        col = sql.Identifier(column.name)
        parts.append(sql.SQL("count({})").format(col))
        # Distinct values only where they can show something: each costs a sort of the table.
        wanted = (_identifier(column) and column.name not in unique_led) or _category(
            column, checked
        )
        parts.append(sql.SQL("count(DISTINCT {})").format(col) if wanted else sql.SQL("NULL"))
    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(parts), source)
    text = query.as_string(conn)
    try:
        ((total, *counts),) = _fetch(conn, query)
    except psycopg.Error as exc:
        yield DataFinding("not null", table.qualified, "column counts", 0, 0, text,
                          error=_error(exc))  # fmt: skip
        return
    if total < MIN_ROWS:
        return
    name = qualified(table.schema, table.name)
    for column, present, distinct in zip(candidates, counts[0::2], counts[1::2], strict=True):
        subject = f"{table.qualified}.{column.name}"
        if not column.not_null and present == total:
            check = fresh_name(catalog, table.schema, table.name, column.name, suffix="not_null")
            quoted = ident(column.name)
            yield DataFinding(
                "not null", subject, f"{subject} never holds NULL", int(total), 0, text,
                proposal=f"ALTER TABLE {name} ALTER COLUMN {quoted} SET NOT NULL;",
                safe_form=(
                    f"ALTER TABLE {name} ADD CONSTRAINT {ident(check)} CHECK ({quoted} IS NOT "
                    f"NULL) NOT VALID;\nALTER TABLE {name} VALIDATE CONSTRAINT {ident(check)};\n"
                    f"ALTER TABLE {name} ALTER COLUMN {quoted} SET NOT NULL;\n"
                    f"ALTER TABLE {name} DROP CONSTRAINT {ident(check)};"
                ),
                sampled=sampled,
            )  # fmt: skip
        if distinct is None:
            continue
        if (
            column.name not in unique_led
            and _identifier(column)
            and present == total >= MIN_UNIQUE_ROWS
            and distinct == present
            and not sampled  # a sample cannot show two rows never share a value
        ):
            index = fresh_name(catalog, table.schema, table.name, column.name, suffix="key")
            create = f"CREATE UNIQUE INDEX {{}}{ident(index)} ON {name} ({ident(column.name)});"
            yield DataFinding(
                "unique", subject, f"no two rows of {table.qualified} share {column.name}",
                int(total), 0, text,
                proposal=create.format(""), safe_form=create.format("CONCURRENTLY "),
            )  # fmt: skip
        if _category(column, checked) and 1 < distinct <= MAX_VALUES and present >= distinct * 5:
            yield from _value_set(conn, catalog, table, column, source, int(total), sampled)


def _category(column: Column, checked: set[str]) -> bool:
    """A text column named for a category (status, type, role) that no CHECK or enum keeps."""
    return (
        column.type_category == "S"
        and not column.is_enum
        and column.name not in checked
        and bool(set(tokens(column.name)) & _CATEGORY_WORDS)
    )


def _identifier(column: Column) -> bool:
    """Named like an identifier of the row (a code, a slug, an email, an external id)."""
    parts = set(tokens(column.name))
    return (
        bool(parts & _IDENTIFIER_WORDS)
        and not parts & _SHARED_CODE_WORDS
        and column.type_category in ("S", "N", "U")
    )


def _value_set(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    table: Table,
    column: Column,
    source: sql.Composable,
    total: int,
    sampled: str | None,
) -> Iterator[DataFinding]:
    col = sql.Identifier(column.name)
    query = sql.SQL("SELECT DISTINCT {}::text FROM {} WHERE {} IS NOT NULL ORDER BY 1").format(
        col, source, col
    )
    values = [str(r[0]) for r in _fetch(conn, query)]
    name = qualified(table.schema, table.name)
    check = fresh_name(catalog, table.schema, table.name, column.name, suffix="check")
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    add = (
        f"ALTER TABLE {name} ADD CONSTRAINT {ident(check)} "
        f"CHECK ({ident(column.name)} IN ({listed}))"
    )
    subject = f"{table.qualified}.{column.name}"
    yield DataFinding(
        "value set", subject,
        f"{subject} holds one of {len(values)} values: {', '.join(values)}",
        total, 0, query.as_string(conn),
        proposal=add + ";",
        safe_form=f"{add} NOT VALID;\nALTER TABLE {name} VALIDATE CONSTRAINT {ident(check)};",
        sampled=sampled,
    )  # fmt: skip
