"""Connection strings: turning them into safe text, and opening read-only live sessions."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote, unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dbtruth.errors import DbtruthError

# How users spell a PostgreSQL URL: the scheme in any case, SQLAlchemy's "+driver" suffix
# (postgresql+psycopg://), and spaces pasted around it.
_URL_SCHEME = re.compile(r"\s*postgres(?:ql)?(?:\+[\w.-]*)?://", re.IGNORECASE)
# A '?' followed by "key=" starts the query string; an '@' after it is no userinfo separator.
_QUERY_START = re.compile(r"\?[^=@]*=")
_WHITESPACE = re.compile(r"\s")
_PASSWORD_WORD = re.compile("password", re.IGNORECASE)
_DURATION = re.compile(r"\d+(?:us|ms|s|min|h|d)?")

# scheme://user:PASSWORD@host in any scheme and case, with one slash too (what Path() leaves of
# a URL). The password runs to the LAST '@' followed by a host, so a raw '@', '/' or '?' in it is
# hidden whole; a user may hold a raw '@' too (Azure's user@server).
# The scheme starts where a word does: tried from inside a long word, it would scan to the
# word's end from every position (minutes for a 200 KB token in a parse error).
_URL_PASSWORD = re.compile(
    r"(?<![\w+.-])([a-z][\w+.-]*:/+[^\s:/]*:)(\S*)(@)(?=[^\s@/?]*(?:[/?\s]|$))",
    re.IGNORECASE,
)
# key=value form, quoted or not; a URL's ?password= is handled by _QUERY_PASSWORD (hence the
# lookbehind). PGPASSWORD=... matches too.
_KV_PASSWORD = re.compile(
    r"(?<![?&])(password\s*=\s*)('(?:[^'\\]|\\.)*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&\s]*)", re.IGNORECASE)
# libpq quotes a bad %-escape whole, and it may be in the password.
_LIBPQ_ECHO = re.compile(r"(percent-encoded (?:token|value): )\"[^\"]*\"", re.IGNORECASE)
_SYNTAX_HINT = (
    "a connection string is key=value pairs (a value with spaces goes in single quotes) or a "
    "postgresql:// URL (special characters in it percent-encoded: @ is %40)"
)


def redact(text: str) -> str:
    """Hide every password a connection string or message may carry."""
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    text = _QUERY_PASSWORD.sub(r"\1***", text)
    text = _LIBPQ_ECHO.sub(r'\1"***"', text)
    return _KV_PASSWORD.sub(r"\1***", text)


def is_url(text: str) -> bool:
    """Whether `text` is meant as a PostgreSQL URL, however the scheme is spelled."""
    return _URL_SCHEME.match(text) is not None


def normalize(conninfo: str) -> str:
    """The connection string libpq should get for what the user typed.

    A URL gets a lower-case scheme without "+driver", loses the spaces around it, and has its
    user and password percent-encoded: libpq ends the userinfo at the FIRST '@', so a raw '@' in
    a password would otherwise make the rest of it the host name (and print it in "failed to
    resolve host"). Here the userinfo ends at the last '@' before the query string, as URL
    parsers read it. Spaces elsewhere become %20, which libpq decodes back. key=value strings
    are only stripped.

    What libpq cannot parse is refused here, before anything prints it: its message quotes the
    word it choked on, which in a string that carries a password may be a piece of it (an
    unquoted password with a space in it), so then the message is left out.
    """
    text = conninfo.strip()
    scheme = _URL_SCHEME.match(text)
    if scheme is not None:
        text = _normalize_url(text[scheme.end() :])
    try:
        conninfo_to_dict(text)
    except psycopg.ProgrammingError as exc:
        message = f"invalid connection {'URL' if scheme else 'string'}"
        if _PASSWORD_WORD.search(text) or _URL_PASSWORD.search(text):
            message += "; libpq's reason is left out, as it could quote part of the password"
        else:
            message += f": {redact(str(exc).strip())}"
        raise DbtruthError(message, hint=_SYNTAX_HINT) from exc
    return text


def _normalize_url(rest: str) -> str:
    at = _userinfo_end(rest)
    if at is None:
        userinfo, after = "", rest
    else:
        user, colon, password = rest[:at].partition(":")
        userinfo = f"{_encode(user)}{colon}{_encode(password)}@"
        after = rest[at + 1 :]
    after = _WHITESPACE.sub(lambda m: quote(m.group()), after)
    return f"postgresql://{userinfo}{after}"


def _userinfo_end(rest: str) -> int | None:
    at = rest.rfind("@")
    while at >= 0 and _QUERY_START.search(rest, 0, at):
        at = rest.rfind("@", 0, at)
    return at if at >= 0 else None


def _encode(part: str) -> str:
    # Decoding first keeps what the user already encoded; a stray '%' is then encoded itself.
    return quote(unquote(part), safe="")


def describe(conninfo: str | None) -> str:
    """A name for the target that is safe to print: user@host:port/dbname, no secrets."""
    try:
        params = conninfo_to_dict(normalize(conninfo or ""))
    except DbtruthError:
        return "(unparseable connection string)"
    host = params.get("host") or os.environ.get("PGHOST") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or ""
    user = params.get("user") or os.environ.get("PGUSER") or ""
    service = params.get("service") or os.environ.get("PGSERVICE")
    if service and not params.get("host"):
        return f"service {service}"
    who = f"{user}@" if user else ""
    return f"{who}{host}:{port}/{dbname}"


def connect_live(
    conninfo: str | None, *, statement_timeout: str = "60s", lock_timeout: str = "1s"
) -> psycopg.Connection[Any]:
    """Open a session that cannot write: every transaction is read-only, statements and lock
    waits are bounded, and the session names itself so a DBA can see who is reading."""
    for option, value in (
        ("--statement-timeout", statement_timeout),
        ("--lock-timeout", lock_timeout),
    ):
        # The value becomes a session setting: nothing but a duration is accepted.
        if not _DURATION.fullmatch(value):
            raise DbtruthError(
                f"{option} expects a duration such as 500ms, 30s or 5min, got '{value}'"
            )
    conn = _connect(conninfo, "dbtruth")
    conninfo = normalize(conninfo or "")
    try:
        # Set in the session, not in the startup options: a session value leaves pg_settings'
        # reset_val at what the server configures for this database and role, so the review
        # reports the server's timeouts, not dbtruth's own (startup options would become the
        # reset value). Nothing runs before these, and every later transaction is read-only.
        conn.execute(
            "SELECT set_config('default_transaction_read_only', 'on', false),"
            " set_config('statement_timeout', %s, false),"
            " set_config('lock_timeout', %s, false),"
            " set_config('idle_in_transaction_session_timeout', '60s', false)",
            (statement_timeout, lock_timeout),
        )
    except psycopg.Error as exc:
        conn.close()
        raise DbtruthError(
            f"cannot prepare a read-only session on {describe(conninfo)}: {_first_line(exc)}"
        ) from exc
    return conn


def connect_writer(conninfo: str | None, application_name: str) -> psycopg.Connection[Any]:
    """Open a session that may write, for the one command whose work is writing
    (`dbtruth backfill run`). It names itself, so a DBA sees the backfill in pg_stat_activity;
    its timeouts are set per transaction by that command."""
    conn = _connect(conninfo, application_name)
    try:
        conn.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', '60s', false),"
            " set_config('standard_conforming_strings', 'on', false)"
        )
    except psycopg.Error as exc:
        conn.close()
        raise DbtruthError(
            f"cannot prepare a session on {describe(conninfo)}: {_first_line(exc)}"
        ) from exc
    return conn


def _connect(conninfo: str | None, application_name: str) -> psycopg.Connection[Any]:
    conninfo = normalize(conninfo or "")
    params = conninfo_to_dict(conninfo)
    full = make_conninfo(
        conninfo,
        application_name=application_name,
        connect_timeout=params.get("connect_timeout") or "10",
    )
    try:
        return psycopg.connect(full, autocommit=True)
    except psycopg.Error as exc:
        raise DbtruthError(
            f"cannot connect to {describe(conninfo)}: {_first_line(exc)}",
            hint="check the URL or the PG* environment variables",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # psycopg and libpq prefix the cause with "connection failed:" / "connection is bad:" and
    # 'connection to server at "host" (addr), port N failed:'; the target is already named.
    message = lines[0] if lines else type(exc).__name__
    message = re.sub(r"^connection (failed|is bad): ", "", message)
    message = re.sub(r"^connection to server at .*? failed: ", "", message)
    return redact(message)
