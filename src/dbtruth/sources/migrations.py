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
from pathlib import Path
from typing import Any, Literal

from pglast import ast, parse_sql
from pglast.parser import ParseError, parse_sql_json

from dbtruth.errors import DbtruthError
from dbtruth.model.migration import CreatedTable, MigrationFile, MigrationStatement, Suppression
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
    paths: Iterable[Path], order_file: Path | None = None, lexical: bool = False
) -> list[Path]:
    """The migration files in apply order: folders in order, and inside a folder its
    manifest.json order when it has one, else file names in order. Names compare with
    numbers by value (`00010` after `0009`) unless `lexical` (Prisma sorts plain strings)."""
    if order_file is not None:
        return _explicit_order(order_file)

    def key(path: Path, base: Path) -> list[object]:
        relative = path.relative_to(base)
        return [relative.as_posix()] if lexical else natural_key(relative)

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
        for folder in sorted(by_folder, key=lambda f: key(f, path)):
            manifest = _manifest_order(folder) if folder in manifest_folders else None
            if manifest is not None:
                found += [f for f in manifest if f.is_file()]
            else:
                found += sorted(by_folder[folder], key=lambda f: key(f, path))
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
_CREATES_TABLE = re.compile(
    r"CREATE\s+((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE", re.I
)


def _index_node(stmt: dict[str, Any]) -> ast.IndexStmt:
    """CREATE INDEX as the rules read it (table, name, unique, concurrent), without the tree
    of its key expressions."""
    relation = stmt["relation"]
    return ast.IndexStmt(
        idxname=stmt.get("idxname"),
        relation=ast.RangeVar(schemaname=relation.get("schemaname"), relname=relation["relname"]),
        unique=bool(stmt.get("unique")),
        concurrent=bool(stmt.get("concurrent")),
    )


def _parse(body: str) -> list[Any]:
    """Parse trees of the statement (one, or several for a multi-statement string)."""
    if _NEEDS_TREE.match(body) and not _CREATES_INDEX.match(body):
        return [raw.stmt for raw in parse_sql(body)]
    document = json.loads(parse_sql_json(body))  # raises ParseError on a syntax error
    nodes: list[Any] = []
    for raw in document.get("stmts", []):
        stmt = raw.get("stmt", {})
        created = stmt.get("CreateStmt") or (stmt.get("CreateTableAsStmt") or {}).get("into")
        relation = (created or {}).get("relation") or (created or {}).get("rel")
        if "IndexStmt" in stmt:
            nodes.append(_index_node(stmt["IndexStmt"]))
        elif "InsertStmt" in stmt:
            # the lint state and the lock table need only the target of an INSERT
            target = stmt["InsertStmt"]["relation"]
            nodes.append(ast.InsertStmt(relation=ast.RangeVar(
                schemaname=target.get("schemaname"), relname=target["relname"])))  # fmt: skip
        elif (relation and _CREATES_TABLE.match(body)) or (
            relation and "CreateTableAsStmt" in stmt
        ):
            elements = (created or {}).get("tableElts", ())
            nodes.append(
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
            )
        else:
            nodes.append(_Unparsed(next(iter(stmt), "")))
    return nodes


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


def _attach_suppressions(
    path: Path, lines: list[str], parsed: list[tuple[MigrationStatement, int]]
) -> tuple[list[MigrationStatement], list[Suppression], list[str]]:
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
