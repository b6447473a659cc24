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
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import ParseError, parse_sql_json

from dbtruth.errors import DbtruthError
from dbtruth.model.migration import (
    CreatedTable,
    JsonExpr,
    MigrationFile,
    MigrationStatement,
    Suppression,
)
from dbtruth.sources.sqlfiles import natural_key, read_text, statements

TransactionMode = Literal["auto", "per-file", "none"]
_OTHER_DIALECTS = re.compile(r"\.(mysql|sqlite3?|cockroach|mssql|sqlserver|oracle)(\.|$)", re.I)
_NO_TRANSACTION = re.compile(
    r"--\s*(postgres-migrations\s+disable-transaction|\+goose\s+NO\s+TRANSACTION|"
    r"atlas:txmode\s+none|dbtruth:\s*no-transaction)",
    re.I,
)
_IGNORE = re.compile(r"--\s*dbtruth:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$", re.I)
_LEADING = re.compile(r"(\s+|--[^\n]*(\n|$)|/\*.*?\*/)", re.S)


def _is_migration_file(file_name: str) -> bool:
    name = file_name.lower()
    if not (name.endswith(".sql") or name.endswith(".sql.postgres")):
        return False
    if name.endswith(".down.sql") or name == "down.sql" or "_down." in name:
        return False
    return not _OTHER_DIALECTS.search(name.removesuffix(".sql").removesuffix(".up"))


def _popx_key(path: Path) -> str:
    return path.as_posix().replace(".postgres.", ".")


def _manifest_order(folder: Path) -> list[Path] | None:
    """Temporal's versioned folders name their files' order in manifest.json."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("SchemaUpdateCqlFiles")
    except (ValueError, AttributeError, OSError):
        return None
    if not isinstance(files, list):
        return None
    return [folder / str(name) for name in files]


def discover(
    paths: Iterable[Path], order_file: Path | None = None, lexical: bool | None = False
) -> list[Path]:
    """The migration files in apply order: folders in order, and inside a folder its
    manifest.json order when it has one, else file names in order. Names compare with
    numbers by value (`00010` after `0009`) unless `lexical` (Prisma sorts plain strings);
    `lexical=None` decides per folder: lexical where Prisma's migration_lock.toml is."""
    if order_file is not None:
        return _explicit_order(order_file)

    def key(path: Path, base: Path, as_strings: bool) -> list[object]:
        # string slicing, not Path.relative_to: this runs for every file of large sets
        relative = path.as_posix()[len(base.as_posix()) :].lstrip("/")
        return [relative] if as_strings else natural_key(Path(relative))

    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise DbtruthError(f"migrations not found: {path}")
        # one walk: the migration files, and the folders whose manifest.json gives the order
        candidates: list[Path] = []
        manifest_folders: set[Path] = set()
        for root, _, names in os.walk(path):
            if "manifest.json" in names:
                manifest_folders.add(Path(root))
            candidates += [Path(root, name) for name in names if _is_migration_file(name)]
        # popx: a version's .postgres. file replaces its dialect-neutral twin
        postgres = {_popx_key(c) for c in candidates if ".postgres." in c.name}
        candidates = [
            c for c in candidates if ".postgres." in c.name or _popx_key(c) not in postgres
        ]
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
        lines = order_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DbtruthError(f"cannot read the order file: {exc}", where=str(order_file)) from exc
    files = []
    for number, line in enumerate(lines, start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        path = (order_file.parent / entry) if not Path(entry).is_absolute() else Path(entry)
        if not path.is_file():
            raise DbtruthError(f"file not found: {entry}", where=f"{order_file}:{number}")
        files.append(path)
    if not files:
        raise DbtruthError("the order file names no migration", where=str(order_file))
    return files


def runs_in_transaction(path: Path, text: str, mode: TransactionMode, prisma: bool) -> bool:
    if mode == "none":
        return False
    if ".autocommit." in path.name or _NO_TRANSACTION.search(text):
        return False
    return not (mode == "auto" and prisma)


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
    document = json.loads(parse_sql_json(body))  # raises ParseError on a syntax error
    return [node for raw in document.get("stmts", []) for node in _nodes(raw.get("stmt", {}), body)]


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
        # the lint state and the lock table need only the target of an INSERT
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


def read_file(
    path: Path,
    file_index: int,
    *,
    wrapped_default: bool,
    mode: TransactionMode,
    replacements: tuple[tuple[str, str], ...] = (),
) -> MigrationFile:
    text = read_text(path)
    for old, new in replacements:
        text = text.replace(old, new)
    wrapped = runs_in_transaction(path, text, mode, not wrapped_default)
    lines = text.split("\n")
    parsed: list[tuple[MigrationStatement, int]] = []  # statement, last line
    problems: list[str] = []
    whole = _parse_whole_file(path, text, file_index)
    if whole is not None:  # the common case: one call to PostgreSQL's parser for the file
        statements_, file_level, unplaced = _attach_suppressions(path, lines, whole)
        return MigrationFile(str(path), wrapped, tuple(statements_), tuple(file_level),
                             tuple(unplaced))  # fmt: skip
    for index, piece in enumerate(statements(path, replacements, text=text)):
        start = _token_start(piece.sql)
        before = piece.sql[:start]
        line = piece.line + before.count("\n")
        column = (start - before.rfind("\n")) if "\n" in before else piece.column + start
        body = piece.sql[start:]
        if not body.strip():
            continue
        try:
            nodes = _parse(body)
        except ParseError as exc:
            problems.append(f"{path}:{line}:{column}: cannot parse: {exc.args[0]}")
            continue
        end_line = line + body.rstrip().count("\n")
        for node in nodes:
            parsed.append(
                (MigrationStatement(str(path), line, column, body, node, file_index, index),
                 end_line)
            )  # fmt: skip
    statements_, file_level, unplaced = _attach_suppressions(path, lines, parsed)
    problems += unplaced
    return MigrationFile(str(path), wrapped, tuple(statements_), tuple(file_level), tuple(problems))


def _parse_whole_file(
    path: Path, text: str, file_index: int
) -> list[tuple[MigrationStatement, int]] | None:
    """Every statement of a file from one parse of the whole text, or None when the file
    needs statement-by-statement reading: psql meta-commands or COPY data, or a syntax error
    (read one statement at a time, each error is reported with its position)."""
    if "\\" in text or "stdin" in text.lower():
        return None
    try:
        document = json.loads(parse_sql_json(text))
    except ParseError:
        return None
    data = text.encode("utf-8")  # PostgreSQL's statement offsets count bytes
    parsed = []
    chars = lines_before = 0
    consumed = 0  # bytes already converted to characters and lines
    for index, raw in enumerate(document.get("stmts", [])):
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
        end_line = line + body.count("\n")
        for node in _nodes(raw.get("stmt", {}), body):
            parsed.append(
                (MigrationStatement(str(path), line, column, body, node, file_index, index),
                 end_line)
            )  # fmt: skip
    return parsed


def _attach_suppressions(
    path: Path, lines: list[str], parsed: list[tuple[MigrationStatement, int]]
) -> tuple[list[MigrationStatement], list[Suppression], list[str]]:
    if not any("dbtruth" in line for line in lines):  # most files have no inline ignores
        return [statement for statement, _ in parsed], [], []
    comments: list[tuple[int, tuple[str, ...], str]] = []
    problems: list[str] = []
    for number, text in enumerate(lines, start=1):
        match = _IGNORE.search(text)
        if not match:
            continue
        codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
        reason = match.group(2).strip()
        if not codes or not reason:
            problems.append(
                f"{path}:{number}: `dbtruth: ignore[…]` needs rule codes and a reason; not applied"
            )
            continue
        comments.append((number, codes, reason))
    by_statement: dict[int, list[Suppression]] = {}
    file_level: list[Suppression] = []
    first_line = parsed[0][0].line if parsed else len(lines) + 1
    for number, codes, reason in comments:
        target = None
        for i, (statement, end_line) in enumerate(parsed):
            if statement.line <= number <= end_line:
                target = i
                break
            if statement.line > number:
                between = lines[number : statement.line - 1]
                if all(line.strip().startswith("--") for line in between):
                    target = i
                break
        if target is not None:
            by_statement.setdefault(target, []).append(
                Suppression(codes, reason, str(path), number, whole_file=False)
            )
        elif number < first_line:
            file_level.append(Suppression(codes, reason, str(path), number, whole_file=True))
        else:
            problems.append(f"{path}:{number}: `dbtruth: ignore` is not next to a statement")
    result = []
    for i, (statement, _) in enumerate(parsed):
        own = tuple(by_statement.get(i, ()))
        result.append(
            MigrationStatement(
                statement.file, statement.line, statement.column, statement.sql, statement.node,
                statement.file_index, statement.index, own,
            )
        )  # fmt: skip
    return result, file_level, problems
