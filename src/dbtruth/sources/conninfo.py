"""Connection strings: turning them into safe text, and opening read-only live sessions."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dbtruth.errors import DbtruthError

_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@)")
# key=value form; a URL's ?password= is handled by _QUERY_PASSWORD (hence the lookbehind).
_KV_PASSWORD = re.compile(r"(?<![?&])(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&\s]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide every password a connection string or message may carry."""
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    text = _QUERY_PASSWORD.sub(r"\1***", text)
    return _KV_PASSWORD.sub(r"\1***", text)


def describe(conninfo: str | None) -> str:
    """A name for the target that is safe to print: user@host:port/dbname, no secrets."""
    try:
        params = conninfo_to_dict(conninfo or "")
    except psycopg.ProgrammingError:
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
    try:
        params = conninfo_to_dict(conninfo or "")
    except psycopg.ProgrammingError as exc:
        raise DbtruthError(f"invalid connection string: {redact(str(exc))}") from exc
    options = " ".join(
        part
        for part in (
            str(params.get("options") or ""),
            "-c default_transaction_read_only=on",
            f"-c statement_timeout={statement_timeout}",
            f"-c lock_timeout={lock_timeout}",
            "-c idle_in_transaction_session_timeout=60s",
        )
        if part
    )
    full = make_conninfo(
        conninfo or "",
        options=options,
        application_name="dbtruth",
        connect_timeout=params.get("connect_timeout") or "10",
    )
    try:
        conn = psycopg.connect(full, autocommit=True)
    except psycopg.Error as exc:
        raise DbtruthError(
            f"cannot connect to {describe(conninfo)}: {_first_line(exc)}",
            hint="check the URL or the PG* environment variables",
        ) from exc
    return conn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # psycopg and libpq prefix the cause with "connection failed:" / "connection is bad:" and
    # 'connection to server at "host" (addr), port N failed:'; the target is already named.
    message = lines[0] if lines else type(exc).__name__
    message = re.sub(r"^connection (failed|is bad): ", "", message)
    message = re.sub(r"^connection to server at .*? failed: ", "", message)
    return redact(message)
