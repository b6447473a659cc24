"""SQL files and folders as text: find them, read them as psql would (its meta-commands, COPY
data and includes handled), and split them into statements with their positions.

Statements are split with pglast's scanner (dollar quotes, comments and strings handled by
PostgreSQL's own lexer). Nothing here talks to a server: the migration reader uses this
without loading psycopg, and sqlfiles loads the statements into a scratch database.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import parser as pg_parser

from dbtruth.errors import DbtruthError
from dbtruth.inputs import UnreadableInput, not_regular, read_bytes, skipped_note, walk_error

SQL_SUFFIXES = (".sql",)
_NATURAL = re.compile(r"(\d+)")
_META = re.compile(r"^\s*\\([a-zA-Z!?.]+)\s*(.*?)\s*$")
# postgres-migrations runs `SELECT 1` in place of a file carrying this marker (shared with the
# migration reader).
# [ \t]*, not \s*: at each of a million blank lines \s* would run to the end and back.
RUNNER_IGNORES = re.compile(r"^[ \t]*--[ \t]*postgres-migrations[ \t]+ignore\b", re.MULTILINE)
# Whitespace and comments before a statement's first word: where a statement is reported to
# be is where its keyword is, not the comment above it (findings, problems and notes point at
# the line a reader looks for). Block comments do not nest here; PostgreSQL's do, and a nested
# one only leaves the statement starting at the comment, as before.
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*")
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


def natural_key(path: Path) -> list[Any]:
    """Order names as migration runners do: numbers by value, so 00010 comes after 0009."""
    return [int(p) if p.isdigit() else p.lower() for p in _NATURAL.split(path.as_posix())]


_OTHER_DIALECTS = re.compile(r"\.(mysql|sqlite3?|cockroach|mssql|sqlserver|oracle)(\.|$)", re.I)
_DOWN = re.compile(r"(\.down\.sql|^down\.sql|_down\.[^/]*)$", re.I)


def is_migration_file(file_name: str) -> bool:
    """An up migration PostgreSQL runs: not a down file, not another database's dialect."""
    name = file_name.lower()
    if not (name.endswith(".sql") or name.endswith(".sql.postgres")):
        return False
    if _DOWN.search(name):
        return False
    return not _OTHER_DIALECTS.search(name.removesuffix(".sql").removesuffix(".up"))


def is_down_migration(file_name: str) -> bool:
    """A down (rollback) file PostgreSQL runs: `x.down.sql`, `down.sql`, `x_down.sql`, not
    another database's dialect (`x.mysql.down.sql`)."""
    name = file_name.lower()
    return bool(_DOWN.search(name)) and not _OTHER_DIALECTS.search(name)


def postgres_twins(files: list[Path]) -> list[Path]:
    """popx: a version's `.postgres.` file replaces its dialect-neutral twin."""
    postgres = {_popx_key(f) for f in files if ".postgres." in f.name}
    return [f for f in files if ".postgres." in f.name or _popx_key(f) not in postgres]


def _popx_key(path: Path) -> str:
    return path.as_posix().replace(".postgres.", ".")


def discover(paths: list[Path], notes: list[str] | None = None) -> list[Path]:
    """The SQL files of the targets, each folder's in natural order. A folder that holds a
    migration set — down files beside the up ones, or Prisma's migration_lock.toml — is read
    as its runner applies it: up files only, in PostgreSQL's dialect where popx keeps several,
    and in Prisma's plain string order (`20250625_x` after `20250409154352_y`, where numbers
    by value would put it first). A folder that cannot be listed or a file that cannot be
    looked at is an error; a FIFO, socket or device named *.sql is never opened (a FIFO would
    wait for a writer forever) and is left out with a note."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = []
            prisma = migration_set = False
            for root, _, names in os.walk(path, onerror=walk_error):
                prisma = prisma or "migration_lock.toml" in names
                migration_set = migration_set or any(_DOWN.search(n) for n in names)
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
            if prisma or migration_set:
                found = postgres_twins([f for f in found if is_migration_file(f.name)])
            if prisma and notes is not None:
                notes.append(prisma_note(path))
            if prisma:
                found.sort(key=lambda p: p.relative_to(path).as_posix())
            else:
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


def prisma_note(folder: Path) -> str:
    """What a Prisma project needs to know before applying any fix as SQL: Prisma compares the
    database with schema.prisma, so an index or key it was not told about is drift, and the
    next migration it generates drops it again."""
    return (
        f"{folder} is a Prisma migration set: a fix applied as SQL must also be declared in "
        "schema.prisma (@@index, @@unique, @relation), or `prisma migrate dev` reports drift "
        "and the next migration it generates reverts it; put the fix's SQL in a migration "
        "made with `prisma migrate dev --create-only`"
    )


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
                includes[i] = _include_target(path, root, command, argument, where)
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
        slices = pg_parser.split(ascii_shadow(cleaned), with_parser=False, only_slices=True)
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
    if not only_comments(rest):
        start = covered + (len(rest) - len(rest.lstrip().lstrip(";").lstrip()))
        slices = (*slices, slice(start, len(cleaned.rstrip())))
    copy_lines = sorted(copy_blocks)
    for piece in slices:
        start = _LEADING.match(cleaned, piece.start, piece.stop).end()  # type: ignore[union-attr]
        if start < piece.stop:
            piece = slice(start, piece.stop)
        line, column = position(piece.start)
        while pending_includes and pending_includes[0][0] < line - 1:
            _, included = pending_includes.pop(0)
            yield from _included(included, replacements, notes, _seen | {path}, root or path.parent)
        end_line, _ = position(max(piece.start, piece.stop - 1))
        # the first COPY block within the statement's lines (bisect: a file may hold thousands)
        block = bisect.bisect_left(copy_lines, line - 1)
        copy_rows = (
            copy_blocks[copy_lines[block]]
            if block < len(copy_lines) and copy_lines[block] <= end_line - 1
            else None
        )
        yield Statement(cleaned[piece], str(path), line, column, copy_rows)
    for _, included in pending_includes:
        yield from _included(included, replacements, notes, _seen | {path}, root or path.parent)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A dollar-quote tag with a non-ASCII character ($é$): x for é could make two tags equal.
_NON_ASCII_TAG = re.compile(r"\$[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*\$")


def ascii_shadow(text: str) -> str:
    """The text with every non-ASCII character replaced by x, for pglast's split.

    pglast maps each statement's byte offset to a character index by walking every multibyte
    character before it: quadratic (6 s for 0.5 MB of statements with an é each, 100 s for
    23 MB with a ✓ per table). A non-ASCII character scans as an identifier character, as x
    does (in strings, comments and dollar-quoted bodies it is text either way), so the scanner
    splits the copy the same way, at the same character indexes. Only a dollar-quote tag with
    such a character could change meaning (two tags becoming equal): that text is split as is."""
    if text.isascii():
        return text
    if any(not tag.isascii() for tag in _NON_ASCII_TAG.findall(text)):
        return text
    return _NON_ASCII.sub("x", text)


def only_comments(text: str) -> bool:
    """Whether text holds nothing but whitespace, `--` comments and `/* */` comments."""
    stripped = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    stripped = re.sub(r"--[^\n]*", "", stripped)
    return not stripped.strip().strip(";").strip()


def _include_target(path: Path, root: Path | None, command: str, argument: str, where: str) -> Path:
    """The file a \\i names, which must be a file within the including file's folder tree: SQL
    files come from pull requests, and an include never reads the machine's other files."""
    shown = argument if len(argument) <= 120 else argument[:120] + "…"
    try:
        target = (path.parent / argument.strip("'\"")).resolve()
        inside = target.is_relative_to((root or path.parent).resolve())
        is_file = inside and target.is_file()
    except (OSError, RuntimeError, ValueError) as exc:  # a name too long, a loop, a NUL
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DbtruthError(f"\\{command} {shown}: cannot follow: {reason}", where=where) from exc
    if not inside:
        raise DbtruthError(
            f"\\{command} {shown}: outside the folder of the file that includes it", where=where
        )
    if not is_file:
        raise DbtruthError(f"\\{command}: file not found: {shown}", where=where)
    return target


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
