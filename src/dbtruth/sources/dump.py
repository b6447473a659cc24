"""A schema-only copy of a live target, made with pg_dump, for replaying migrations on a clone.

pg_dump reads the target like any client, so it carries dbtruth's limits: it waits at most the
lock timeout for each table's ACCESS SHARE lock (a migration holding ACCESS EXCLUSIVE must not
keep dbtruth waiting) and the whole dump is bounded. The password never appears in its command
line (which `ps` shows to every user): it goes through a private password file. The dump lives
in a private temporary folder removed when the replay is done.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dbtruth.errors import DbtruthError
from dbtruth.sources.conninfo import describe, redact

_DUMP_TIMEOUT_S = 600
_PERMISSION = re.compile(
    r"permission denied for (materialized view|foreign table|large object|table|view|sequence"
    r"|schema|function|type|database|relation) (\S+)"
)


def _lock_wait(lock_timeout: str) -> str:
    """pg_dump's --lock-wait-timeout takes PostgreSQL's time units, as lock_timeout does."""
    return lock_timeout.strip() or "1s"


@contextlib.contextmanager
def schema_dump(target: str, lock_timeout: str) -> Iterator[Path]:
    """Dump the schema of the live `target` into a file that exists inside the `with` block."""
    with _dump(target, lock_timeout, ("--schema-only", "--no-owner", "--no-privileges")) as out:
        yield out


@contextlib.contextmanager
def statistics_dump(target: str, lock_timeout: str) -> Iterator[Path]:
    """Dump the planner statistics of the live `target` (pg_class sizes and pg_stats, as
    calls of pg_restore_relation_stats and pg_restore_attribute_stats): PostgreSQL 18's
    pg_dump, which reads them from older servers too."""
    with _dump(target, lock_timeout, ("--statistics-only",)) as out:
        yield out


@contextlib.contextmanager
def _dump(target: str, lock_timeout: str, what: tuple[str, ...]) -> Iterator[Path]:
    from dbtruth.sources.scratch import embedded_bindir, run_marker

    pg_dump = embedded_bindir() / "pg_dump"
    try:
        params = conninfo_to_dict(target)
    except Exception as exc:
        raise DbtruthError(f"invalid connection string: {redact(str(exc))}") from exc
    folder = Path(tempfile.mkdtemp(prefix=f"dbtruth-replay-{os.getpid()}-"))
    try:
        (folder / "owner").write_text(run_marker())
        out = folder / "schema.sql"
        args, env = dump_command(pg_dump, params, folder, out, lock_timeout, what)
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, check=False, timeout=_DUMP_TIMEOUT_S,
                env=env, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise DbtruthError(
                f"pg_dump of {describe(target)} took longer than {_DUMP_TIMEOUT_S} s"
            ) from exc
        if done.returncode != 0:
            raise DbtruthError(_explain(done.stderr, target, lock_timeout))
        yield out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def client_env(params: dict[str, Any], folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """A PostgreSQL client program's connection parameters without the password, and its
    environment with the password in a 0600 password file in dbtruth's private `folder`:
    never among the arguments, which `ps` shows every user."""
    params = dict(params)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env.pop("PGPASSWORD", None)  # the URL's password wins, as it does for dbtruth
        passfile = folder / f"pgpass-{len(list(folder.glob('pgpass*')))}"
        # host:port:database:username:password, every field matching; ':' and '\' escaped
        escaped = str(password).replace("\\", "\\\\").replace(":", "\\:")
        passfile.touch(mode=0o600)
        passfile.write_text(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = str(passfile)
    env["PGAPPNAME"] = "dbtruth"
    return params, env


def dump_command(
    pg_dump: Path,
    params: dict[str, Any],
    folder: Path,
    out: Path,
    lock_timeout: str,
    what: tuple[str, ...] = ("--schema-only", "--no-owner", "--no-privileges"),
) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: no password among the arguments (every user sees
    them in `ps`); it goes into a 0600 password file in dbtruth's private folder."""
    params, env = client_env(params, folder)
    args = [
        str(pg_dump), *what,
        f"--lock-wait-timeout={_lock_wait(lock_timeout)}", "--file", str(out),
        "--dbname", make_conninfo("", **params),
    ]  # fmt: skip
    return args, env


def _explain(stderr: str, target: str, lock_timeout: str) -> str:
    text = " ".join(line.strip() for line in stderr.strip().splitlines() if line.strip())
    text = re.sub(r"pg_dump: (error|detail): ", "", text)
    who = describe(target)
    denied = _PERMISSION.search(text)
    if denied:
        kind, name = denied.group(1), denied.group(2)
        return (
            f"pg_dump of {who} cannot read {kind} {name}: the role lacks SELECT on it (pg_dump "
            f"locks every table it dumps, even schema-only; pg_monitor is not enough); grant "
            f"SELECT on {name}, or replay against SQL files (--against DIR)"
        )
    # pg_dump's --lock-wait-timeout bounds each LOCK TABLE with a statement timeout.
    if "lock timeout" in text or "could not obtain lock" in text or "LOCK TABLE" in text:
        table = re.search(r"LOCK TABLE (\S+)", text) or re.search(r'relation "([^"]+)"', text)
        what = f"table {table.group(1)}" if table else "a table"
        return (
            f"pg_dump of {who} waited {lock_timeout} for {what}, which another session holds "
            "locked; try again later, or wait longer with --lock-timeout"
        )
    return f"pg_dump of {who} failed: {redact(text)[:300]}"
