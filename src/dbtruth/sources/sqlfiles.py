"""SQL files and folders: find them, read them as psql would, and load them statement by
statement into a scratch database, reporting failures at the file, line and column PostgreSQL
points at.

Statements are split with pglast's scanner (dollar quotes, comments and strings handled by
PostgreSQL's own lexer) and sent one at a time, so that a failure names its statement and, with
--keep-going, the rest of the file still loads.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from pglast import parser as pg_parser

from dbtruth.errors import DbtruthError
from dbtruth.inputs import UnreadableInput, not_regular, read_bytes, skipped_note, walk_error
from dbtruth.sources.sandbox import NATIVE, Sandbox, needs_superuser_by_nature

SQL_SUFFIXES = (".sql",)
_NATURAL = re.compile(r"(\d+)")
_META = re.compile(r"^\s*\\([a-zA-Z!?.]+)\s*(.*?)\s*$")
# postgres-migrations runs `SELECT 1` in place of a file carrying this marker (shared with the
# migration reader).
RUNNER_IGNORES = re.compile(r"^\s*--\s*postgres-migrations\s+ignore\b", re.MULTILINE)
_COPY_FROM_STDIN = re.compile(r"^\s*COPY\b.*\bFROM\s+stdin\b.*;\s*$", re.IGNORECASE)
# psql commands that change nothing about the schema; pg_dump >= 17.6 emits \restrict.
_HARMLESS_META = frozenset(
    {
        "set",
        "unset",
        "echo",
        "qecho",
        "timing",
        "pset",
        "encoding",
        "restrict",
        "unrestrict",
        "x",
        "a",
        "t",
        "o",
        "q",
        "warn",
        "if",
        "endif",
        "else",
        "elif",
        "gset",
        "g",
    }
)
_CONNECT_META = frozenset({"c", "connect"})
_INCLUDE_META = frozenset({"i", "include", "ir", "include_relative"})


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    file: str
    line: int
    column: int
    copy_data: str | None = None  # rows of a COPY ... FROM stdin block


@dataclass(frozen=True, slots=True)
class LoadProblem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


def natural_key(path: Path) -> list[Any]:
    """Order names as migration runners do: numbers by value, so 00010 comes after 0009."""
    return [int(p) if p.isdigit() else p.lower() for p in _NATURAL.split(path.as_posix())]


def discover(paths: list[Path], notes: list[str] | None = None) -> list[Path]:
    """The SQL files of the targets, each folder's in natural order. A folder that cannot be
    listed or a file that cannot be looked at is an error; a FIFO, socket or device named
    *.sql is never opened (a FIFO would wait for a writer forever) and is left out with a
    note."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = []
            for root, _, names in os.walk(path, onerror=walk_error):
                for name in names:
                    candidate = Path(root, name)
                    if candidate.suffix not in SQL_SUFFIXES:
                        continue
                    kind = not_regular(candidate)
                    if kind is not None:
                        if notes is not None:
                            notes.append(skipped_note(candidate, kind))
                        continue
                    found.append(candidate)
            found.sort(key=lambda p: natural_key(p.relative_to(path)))
            if not found:
                raise DbtruthError(f"no .sql files in folder {path}")
            files.extend(found)
        elif path.exists() and (kind := not_regular(path)) is not None:
            raise UnreadableInput(f"is {kind}, not an SQL file; not read", where=str(path))
        elif path.is_file():
            files.append(path)
        else:
            raise DbtruthError(f"target not found: {path}")
    return files


# The largest SQL file read: a schema dump of tens of thousands of tables is a few tens of MiB.
MAX_SQL_BYTES = 256 * 2**20


def read_text(path: Path, limit: int = MAX_SQL_BYTES) -> str:
    data = read_bytes(path, limit, "an SQL file")
    # PostgreSQL's parser stops at a NUL byte: one anywhere would silently cut the file short.
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DbtruthError(
            f"is not a text file (it contains NUL bytes, the first on line {line})",
            where=str(path),
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DbtruthError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
            where=f"{path}:{line}",
        ) from exc


def statements(
    path: Path,
    replacements: tuple[tuple[str, str], ...] = (),
    notes: list[str] | None = None,
    _seen: frozenset[Path] = frozenset(),
    text: str | None = None,
    root: Path | None = None,
) -> Iterator[Statement]:
    """The statements of one file, in order, with psql meta-commands handled. `text` is the
    file's content when the caller has already read it (and made its replacements)."""
    if text is None:
        text = read_text(path)
        for old, new in replacements:
            text = text.replace(old, new)
    if RUNNER_IGNORES.search(text):
        # postgres-migrations runs `SELECT 1` in place of a file that carries this marker
        if notes is not None:
            notes.append(f"{path}: not loaded: `-- postgres-migrations ignore` (its runner "
                         "skips it)")  # fmt: skip
        return
    lines = text.split("\n")
    copy_blocks: dict[int, str] = {}  # line index of a COPY statement -> its data rows
    includes: dict[int, Path] = {}  # line index -> file to include there
    # Most files have no psql meta-command and no COPY data: skip the line scan for them.
    i = 0 if ("\\" in text or "stdin" in text.lower()) else len(lines)
    while i < len(lines):
        raw = lines[i]
        if _COPY_FROM_STDIN.match(raw):
            start = i
            rows: list[str] = []
            i += 1
            while i < len(lines) and lines[i].rstrip("\r") != "\\.":
                rows.append(lines[i])
                lines[i] = ""
                i += 1
            if i < len(lines):
                lines[i] = ""
            copy_blocks[start] = "\n".join(rows) + ("\n" if rows else "")
            i += 1
            continue
        meta = _META.match(raw)
        if meta:
            command, argument = meta.group(1), meta.group(2)
            where = f"{path}:{i + 1}"
            if command in _INCLUDE_META:
                target = (path.parent / argument.strip("'\"")).resolve()
                # SQL files come from pull requests: an include reads within the including
                # file's folder tree, never the machine's other files.
                if not target.is_relative_to((root or path.parent).resolve()):
                    raise DbtruthError(
                        f"\\{command} {argument}: outside the folder of the file that includes it",
                        where=where,
                    )
                if not target.is_file():
                    raise DbtruthError(f"\\{command}: file not found: {argument}", where=where)
                includes[i] = target
            elif command in _CONNECT_META:
                if notes is not None:
                    notes.append(
                        f"{where}: psql \\{command} ignored; dbtruth loads every file into one "
                        "scratch database"
                    )
            elif command not in _HARMLESS_META:
                raise DbtruthError(
                    f"psql meta-command \\{command} is not supported in SQL files",
                    where=where,
                    hint="remove it, or load the file with psql into a server and check that",
                )
            lines[i] = ""
        i += 1
    cleaned = "\n".join(lines)
    line_starts = [0] + [m.end() for m in re.finditer("\n", cleaned)]
    pending_includes = sorted(includes.items())

    def position(offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(line_starts, offset) - 1
        return index + 1, offset - line_starts[index] + 1

    try:
        slices = pg_parser.split(cleaned, with_parser=False, only_slices=True)
    except pg_parser.ParseError as exc:
        line, column = position(getattr(exc, "location", 0) or 0)
        raise DbtruthError(
            f"cannot split into statements: {exc.args[0]}", where=f"{path}:{line}:{column}"
        ) from exc
    # The scanner drops an unterminated last statement (an unbalanced parenthesis swallows the
    # semicolons after it): keep that text as one more statement, so that it fails to parse
    # or load with PostgreSQL's own error instead of vanishing.
    covered = slices[-1].stop if slices else 0
    rest = cleaned[covered:]
    if not _only_comments(rest):
        start = covered + (len(rest) - len(rest.lstrip().lstrip(";").lstrip()))
        slices = (*slices, slice(start, len(cleaned.rstrip())))
    for piece in slices:
        line, column = position(piece.start)
        while pending_includes and pending_includes[0][0] < line - 1:
            _, included = pending_includes.pop(0)
            yield from _included(included, replacements, notes, _seen | {path}, root or path.parent)
        end_line, _ = position(max(piece.start, piece.stop - 1))
        copy_rows = next(
            (rows for at, rows in copy_blocks.items() if line - 1 <= at <= end_line - 1), None
        )
        yield Statement(cleaned[piece], str(path), line, column, copy_rows)
    for _, included in pending_includes:
        yield from _included(included, replacements, notes, _seen | {path}, root or path.parent)


def _only_comments(text: str) -> bool:
    """Whether text holds nothing but whitespace, `--` comments and `/* */` comments."""
    stripped = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    stripped = re.sub(r"--[^\n]*", "", stripped)
    return not stripped.strip().strip(";").strip()


def _included(
    path: Path,
    replacements: tuple[tuple[str, str], ...],
    notes: list[str] | None,
    seen: frozenset[Path],
    root: Path,
) -> Iterator[Statement]:
    if path in seen:
        raise DbtruthError(f"\\i includes itself: {path}")
    yield from statements(path, replacements, notes, seen, root=root)


# Failures caused by what the scratch server lacks, not by the SQL: say which and how to get it.
_MISSING_EXTENSION = re.compile(
    r'extension "([^"]+)" is not available'
    r'|could not open extension control file "[^"]*/([^/"]+)\.control"'
)
_NO_ICU = re.compile(r"ICU is not supported|collation provider .*icu|icu", re.IGNORECASE)


def explain_failure(exc: psycopg.Error, scratch_label: str) -> str:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    missing = _MISSING_EXTENSION.search(message) or _MISSING_EXTENSION.search(str(exc))
    if missing:
        name = missing.group(1) or missing.group(2)
        return (
            f'the scratch server ({scratch_label}) has no extension "{name}", so this statement '
            f"and the objects that need {name} cannot be created; load with a server that has it: "
            "--scratch system (Debian: apt-get install postgresql postgresql-contrib) or "
            "--scratch URL"
        )
    if diag.sqlstate == "0A000" and _NO_ICU.search(message):
        return (
            f"the scratch server ({scratch_label}) was built without ICU, so ICU collations "
            "cannot be created; use --scratch system or --scratch URL with an ICU build"
        )
    text = message
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    if diag.message_hint:
        text += f"; hint: {diag.message_hint}"
    return text


_CREATES = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?"
    r"(?:TABLE|VIEW|MATERIALIZED\s+VIEW|SEQUENCE|FOREIGN\s+TABLE|FUNCTION|PROCEDURE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?"
    r"((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)


def created_relation(sql: str, default_schema: str = "public") -> str | None:
    """schema.name of the relation a CREATE statement makes (`default_schema`, the schema
    PostgreSQL creates unqualified objects in, when unqualified)."""
    body = re.sub(r"^(\s*--[^\n]*\n)+", "", sql)
    match = _CREATES.match(body)
    if match is None:
        return None
    parts = [p.strip() for p in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", match.group(1))]
    names = [p[1:-1] if p.startswith('"') else p.lower() for p in parts]
    return ".".join(names) if len(names) == 2 else f"{default_schema}.{names[0]}"


def load(
    conninfo: str,
    files: list[Path],
    *,
    scratch_label: str,
    keep_going: bool = False,
    replacements: tuple[tuple[str, str], ...] = (),
    progress: Callable[[str, int], None] | None = None,
    locations: dict[str, tuple[str, int]] | None = None,
    sandbox: Sandbox | None = None,
) -> tuple[list[LoadProblem], list[str]]:
    """Load every statement of `files` into the database at `conninfo`.

    With a `sandbox` (every scratch database dbtruth makes), each statement is first judged by
    it: role and extension statements the unprivileged owner cannot run are run by dbtruth's
    administrator or refused. Returns the problems (statements that only a superuser can ever
    run, and with keep_going every failure; otherwise the first failure raises) and notes about
    how the files were read. `locations` receives where each relation was created."""
    problems: list[LoadProblem] = []
    notes: list[str] = []
    # Where unqualified CREATEs land: the first existing schema of the search_path, asked of
    # PostgreSQL again whenever a statement may have changed it.
    creation_schema = "public"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for path in files:
            for statement in statements(path, replacements, notes):
                if _DATABASE_LEVEL.match(statement.sql):
                    notes.append(
                        f"{statement.file}:{statement.line}: database-level statement skipped; "
                        "dbtruth loads every file into one scratch database"
                    )
                    continue
                try:
                    verdict = sandbox.judge(statement.sql, conn) if sandbox else NATIVE
                    notes.extend(f"{statement.file}:{statement.line}: {n}" for n in verdict.notes)
                    if verdict.action == "refuse":
                        raise _Refused(f"refused: {verdict.reason}")
                    if verdict.action == "privileged" and sandbox is not None:
                        sandbox.run_privileged(verdict)
                    else:
                        _execute(conn, statement)
                except (psycopg.Error, _Refused) as exc:
                    if _unknown_setting(statement, exc):
                        # pg_dump writes the settings of its own version (18's
                        # transaction_timeout): meaningless to an older server, and harmless.
                        notes.append(
                            f"{statement.file}:{statement.line}: setting unknown to the scratch "
                            f"server skipped ({statement.sql.strip()[:60]})"
                        )
                        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                            conn.execute("ROLLBACK")
                        continue
                    problem, fatal = _judge_failure(statement, exc, scratch_label, sandbox)
                    if fatal and not keep_going:
                        refused = problem.message.startswith("refused:")
                        raise DbtruthError(
                            problem.message,
                            where=f"{problem.file}:{problem.line}:{problem.column}",
                            hint=None
                            if refused
                            else "--keep-going loads the remaining statements and reports "
                            "what could not be created",
                        ) from exc
                    problems.append(problem)
                    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                        conn.execute("ROLLBACK")
                else:
                    if locations is not None:
                        if _MAY_MOVE_CREATION_SCHEMA.search(statement.sql):
                            creation_schema = _current_schema(conn) or creation_schema
                        made = created_relation(statement.sql, creation_schema)
                        if made:
                            locations.setdefault(made, (statement.file, statement.line))
                if progress is not None:
                    progress(statement.file, 1)
    return problems, notes


_SET = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*(?:SET\s+(?:SESSION\s+|LOCAL\s+)?\w+\s*(?:=|TO)"
    r"|SELECT\s+pg_catalog\.set_config\()",
    re.IGNORECASE,
)


def _unknown_setting(statement: Statement, exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.UndefinedObject) and bool(_SET.match(statement.sql))


_OWNER_TO = re.compile(r"^\s*(?:--[^\n]*\n\s*)*ALTER\b.*\bOWNER\s+TO\b", re.I | re.S)


_MAY_MOVE_CREATION_SCHEMA = re.compile(
    r"search_path|\bCREATE\s+SCHEMA\b|\bDROP\s+SCHEMA\b|\bRESET\b|\bDISCARD\b", re.I
)


def _current_schema(conn: psycopg.Connection[Any]) -> str | None:
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return None
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else None


class _Refused(Exception):
    """A statement the sandbox will not run."""


def _judge_failure(
    statement: Statement,
    exc: psycopg.Error | _Refused,
    scratch_label: str,
    sandbox: Sandbox | None,
) -> tuple[LoadProblem, bool]:
    """The problem to report for a failed statement, and whether it stops the load.

    A statement PostgreSQL refused for lack of privilege is either one only a superuser can
    ever run (an event trigger, an untrusted language: reported as not loaded, and the load goes
    on) or an attempt to reach past the database (COPY … PROGRAM, pg_read_file, ALTER SYSTEM:
    refused, naming it)."""
    if isinstance(exc, _Refused):
        return LoadProblem(statement.file, statement.line, statement.column, str(exc)), True
    problem = _problem(statement, exc, scratch_label)
    if sandbox is None or not isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return problem, True
    if _OWNER_TO.search(statement.sql):
        message = (
            f"ownership not changed: {exc.diag.message_primary or problem.message} (a superuser "
            "skips that check; dbtruth loads SQL without one)"
        )
        return LoadProblem(problem.file, problem.line, problem.column, message), False
    kind = needs_superuser_by_nature(statement.sql)
    if kind:
        message = (
            f"not loaded: creating {kind} needs a superuser, and dbtruth runs loaded SQL "
            f"without one ({problem.message})"
        )
        return LoadProblem(problem.file, problem.line, problem.column, message), False
    primary = exc.diag.message_primary or problem.message
    message = (
        f"refused: {primary}: dbtruth runs loaded SQL as an unprivileged database owner, "
        "without superuser, server files or server programs"
    )
    if "create role" in problem.message and not sandbox.createrole_is_safe:
        message += (
            "; roles created inside DO blocks or functions need CREATEROLE, which dbtruth gives "
            "the SQL only on PostgreSQL 16 or later (--scratch embedded)"
        )
    return LoadProblem(problem.file, problem.line, problem.column, message), True


# Statements about whole databases make no sense inside the one scratch database a target is
# loaded into, and on a user-named scratch server they would touch other databases.
_DATABASE_LEVEL = re.compile(
    r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(?:CREATE|DROP|ALTER)\s+DATABASE\b",
    re.IGNORECASE | re.DOTALL,
)


def _execute(conn: psycopg.Connection[Any], statement: Statement) -> None:
    with conn.cursor() as cur:
        if statement.copy_data is not None:
            with cur.copy(statement.sql) as copy:
                copy.write(statement.copy_data)
        else:
            cur.execute(statement.sql)


def _problem(statement: Statement, exc: psycopg.Error, scratch_label: str) -> LoadProblem:
    line, column = statement.line, statement.column
    position = exc.diag.statement_position
    if position:
        before = statement.sql[: int(position) - 1]
        newlines = before.count("\n")
        line += newlines
        column = (len(before) - before.rfind("\n")) if newlines else column + len(before)
    return LoadProblem(statement.file, line, column, explain_failure(exc, scratch_label))
