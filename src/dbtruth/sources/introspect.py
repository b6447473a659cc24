"""Read a connected PostgreSQL into a Catalog: one query per object kind, grouped in Python.

The same code reads a live database and a scratch server loaded from SQL files, so the two can
never disagree about what a schema means.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dbtruth.errors import DbtruthError
from dbtruth.model import (
    Catalog,
    Column,
    Constraint,
    Extension,
    ExtensionMember,
    Function,
    Grant,
    Index,
    IndexStats,
    Policy,
    Schema,
    Sequence,
    Stats,
    Table,
    TableStats,
    Trigger,
    View,
)
from dbtruth.model.sqlnames import qualified
from dbtruth.sources import definitions
from dbtruth.sources.loaded import read_loaded_rows

_TABLE_KINDS = {"r": "table", "p": "partitioned table", "f": "foreign table"}
_RELATION_KINDS = {**_TABLE_KINDS, "v": "view", "m": "materialized view"}
_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "c": "check",
    "f": "foreign key",
    "x": "exclusion",
}
_FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_POLICY_COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}
_IDENTITY = {"": "", "a": "always", "d": "by default"}
_GENERATED = {"": "", "s": "stored", "v": "virtual"}


@cache
def catalog_query(name: str) -> str:
    return resources.files("dbtruth.sources").joinpath("sql").joinpath(f"{name}.sql").read_text()


def _rows(
    conn: psycopg.Connection[Any], name: str, query: str | None = None
) -> list[dict[str, Any]]:
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute((query or catalog_query(name)).encode())
            return cur.fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DbtruthError(
            f"permission denied while reading the catalog ({name}): {exc.diag.message_primary}",
            hint="dbtruth needs CONNECT and read access to the system catalogs; "
            "grant pg_read_all_stats or pg_monitor for the live statistics",
        ) from exc
    except psycopg.errors.QueryCanceled as exc:
        raise DbtruthError(
            f"reading the catalog ({name}) took longer than the statement timeout",
            hint="raise it with --statement-timeout",
        ) from exc
    except psycopg.errors.LockNotAvailable as exc:
        raise DbtruthError(
            f"reading the catalog ({name}) {_lock_wait(conn)}",
            hint="wait longer with --lock-timeout (for example --lock-timeout 30s), or run again "
            "once that session's transaction has ended",
        ) from exc


def _lock_wait(conn: psycopg.Connection[Any]) -> str:
    """What a catalog read waited for when it gave up, as the end of a sentence. The wait is
    over by now, so this names what other sessions hold in the only mode that blocks a read."""
    try:
        timeout = conn.execute("SELECT current_setting('lock_timeout')").fetchone()
        with conn.cursor() as cur:
            cur.execute(catalog_query("lock_holders").encode())
            rows = cur.fetchall()
    except psycopg.Error:
        timeout, rows = None, []
    text = "waited longer than the lock timeout" + (f" ({timeout[0]})" if timeout else "")
    if not rows:
        return f"{text} for a lock another session holds"
    held = ", ".join(f"{relation} (process {pid})" for relation, pid in rows[:5])
    more = " and others" if len(rows) > 5 else ""
    return f"{text}: another session holds {held}{more} in ACCESS EXCLUSIVE mode"


# Given the catalog's session, the live statistics (see dbtruth.sources.live_stats).
StatsReader = Callable[[psycopg.Connection[Any]], Stats]


def read_catalog(
    conn: psycopg.Connection[Any],
    source: str,
    *,
    live: bool,
    stats: StatsReader | None = None,
) -> Catalog:
    """The catalog `conn` sees; for a `live` server with its statistics, which `stats` reads
    (by default on `conn`, after the catalog)."""
    server = _rows(conn, "server")[0]
    with _Prefetch(conn, _catalog_queries(server["server_version_num"], live)) as rows:
        objects = _objects(rows)
    return Catalog(
        server_version=server["server_version"],
        server_version_num=server["server_version_num"],
        database=server["database"],
        source=source,
        **objects,
        stats=(stats or read_stats)(conn) if live else None,
        # Not live: a scratch database dbtruth loaded, whose rows are the input's own data.
        loaded_rows=()
        if live
        else read_loaded_rows(
            conn, [(r["schema"], r["name"]) for r in _rows(conn, "loaded_tables")]
        ),
    )


def _catalog_queries(version_num: int, live: bool) -> dict[str, str]:
    """The catalog queries in the order the model is built from them, as this server's
    version reads them."""
    queries = {name: catalog_query(name) for name in _CATALOG_QUERIES}
    if version_num >= 150000:
        queries["indexes"] = queries["indexes"].replace(
            "/*nulls_not_distinct*/false", "i.indnullsnotdistinct"
        )
        queries["constraints"] = queries["constraints"].replace(
            "/*delete_set_columns*/NULL::int2[]", "con.confdelsetcols"
        )
    queries["sequences"] = _sequences_query(live)
    return queries


_CATALOG_QUERIES = (
    "columns",
    "tables",
    "indexes",
    "constraints",
    "views",
    "functions",
    "triggers",
    "policies",
    "grants",
    "sequences",
    "extension_members",
    "extensions",
    "schemas",
)


class _Prefetch:
    """The catalog queries run one after another on a thread of their own: the server
    computes the next result while the calling thread turns the last one into the model
    (psycopg waits for the server without holding the interpreter). Only that thread uses the
    session until the context ends."""

    def __init__(self, conn: psycopg.Connection[Any], queries: dict[str, str]) -> None:
        self._conn = conn
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbtruth-catalog")
        self._results = {
            name: self._pool.submit(_rows, conn, name, query) for name, query in queries.items()
        }

    def __call__(self, name: str) -> list[dict[str, Any]]:
        return self._results.pop(name).result()

    def __enter__(self) -> _Prefetch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        for pending in self._results.values():
            pending.cancel()
        if exc_type is not None and any(not r.done() for r in self._results.values()):
            # Reading failed (or was interrupted): stop the query still running rather than
            # wait for a result nobody will read.
            with suppress(psycopg.Error):
                self._conn.cancel_safe()
        self._pool.shutdown(wait=True)


def _objects(rows: Callable[[str], list[dict[str, Any]]]) -> dict[str, Any]:
    """The catalog's objects, by Catalog field, from the rows of each catalog query."""
    columns_by_relation: defaultdict[str, list[Column]] = defaultdict(list)
    for row in rows("columns"):
        columns_by_relation[f"{row['schema']}.{row['relation']}"].append(
            Column(
                name=row["name"],
                position=row["position"],
                type=row["type"],
                type_name=row["type_name"],
                type_category=row["type_category"],
                is_enum=row["is_enum"],
                not_null=row["not_null"],
                default=row["default"],
                identity=_IDENTITY[row["identity"]],
                generated=_GENERATED[row["generated"]],
                comment=row["comment"],
                domain=row["domain"],
            )
        )
    tables = tuple(
        Table(
            schema=r["schema"],
            name=r["name"],
            kind=_TABLE_KINDS[r["relkind"]],
            columns=tuple(columns_by_relation.get(f"{r['schema']}.{r['name']}", ())),
            owner=r["owner"],
            persistence="unlogged" if r["persistence"] == "u" else "permanent",
            rls_enabled=r["rls_enabled"],
            rls_forced=r["rls_forced"],
            partition_of=r["parents"][0] if r["is_partition"] and r["parents"] else None,
            inherits=() if r["is_partition"] else tuple(r["parents"]),
            comment=r["comment"],
        )
        for r in rows("tables")
    )
    attnames = _attnames(columns_by_relation)
    indexes = tuple(_index(r, attnames) for r in rows("indexes"))
    nulls_not_distinct = {i.qualified for i in indexes if i.nulls_not_distinct}
    constraints = tuple(_constraint(r, attnames, nulls_not_distinct) for r in rows("constraints"))
    views = tuple(
        View(
            schema=r["schema"],
            name=r["name"],
            materialized=r["materialized"],
            definition=r["definition"] or "",
            security_invoker=r["security_invoker"],
            depends_on=tuple(sorted(r["depends_on"])),
            columns=tuple(
                c.name for c in columns_by_relation.get(f"{r['schema']}.{r['name']}", ())
            ),
            owner=r["owner"],
            comment=r["comment"],
        )
        for r in rows("views")
    )
    functions = tuple(
        Function(
            schema=r["schema"],
            name=r["name"],
            arguments=r["arguments"],
            kind=_FUNCTION_KINDS.get(r["prokind"], "function"),
            language=r["language"],
            returns=r["returns"],
            security_definer=r["security_definer"],
            config=tuple(r["config"]),
            body=r["body"] or "",
        )
        for r in rows("functions")
    )
    triggers = tuple(_trigger(r) for r in rows("triggers"))
    policies = tuple(
        Policy(
            schema=r["schema"],
            table=r["table"],
            name=r["name"],
            command=_POLICY_COMMANDS[r["polcmd"]],
            permissive=r["permissive"],
            roles=tuple(r["roles"]),
            using=r["using"],
            with_check=r["with_check"],
        )
        for r in rows("policies")
    )
    grants = tuple(
        Grant(
            schema=r["schema"],
            object=r["object"],
            object_kind=_RELATION_KINDS[r["relkind"]],
            grantee=r["grantee"],
            privilege=r["privilege"],
            grantable=r["grantable"],
        )
        for r in rows("grants")
    )
    sequences = tuple(
        Sequence(
            schema=r["schema"],
            name=r["name"],
            data_type=r["data_type"],
            start=r["start"],
            increment=r["increment"],
            min_value=r["min_value"],
            max_value=r["max_value"],
            cycle=r["cycle"],
            owned_by=r["owned_by"],
            last_value=r["last_value"],
        )
        for r in rows("sequences")
    )
    members: defaultdict[str, list[ExtensionMember]] = defaultdict(list)
    for r in rows("extension_members"):
        members[r["extension"]].append(ExtensionMember(r["kind"], r["schema"], r["name"]))
    extensions = tuple(
        Extension(**r, members=tuple(members.get(r["name"], ()))) for r in rows("extensions")
    )
    schemas = tuple(Schema(**r) for r in rows("schemas"))
    return {
        "schemas": schemas,
        "tables": tables,
        "constraints": constraints,
        "indexes": indexes,
        "views": views,
        "functions": functions,
        "triggers": triggers,
        "policies": policies,
        "grants": grants,
        "sequences": sequences,
        "extensions": extensions,
    }


def _sequences_query(live: bool) -> str:
    """Only a live server's sequence values mean anything; elsewhere skip reading them."""
    query = catalog_query("sequences")
    if live:
        return query
    start, end = query.index("/*live*/"), query.index("/*end live*/") + len("/*end live*/")
    return query[:start] + "NULL::bigint" + query[end:]


def _attnames(columns: dict[str, list[Column]]) -> dict[str, dict[int, str]]:
    """relation -> attnum -> column name (a column's position is its attnum)."""
    return {rel: {c.position: c.name for c in cols} for rel, cols in columns.items()}


def _constraint(
    r: dict[str, Any], attnames: dict[str, dict[int, str]], nulls_not_distinct: set[str]
) -> Constraint:
    kind = _CONSTRAINT_KINDS[r["contype"]]
    columns = definitions.names(
        r["column_numbers"], attnames.get(f"{r['schema']}.{r['table']}", {})
    )
    ref_columns: tuple[str, ...] = ()
    delete_sets: tuple[str, ...] = ()  # the columns ON DELETE SET NULL (…) clears, 15+
    on_delete = on_update = None
    if kind == "foreign key":
        ref = attnames.get(f"{r['ref_schema']}.{r['ref_table']}", {})
        ref_columns = definitions.names(r["ref_column_numbers"], ref)
        delete_sets = definitions.names(
            r["delete_set_column_numbers"], attnames.get(f"{r['schema']}.{r['table']}", {})
        )
        on_delete, on_update = _FK_ACTIONS.get(r["on_delete"]), _FK_ACTIONS.get(r["on_update"])
    definition = r["definition"] or definitions.key_definition(
        kind,
        columns,
        ref=qualified(r["ref_schema"], r["ref_table"]) if r["ref_table"] else None,
        ref_columns=ref_columns,
        on_update=on_update,
        on_delete=on_delete,
        on_delete_columns=delete_sets,
        deferrable=r["deferrable"],
        validated=r["validated"],
        nulls_not_distinct=f"{r['schema']}.{r['index']}" in nulls_not_distinct,
    )
    return Constraint(
        schema=r["schema"],
        table=r["table"],
        name=r["name"],
        kind=kind,
        columns=columns,
        definition=definition,
        validated=r["validated"],
        deferrable=r["deferrable"],
        inherited=r["inherited"],
        index=r["index"],
        ref_schema=r["ref_schema"],
        ref_table=r["ref_table"],
        ref_columns=ref_columns,
        on_delete=on_delete,
        on_update=on_update,
    )


def _index(r: dict[str, Any], attnames: dict[str, dict[int, str]]) -> Index:
    columns = attnames.get(f"{r['schema']}.{r['table']}", {})
    keys, is_column = definitions.index_keys(r, columns)
    include = definitions.names(r["column_numbers"][r["key_count"] :], columns)
    return Index(
        schema=r["schema"],
        table=r["table"],
        name=r["name"],
        method=r["method"],
        keys=tuple(keys),
        key_is_column=tuple(is_column),
        include=include,
        definition=definitions.index_definition(r, keys, is_column, include),
        predicate=r["predicate"],
        unique=r["unique"],
        primary=r["primary"],
        valid=r["valid"],
        nulls_not_distinct=r["nulls_not_distinct"],
        constraint=r["constraint"],
        clustered=r["clustered"],
    )


def _trigger(r: dict[str, Any]) -> Trigger:
    tgtype = r["tgtype"]
    events = tuple(
        event
        for bit, event in ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))
        if tgtype & bit
    )
    return Trigger(
        schema=r["schema"],
        table=r["table"],
        name=r["name"],
        function=r["function"],
        timing=r["timing"],
        events=events,
        row_level=bool(tgtype & 1),
        enabled=r["enabled"],
        columns=tuple(r["columns"]),
        definition=r["definition"],
    )


def read_stats(conn: psycopg.Connection[Any]) -> Stats:
    database = _rows(conn, "stats_database")
    window = database[0] if database else {}
    return Stats(
        collected_at=window.get("collected_at", ""),
        stats_reset=window.get("stats_reset"),
        postmaster_start=window.get("postmaster_start", ""),
        tables=tuple(TableStats(**r) for r in _rows(conn, "stats_tables")),
        indexes=tuple(IndexStats(**r) for r in _rows(conn, "stats_indexes")),
        settings=tuple((r["name"], r["setting"]) for r in _rows(conn, "stats_settings")),
    )
