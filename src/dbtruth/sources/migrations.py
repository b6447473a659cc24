"""Reading a migration set the way its runner applies it.

Order: files sorted by their path with numbers compared by value (`00010` after `0009`,
timestamp folders with `migration.sql`/`up.sql`), down migrations and other databases' dialect
files left out, a dialect-neutral file replaced by its `.postgres.` twin (popx), a folder's
`manifest.json` with `SchemaUpdateCqlFiles` (Temporal) or an explicit `--order` file obeyed.

Transactions: a runner either runs each file in one transaction (the default: most runners do,
and a multi-statement string sent in one call is one implicit transaction too) or not (Prisma,
recognised by its `migration_lock.toml`). Per-file markers turn the wrapping off:
`-- postgres-migrations disable-transaction`, `-- +goose NO TRANSACTION`, `-- atlas:txmode none`,
`-- dbtruth: no-transaction`, and popx's `.autocommit.` in the file name.

A schema dump among the migrations is left out, with a note (schema_dump).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pglast import ast, parse_sql
from pglast import parser as pg_parser
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import ParseError, parse_sql_json

from dbtruth.errors import DbtruthError
from dbtruth.inputs import (
    UnreadableInput,
    file_kind,
    not_regular,
    read_bytes,
    size_text,
    skipped_note,
    walk_error,
)
from dbtruth.model.migration import (
    CreatedTable,
    JsonExpr,
    MigrationFile,
    MigrationStatement,
    Suppression,
)
from dbtruth.sources.releases import release_of
from dbtruth.sources.schema_dump import dump_reason
from dbtruth.sources.sqltext import (
    RUNNER_IGNORES,
    ascii_shadow,
    is_migration_file,
    natural_key,
    postgres_twins,
    read_text,
    statements,
)

TransactionMode = Literal["auto", "per-file", "none"]
_CONCURRENT_METADATA = re.compile(
    r"^[ \t]*createIndexConcurrently[ \t]*:[ \t]*(?:true|yes|on)[ \t]*(?:#.*)?$",
    re.MULTILINE | re.IGNORECASE,  # [ \t]*: \s* at each blank line would be quadratic
)
_NO_TRANSACTION = re.compile(
    r"--\s*(postgres-migrations\s+disable-transaction|\+goose\s+NO\s+TRANSACTION|"
    r"atlas:txmode\s+none|dbtruth:\s*no-transaction)",
    re.I,
)
_IGNORE = re.compile(r"--\s*dbtruth:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$", re.I)
_LEADING = re.compile(r"(\s+|--[^\n]*(\n|$)|/\*.*?\*/)", re.S)


# Temporal's manifest.json and an --order file are a few KiB.
_LIST_BYTES = 4 * 2**20


@lru_cache(maxsize=256)
def _manifest(folder: Path) -> dict[str, Any]:
    """A versioned folder's manifest.json (Temporal), read once for the order of its files and
    the description of each; empty when there is none or it is no JSON object. Too large a
    file is an error (read_bytes)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        document = json.loads(read_bytes(manifest, _LIST_BYTES, "a manifest.json"))
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _manifest_order(folder: Path) -> list[Path] | None:
    """Temporal's versioned folders name their files' order in manifest.json; its entries are
    file names in that folder, and one reaching elsewhere is an error, not a file to read."""
    manifest = folder / "manifest.json"
    files = _manifest(folder).get("SchemaUpdateCqlFiles")
    if not isinstance(files, list):
        return None
    inside = folder.resolve()
    ordered = []
    for name in files:
        path = folder / str(name)
        if not path.resolve().is_relative_to(inside):
            raise DbtruthError(
                f"SchemaUpdateCqlFiles names a file outside its folder: {name}",
                where=str(manifest),
            )
        ordered.append(path)
    return ordered


def manifest_description(path: Path) -> str | None:
    """What a versioned folder's manifest.json says the migration does (Temporal:
    `"Description": "schema update for cluster metadata cleanup"`), or None."""
    try:
        description = _manifest(path.parent).get("Description")
    except DbtruthError:
        return None
    if not isinstance(description, str):
        return None
    # It is quoted in findings: printable characters only, and a line's worth of them.
    printable = "".join(ch for ch in description if ch.isprintable())[:200]
    return printable or None


def discover(
    paths: Iterable[Path],
    order_file: Path | None = None,
    lexical: bool | None = False,
    notes: list[str] | None = None,
) -> list[Path]:
    """The migration files in apply order: folders in order, and inside a folder its
    manifest.json order when it has one, else file names in order. Names compare with
    numbers by value (`00010` after `0009`) unless `lexical` (Prisma sorts plain strings);
    `lexical=None` decides per folder: lexical where Prisma's migration_lock.toml is.

    A folder that cannot be listed is an error; a FIFO, socket or device with a migration's
    name is never opened (a FIFO would wait for a writer forever): it is left out, and `notes`
    says so."""
    if order_file is not None:
        return _explicit_order(order_file)

    def key(path: Path, base: Path, as_strings: bool) -> list[object]:
        # string slicing, not Path.relative_to: this runs for every file of large sets
        relative = path.as_posix()[len(base.as_posix()) :].lstrip("/")
        return [relative] if as_strings else natural_key(Path(relative))

    found: list[Path] = []
    for path in paths:
        if path.exists() and not path.is_dir() and (kind := not_regular(path)) is not None:
            raise UnreadableInput(f"is {kind}, not a migration file; not read", where=str(path))
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise DbtruthError(f"migrations not found: {path}")
        # one walk: the migration files, and the folders whose manifest.json gives the order
        candidates: list[Path] = []
        manifest_folders: set[Path] = set()
        for root, _, names in os.walk(path, onerror=walk_error):
            if "manifest.json" in names:
                manifest_folders.add(Path(root))
            for name in names:
                if not is_migration_file(name):
                    continue
                candidate = Path(root, name)
                kind = not_regular(candidate)
                if kind is None:
                    candidates.append(candidate)
                elif notes is not None:
                    notes.append(skipped_note(candidate, kind))
        candidates = postgres_twins(candidates)
        by_folder: dict[Path, list[Path]] = {}
        for candidate in candidates:
            by_folder.setdefault(candidate.parent, []).append(candidate)
        if not by_folder:
            raise DbtruthError(f"no migration files (.sql) in folder {path}")
        as_strings = is_prisma(candidates) if lexical is None else lexical
        for folder in sorted(by_folder, key=lambda f: key(f, path, as_strings)):
            manifest = _manifest_order(folder) if folder in manifest_folders else None
            if manifest is not None:
                found += [f for f in manifest if f.is_file()]
            else:
                found += sorted(by_folder[folder], key=lambda f: key(f, path, as_strings))
    return found


def _explicit_order(order_file: Path) -> list[Path]:
    try:
        text = read_bytes(order_file, _LIST_BYTES, "an order file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DbtruthError(f"cannot read the order file: {exc}", where=str(order_file)) from exc
    files = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        path = (order_file.parent / entry) if not Path(entry).is_absolute() else Path(entry)
        files.append(_listed(path, entry, f"{order_file}:{number}"))
    if not files:
        raise DbtruthError("the order file names no migration", where=str(order_file))
    return files


def _listed(path: Path, entry: str, where: str) -> Path:
    """A migration an --order line names: a regular file, else an error at that line."""
    shown = entry if len(entry) <= 200 else entry[:200] + "…"
    if "\x00" in entry:
        raise DbtruthError("a file name cannot hold a NUL byte", where=where)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise DbtruthError(f"file not found: {shown}", where=where) from exc
    except OSError as exc:  # a name too long, a file where a folder should be, no permission
        raise UnreadableInput(f"cannot read {shown}: {exc.strerror}", where=where) from exc
    if not stat.S_ISREG(mode):
        raise UnreadableInput(f"{shown} is {file_kind(mode)}, not a migration file", where=where)
    return path


def offline_runner(path: Path) -> str | None:
    """Why the runner applies this migration with nothing else on the database, or None.
    Synapse applies its schema deltas (`storage/schema/<database>/delta/<version>/`) in the
    main process at start-up, before it serves, and its workers wait for it."""
    parts = path.parts
    if (
        len(parts) >= 4
        and parts[-3] == "delta"
        and parts[-2].isdigit()
        and "schema" in parts[:-3]
        and "storage" in parts[:-3]
    ):
        return "Synapse applies schema deltas at start-up, before it serves"
    return None


def runs_in_transaction(
    path: Path, text: str, mode: TransactionMode, prisma: bool, one_query: bool = False
) -> bool:
    """Whether the file's runner runs it in one transaction (see the README's table of runner
    conventions): its own BEGIN … COMMIT around the file, or PostgreSQL's implicit transaction
    around a query of several statements, for a runner that sends the file as one query."""
    if mode == "none":
        return False
    if sent_as_one_query(path, mode, prisma, one_query):
        return _several_statements(text)
    if _NO_TRANSACTION.search(text):
        return False
    if mode == "auto" and (_temporal_folder(path) or _metadata_says_no_transaction(path)):
        return False
    return not (mode == "auto" and prisma)


def sent_as_one_query(path: Path, mode: TransactionMode, prisma: bool, one_query: bool) -> bool:
    """Whether the runner sends the whole file as one query rather than statement by
    statement: popx for an `.autocommit.` file (outside its transaction), Prisma for every
    file (one_query says the set is Prisma's, read in `auto` mode)."""
    return ".autocommit." in path.name or (mode == "auto" and prisma and one_query)


def _several_statements(text: str) -> bool:
    """A query of several statements runs as one implicit transaction in PostgreSQL, which a
    COMMIT inside it does not leave: only a file of one statement runs in autocommit (CREATE
    INDEX CONCURRENTLY in a file of several fails, as Prisma and popx users learn). Text the
    scanner cannot split counts as one: its parse error is reported with the statements."""
    try:
        return len(pg_parser.split(text, with_parser=False)) > 1
    except ParseError:
        return False


def _temporal_folder(path: Path) -> bool:
    """Temporal's schema tool (its folders carry manifest.json) sends each statement on its
    own, in autocommit, through a pool of connections: nothing is wrapped, and a SET may
    land on another session than the statements after it."""
    return (path.parent / "manifest.json").is_file()


def _metadata_says_no_transaction(path: Path) -> bool:
    """A `metadata.yaml` next to `up.sql` with `createIndexConcurrently: true` tells its runner
    to run the migration outside a transaction (for CREATE INDEX CONCURRENTLY)."""
    for name in ("metadata.yaml", "metadata.yml"):
        metadata = path.parent / name
        if metadata.is_file():
            try:
                text = read_bytes(metadata, _LIST_BYTES, "a metadata.yaml").decode(errors="replace")
            except DbtruthError:
                return False
            return bool(_CONCURRENT_METADATA.search(text))
    return False


def is_prisma(files: Iterable[Path]) -> bool:
    """Prisma keeps `migration_lock.toml` next to its `<timestamp>_<name>/migration.sql`
    folders (or beside the files given)."""
    folders = {f.parent for f in files} | {f.parent.parent for f in files}
    return any((folder / "migration_lock.toml").is_file() for folder in folders)


# Statements a migration rule or the lint state looks into get a full parse tree; every other
# statement is only checked for syntax by PostgreSQL's parser (building pglast's Python tree is
# most of the cost of reading a migration set, and CREATE FUNCTION or INSERT need none).
_NEEDS_TREE = re.compile(
    r"(ALTER\s+(TABLE|INDEX|TYPE|MATERIALIZED)|CREATE\s+(UNIQUE\s+)?INDEX|DROP|UPDATE|DELETE|"
    r"VACUUM|CLUSTER|REINDEX|SET|RESET|BEGIN|START|COMMIT|ROLLBACK|END|ABORT|TRUNCATE|LOCK|"
    r"CREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER|WITH)\b",
    re.I,
)
_CREATES_INDEX = re.compile(r"CREATE\s+(UNIQUE\s+)?INDEX", re.I)
_ALTERS_TABLE = re.compile(r"ALTER\s+TABLE", re.I)
_CREATES_TABLE = re.compile(
    r"CREATE\s+((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE", re.I
)


def _index_node(stmt: dict[str, Any]) -> ast.IndexStmt:
    """CREATE INDEX as the rules read it (table, name, unique, concurrent), without the tree
    of its key expressions."""
    relation = stmt["relation"]
    return _light(
        ast.IndexStmt,
        idxname=stmt.get("idxname"),
        relation=_rangevar(relation),
        unique=bool(stmt.get("unique")),
        concurrent=bool(stmt.get("concurrent")),
        if_not_exists=bool(stmt.get("if_not_exists")),
    )


_NodeT = TypeVar("_NodeT", bound=ast.Node)


def _light(cls: type[_NodeT], **attributes: Any) -> _NodeT:
    """A pglast node with the given attributes and None elsewhere, without pglast's check of
    each value: they come from PostgreSQL's own parser, and checking them costs more than
    the rest of reading a migration."""
    node: _NodeT = object.__new__(cls)
    set_slot, value = object.__setattr__, attributes.get
    for slot in _slots(cls):  # type: ignore[arg-type]
        set_slot(node, slot, value(slot))
    return node


@cache
def _slots(cls: Any) -> tuple[str, ...]:
    return tuple(cls.__slots__)


def _rangevar(data: dict[str, Any]) -> ast.RangeVar:
    return _light(ast.RangeVar, schemaname=data.get("schemaname"), relname=data["relname"])


def _names(items: list[dict[str, Any]] | None) -> tuple[ast.String, ...] | None:
    return tuple(_light(ast.String, sval=i["String"]["sval"]) for i in items) if items else None


def _constraint(data: dict[str, Any]) -> ast.Constraint:
    constraint = _light(
        ast.Constraint,
        contype=ConstrType[data["contype"]],
        conname=data.get("conname"),
        skip_validation=bool(data.get("skip_validation")),
        indexname=data.get("indexname"),
        generated_kind=data.get("generated_kind"),
        pktable=_rangevar(data["pktable"]) if "pktable" in data else None,
        fk_attrs=_names(data.get("fk_attrs")),
    )
    if "raw_expr" in data:  # kept as JSON: rules ask only for function names and IS NOT NULL
        object.__setattr__(constraint, "raw_expr", JsonExpr(data["raw_expr"]))
    return constraint


def _definition(data: dict[str, Any] | None) -> Any:
    if not data:
        return None
    if "ColumnDef" in data:
        column = data["ColumnDef"]
        type_name = column.get("typeName") or {}
        typed = _light(ast.TypeName, names=_names(type_name.get("names")))
        if type_name.get("typmods"):
            object.__setattr__(typed, "typmods", tuple(map(JsonExpr, type_name["typmods"])))
        return _light(
            ast.ColumnDef,
            colname=column.get("colname"),
            typeName=typed if type_name else None,
            constraints=tuple(_constraint(c["Constraint"]) for c in column.get("constraints", ()))
            or None,
        )
    if "Constraint" in data:
        return _constraint(data["Constraint"])
    if "PartitionCmd" in data:
        return _light(ast.PartitionCmd, concurrent=bool(data["PartitionCmd"].get("concurrent")))
    return None  # options lists and the like: no migration rule reads them


def _alter_node(data: dict[str, Any]) -> ast.AlterTableStmt:
    """ALTER TABLE as the migration rules read it, built from PostgreSQL's JSON: the table,
    each subcommand's kind and name, column definitions, constraints. Building pglast's full
    tree of every ALTER TABLE is most of the cost of linting a migration set;
    tests/test_migrate.py proves the findings equal those over full trees on the corpora."""
    commands = tuple(
        _light(
            ast.AlterTableCmd,
            subtype=AlterTableType[cmd["AlterTableCmd"]["subtype"]],
            name=cmd["AlterTableCmd"].get("name"),
            def_=_definition(cmd["AlterTableCmd"].get("def")),
        )
        for cmd in data.get("cmds", ())
    )
    return _light(
        ast.AlterTableStmt,
        relation=_rangevar(data["relation"]) if "relation" in data else None,
        cmds=commands or None,
        objtype=ObjectType[data.get("objtype", "OBJECT_TABLE")],
    )


def _parse(body: str) -> list[Any]:
    """Parse trees of the statement (one, or several for a multi-statement string)."""
    if len(body) > MAX_STATEMENT_CHARS:
        raise _TooLarge(
            f"is {size_text(len(body))} long, more than the {size_text(MAX_STATEMENT_CHARS)} "
            "dbtruth parses in one statement"
        )
    output = parse_sql_json(body)  # raises ParseError on a syntax error
    if len(output) > _TREE_JSON_CHARS:
        return _large_nodes(output, body)
    try:
        document = json.loads(output)
        return [
            node for raw in document.get("stmts", []) for node in _nodes(raw.get("stmt", {}), body)
        ]
    except RecursionError:
        # Python's JSON decoder recurses once per level: an expression nested a few hundred
        # deep (a long `a || b || …` chain) is read by pglast's own tree, which does not.
        return [raw.stmt for raw in parse_sql(body)]


def _large_nodes(output: str, body: str) -> list[Any]:
    """The nodes of a long statement read from PostgreSQL's JSON without turning all of it
    into Python objects: its kind (JSON strings escape their quotes, so `{"stmt":{"Kind":`
    only occurs where a statement starts), and for an INSERT its table, which is all a rule
    asks of a long INSERT (a seed's VALUES list). A statement whose tree the rules read is
    refused."""
    kind = _KIND.search(output, 0, 256)
    if kind is None or output.count('{"stmt":') != 1:
        raise _TooLarge("holds more than one statement in too much text to read")
    if kind.group(1) == "InsertStmt":
        relation = _INSERT_RELATION.search(output, 0, 256)
        if relation is not None:
            value, _ = json.JSONDecoder().raw_decode(output, relation.end())
            return _nodes({"InsertStmt": {"relation": value}}, body)
    if kind.group(1) in _KINDS_WITH_RECORDS or _NEEDS_TREE.match(body):
        raise _TooLarge(
            f"is too large to check ({size_text(len(body))}, parse tree "
            f"{size_text(len(output))}, more than the {size_text(_TREE_JSON_CHARS)} dbtruth "
            "reads)"
        )
    return [_Unparsed(kind.group(1))]


def _nodes(stmt: dict[str, Any], body: str) -> list[Any]:
    """The nodes the lint reads for one statement, from PostgreSQL's JSON for it: small
    records for CREATE TABLE/INDEX, INSERT and ALTER TABLE, pglast's tree for the other
    statements a rule reads, a bare marker for the rest (syntax already checked)."""
    kind = next(iter(stmt), "")
    data = stmt.get(kind, {})
    if kind == "IndexStmt":
        return [_index_node(data)]
    if kind == "AlterTableStmt":
        return [_alter_node(data)]
    if kind == "InsertStmt":
        if "fromClause" in data.get("selectStmt", {}).get("SelectStmt", {}):
            # INSERT … SELECT … FROM copies a table's columns, which a later DROP COLUMN reads
            # (M008); it is rare, so its whole tree is built
            return [raw.stmt for raw in parse_sql(body)]
        # the lint state and the lock table need only the target of a seed's INSERT … VALUES
        return [_light(ast.InsertStmt, relation=_rangevar(data["relation"]))]
    if kind in ("CreateStmt", "CreateTableAsStmt"):
        created = data if kind == "CreateStmt" else data.get("into", {})
        relation = created.get("relation") or created.get("rel")
        if relation:
            elements = created.get("tableElts", ())
            return [
                CreatedTable(
                    schema=relation.get("schemaname"),
                    name=relation["relname"],
                    columns=tuple(
                        (e["ColumnDef"]["colname"], _type_name(e["ColumnDef"]).lower())
                        for e in elements
                        if "ColumnDef" in e
                    ),
                    references=tuple(_references(elements)),
                    typmods=tuple(
                        (e["ColumnDef"]["colname"], mods)
                        for e in elements
                        if "ColumnDef" in e and (mods := _typmods(e["ColumnDef"])) is not None
                    ),
                )
            ]
    if _NEEDS_TREE.match(body):
        return [raw.stmt for raw in parse_sql(body)]
    return [_Unparsed(kind)]


def _references(elements: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    """The tables a CREATE TABLE's foreign keys reference (column or table constraints): they
    are locked while the table is created."""
    found = []
    for element in elements:
        candidates = [element.get("Constraint")] + [
            c.get("Constraint") for c in element.get("ColumnDef", {}).get("constraints", [])
        ]
        for constraint in candidates:
            if constraint and constraint.get("contype") == "CONSTR_FOREIGN":
                table = constraint["pktable"]
                found.append((table.get("schemaname"), table["relname"]))
    return found


def _typmods(column: dict[str, Any]) -> tuple[int, ...] | None:
    """A column definition's integer type modifiers (varchar(32) -> (32,), none -> ()), or
    None when one is not a plain integer."""
    values = []
    for typmod in column.get("typeName", {}).get("typmods", ()):
        value = typmod.get("A_Const", {}).get("ival")
        if value is None:
            return None
        values.append(int(value.get("ival", 0)))
    return tuple(values)


def _type_name(column: dict[str, Any]) -> str:
    names = column.get("typeName", {}).get("names", [])
    return str(names[-1]["String"]["sval"]) if names else ""


class _Unparsed:
    """A statement no migration rule reads: its syntax was checked, its tree not built."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


def _token_start(sql: str) -> int:
    """Offset of the first token: a statement's slice begins with the comments above it."""
    at = 0
    while True:
        match = _LEADING.match(sql, at)
        if not match or match.end() == at:
            return at
        at = match.end()


# A migration file is read whole (the statements keep their text), up to this size.
MAX_MIGRATION_BYTES = 128 * 2**20
# Longer files are parsed in spans of about this size, cut between statements: PostgreSQL's
# JSON for a whole 50 MB file, and the Python objects read from it, took 4.3 GB. Small spans
# are also faster: the objects of one span stay in the CPU's cache while the lint reads them
# (measured on a 50 MB file: 32 KiB spans lint it in less time than one parse of the whole).
_CHUNK_CHARS = 2**15
# A statement longer than this is parsed on its own (see _large_nodes).
_LARGE_STATEMENT_CHARS = 2**16
# A span is not cut inside the body of a BEGIN ATOMIC function (its statements end with
# semicolons, where the scanner splits), unless it grows longer than this: "BEGIN ATOMIC" in a
# comment with no END after it must not make the rest of the file one span.
_MAX_SPAN_CHARS = 2**20
_BEGIN_ATOMIC = re.compile(r"\bBEGIN\s+ATOMIC\b", re.I)
_END = re.compile(r"(?:\s+|--[^\n]*\n|/\*.*?\*/)*END\s*$", re.I | re.S)
# The longest statement parsed: PostgreSQL's parser takes about 20 bytes of memory for each
# character of a long VALUES list.
MAX_STATEMENT_CHARS = 16 * 2**20
# Parse output longer than this is not turned into Python objects (ten times its size).
_TREE_JSON_CHARS = 16 * 2**20
_KIND = re.compile(r'\{"stmt":\{"(\w+)":')
_INSERT_RELATION = re.compile(r'\{"stmt":\{"InsertStmt":\{"relation":')
_KINDS_WITH_RECORDS = frozenset({"IndexStmt", "AlterTableStmt", "CreateStmt", "CreateTableAsStmt"})


class _TooLarge(Exception):
    """A statement over the limits above; the caller knows where it is."""


def read_file(
    path: Path,
    file_index: int,
    *,
    wrapped_default: bool,
    mode: TransactionMode,
    replacements: tuple[tuple[str, str], ...] = (),
    one_query_runner: bool = False,
) -> MigrationFile:
    """The file with every statement parsed and kept (replay runs them after the lint)."""
    streamed = stream_file(
        path, file_index, wrapped_default=wrapped_default, mode=mode, replacements=replacements,
        one_query_runner=one_query_runner,
    )  # fmt: skip
    statements_ = tuple(streamed.statements)
    return MigrationFile(streamed.path, streamed.wrapped, statements_,
                         tuple(streamed.file_suppressions), tuple(streamed.problems),
                         skipped=streamed.skipped, release=streamed.release,
                         offline=streamed.offline,
                         description=streamed.description, pooled=streamed.pooled,
                         one_query=streamed.one_query)  # fmt: skip


def _dump_note(path: Path, why: str) -> str:
    return (
        f"{path}: not linted or replayed: a schema dump ({why}), not a migration; "
        "lint the migrations against it with --against, or put `-- dbtruth: migration` "
        "at its top to lint it as one"
    )


def stream_file(
    path: Path,
    file_index: int,
    *,
    wrapped_default: bool,
    mode: TransactionMode,
    replacements: tuple[tuple[str, str], ...] = (),
    one_query_runner: bool = False,
) -> MigrationFile:
    """The file read now, its statements parsed while they are iterated, once: a span of
    about a MiB at a time, so that the lint of a file of a million statements never holds
    their trees all at once (800 MB for a 50 MB file). Its file_suppressions are complete
    once the first statement is out, its problems once the last is. `one_query_runner`: the
    set's runner sends each file as one query (Prisma's, with wrapped_default False)."""
    text = read_text(path, MAX_MIGRATION_BYTES)
    for old, new in replacements:
        text = text.replace(old, new)
    if RUNNER_IGNORES.search(text):
        # postgres-migrations runs `SELECT 1` in place of a file that carries this marker
        reason = f"{path}: not linted: `-- postgres-migrations ignore` (its runner skips it)"
        return MigrationFile(str(path), False, (), (), (), skipped=reason)
    wrapped = runs_in_transaction(path, text, mode, not wrapped_default, one_query_runner)
    one_query = wrapped and sent_as_one_query(path, mode, not wrapped_default, one_query_runner)
    file_level: list[Suppression] = []
    problems: list[str] = []
    dump = dump_reason(text)
    if dump is not None:
        return MigrationFile(str(path), False, (), (), (), skipped=_dump_note(path, dump))
    statements_ = _statements(path, text, file_index, replacements, file_level, problems)
    return MigrationFile(
        str(path), wrapped, statements_, file_level, problems, release=release_of(path),
        offline=offline_runner(path), description=manifest_description(path),
        pooled=mode == "auto" and _temporal_folder(path), one_query=one_query,
    )  # fmt: skip


def _statements(
    path: Path,
    text: str,
    file_index: int,
    replacements: tuple[tuple[str, str], ...],
    file_level: list[Suppression],
    problems: list[str],
) -> Iterator[MigrationStatement]:
    broken: list[str] = []  # statements that do not parse, in order
    ignores = _Ignores(path, text) if "dbtruth" in text else None  # most files have none
    try:
        for statement, end_line in _parsed(path, text, file_index, replacements, broken):
            yield ignores.attach(statement, end_line, file_level) if ignores else statement
    except UnreadableInput:
        raise
    except DbtruthError as exc:  # a psql meta-command, a broken \i: the rest is not read
        broken.append(str(exc))
    problems += broken
    if ignores is not None:
        problems += ignores.finish(file_level)


def _parsed(
    path: Path,
    text: str,
    file_index: int,
    replacements: tuple[tuple[str, str], ...],
    problems: list[str],
) -> Iterator[tuple[MigrationStatement, int]]:
    """Each statement of the text with its last line, span after span."""
    spans = _spans(text)
    index = 0  # statements are numbered through the file, whichever span they were parsed in
    line = counted = 0  # lines before `counted`
    i = 0
    while i < len(spans):
        start, end, whole = spans[i]
        i += 1
        line += text.count("\n", counted, start)
        counted = start
        at = (line + 1, start - text.rfind("\n", 0, start))
        found = _parse_whole_file(path, text[start:end], file_index, index, at) if whole else None
        if found is None and whole and i < len(spans) and spans[i][2]:
            # A span cut inside a statement the scanner splits at its semicolons (a BEGIN
            # ATOMIC body) does not parse: try it once with the next span before reading it
            # statement by statement.
            end = spans[i][1]
            i += 1
            found = _parse_whole_file(path, text[start:end], file_index, index, at)
        if found is None:
            found = _parse_each(path, text[start:end], file_index, index, at, replacements,
                                problems)  # fmt: skip
        yield from found[0]
        index += found[1]


def _spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, parse whole) spans of a file's text, in order. A file with psql
    meta-commands or COPY data is read statement by statement as psql would; a short one is
    parsed whole, in one call to PostgreSQL's parser; a long one in spans of about
    _CHUNK_CHARS cut between statements, with each long statement alone in its span."""
    if "\\" in text or "stdin" in text.lower():
        return [(0, len(text), False)]
    if len(text) <= _CHUNK_CHARS:
        return [(0, len(text), True)]
    try:  # an ASCII copy: pglast's offset mapping is quadratic on non-ASCII text
        slices = pg_parser.split(ascii_shadow(text), with_parser=False, only_slices=True)
    except ParseError:
        return [(0, len(text), False)]  # reported with its position by statements()
    spans = []
    start = 0
    atomic = _BEGIN_ATOMIC.search(text) is not None
    inside = False  # in the body of a BEGIN ATOMIC function, which the scanner splits
    for piece in slices:
        if atomic and piece.stop - start < _MAX_SPAN_CHARS:
            if inside:
                inside = _END.match(text, piece.start, piece.stop) is None
                continue
            if _BEGIN_ATOMIC.search(text, piece.start, piece.stop):
                inside = True
                continue
        inside = False
        if piece.stop - piece.start > _LARGE_STATEMENT_CHARS:
            if piece.start > start:
                spans.append((start, piece.start, True))
            end = piece.stop + 1 if text.startswith(";", piece.stop) else piece.stop
            spans.append((piece.start, end, False))
            start = end
        elif piece.stop - start >= _CHUNK_CHARS:
            end = piece.stop + 1 if text.startswith(";", piece.stop) else piece.stop
            spans.append((start, end, True))
            start = end
    if start < len(text):
        spans.append((start, len(text), True))
    return spans


def _place(line: int, column: int, at: tuple[int, int]) -> tuple[int, int]:
    """A position in a span as a position in its file; the span starts at `at`."""
    return line + at[0] - 1, column + (at[1] - 1 if line == 1 else 0)


def _parse_each(
    path: Path,
    text: str,
    file_index: int,
    first_index: int,
    at: tuple[int, int],
    replacements: tuple[tuple[str, str], ...],
    problems: list[str],
) -> tuple[list[tuple[MigrationStatement, int]], int]:
    """The statements of a span one at a time, each syntax error reported where it is."""
    parsed = []
    count = 0
    for count, piece in enumerate(statements(path, replacements, text=text), start=1):
        start = _token_start(piece.sql)
        before = piece.sql[:start]
        line = piece.line + before.count("\n")
        column = (start - before.rfind("\n")) if "\n" in before else piece.column + start
        line, column = _place(line, column, at) if piece.file == str(path) else (line, column)
        body = piece.sql[start:]
        if not body.strip():
            continue
        try:
            nodes = _parse(body)
        except ParseError as exc:
            problems.append(f"{piece.file}:{line}:{column}: cannot parse: {exc.args[0]}")
            continue
        except _TooLarge as exc:
            raise UnreadableInput(
                f"statement {exc}", where=f"{piece.file}:{line}:{column}"
            ) from exc
        end_line = line + body.rstrip().count("\n")
        index = first_index + count - 1
        for node in nodes:
            parsed.append(
                (MigrationStatement(str(path), line, column, body, node, file_index, index),
                 end_line)
            )  # fmt: skip
    return parsed, count


def _parse_whole_file(
    path: Path, text: str, file_index: int, first_index: int, at: tuple[int, int]
) -> tuple[list[tuple[MigrationStatement, int]], int] | None:
    """Every statement of a span (often the whole file) from one parse of its text, and how
    many there were; None on a syntax error (read one statement at a time, each error is
    reported with its position)."""
    try:
        document = json.loads(parse_sql_json(text))
    except (ParseError, RecursionError):  # RecursionError: see _parse
        return None
    data = text.encode("utf-8")  # PostgreSQL's statement offsets count bytes
    parsed = []
    chars = lines_before = 0
    consumed = 0  # bytes already converted to characters and lines
    raws = document.get("stmts", [])
    for index, raw in enumerate(raws, start=first_index):
        start = raw.get("stmt_location", 0)
        end = start + raw["stmt_len"] if raw.get("stmt_len") else len(data)
        skipped = data[consumed:start].decode("utf-8")
        chars += len(skipped)
        lines_before += skipped.count("\n")
        piece = data[start:end].decode("utf-8")
        consumed = end
        offset = _token_start(piece)
        body = piece[offset:].rstrip().rstrip(";").rstrip()
        head = piece[:offset]
        line = lines_before + head.count("\n") + 1
        line_start = text.rfind("\n", 0, chars + offset) + 1
        column = chars + offset - line_start + 1
        chars += len(piece)
        lines_before += piece.count("\n")
        if not body:
            continue
        end_line = line + body.count("\n") + at[0] - 1
        line, column = _place(line, column, at)
        for node in _nodes(raw.get("stmt", {}), body):
            parsed.append(
                (MigrationStatement(str(path), line, column, body, node, file_index, index),
                 end_line)
            )  # fmt: skip
    return parsed, len(raws)


class _Ignores:
    """The inline `-- dbtruth: ignore[CODE] reason` comments of a file, given to its
    statements as they come in order: a comment belongs to the statement it is in, else to the
    next statement when only comments lie between them, else to the whole file when it is
    above the first statement, else it is reported as not next to a statement."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.problems: list[str] = []
        self.pending: list[tuple[int, tuple[str, ...], str]] = []  # in line order
        self.next = 0  # the first pending comment not yet given to a statement
        self.first_line: int | None = None
        for number, line in enumerate(self.lines, start=1):
            match = _IGNORE.search(line)
            if not match:
                continue
            codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
            reason = match.group(2).strip()
            if not codes or not reason:
                self.problems.append(
                    f"{path}:{number}: `dbtruth: ignore[…]` needs rule codes and a reason; "
                    "not applied"
                )
                continue
            self.pending.append((number, codes, reason))

    def attach(
        self, statement: MigrationStatement, end_line: int, file_level: list[Suppression]
    ) -> MigrationStatement:
        if self.first_line is None:
            self.first_line = statement.line
        own: list[Suppression] = []
        while self.next < len(self.pending) and self.pending[self.next][0] <= end_line:
            number, codes, reason = self.pending[self.next]
            self.next += 1
            between = self.lines[number : statement.line - 1]
            if number >= statement.line or all(b.strip().startswith("--") for b in between):
                own.append(Suppression(codes, reason, str(self.path), number, whole_file=False))
            else:
                self._unplaced(number, codes, reason, file_level)
        if not own:
            return statement
        return dataclasses.replace(statement, suppressions=(*statement.suppressions, *own))

    def finish(self, file_level: list[Suppression]) -> list[str]:
        """The comments after the last statement; the problems of the file's comments."""
        for number, codes, reason in self.pending[self.next :]:
            self._unplaced(number, codes, reason, file_level)
        self.next = len(self.pending)
        return self.problems

    def _unplaced(
        self, number: int, codes: tuple[str, ...], reason: str, file_level: list[Suppression]
    ) -> None:
        first_line = self.first_line if self.first_line is not None else len(self.lines) + 1
        if number < first_line:
            file_level.append(Suppression(codes, reason, str(self.path), number, whole_file=True))
        else:
            self.problems.append(
                f"{self.path}:{number}: `dbtruth: ignore` is not next to a statement"
            )
