"""A password never reaches an output, however it is spelled and whatever reads it: every
spelling (URL in any case, +driver, spaces around, a raw '@', key=value quoted or not,
?password=, a service file, PGPASSWORD, a password file) through every command and format,
with the right password (the run succeeds) and a wrong one (the server refuses it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from dbtruth.errors import DbtruthError
from dbtruth.sources.conninfo import describe, is_url, normalize, redact
from tests.conftest import Server
from tests.helpers import EXAMPLES, Outcome, dbtruth

# A raw '@' inside: a parser that ends the userinfo at the first '@' leaks the tail.
PASSWORD = "S3cr3t-Pw@Tail-9z"
WRONG = "S3cr3t-Pw@Tail-9z-wrong"
# What must never be printed: either side of the '@', raw or percent-encoded.
FRAGMENTS = ("S3cr3t", "Tail-9z")
READER = "secret_reader"  # what live targets connect as
SCRATCH = "secret_scratch"  # what --scratch URLs connect as (it creates databases)


def _assert_clean(text: str, where: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, f"{fragment!r} printed in {where}:\n{text}"


@dataclass(frozen=True)
class Spelling:
    target: str | None  # None: nothing on the command line, the PG* environment only
    env: dict[str, str]


def _spellings(sock: str, user: str, db: str, password: str, tmp: Path) -> dict[str, Spelling]:
    """Every way a user hands dbtruth a password, connecting as `user` to `db`."""
    host, enc = quote(sock, safe=""), quote(password, safe="")
    service, passfile = tmp / "pg_service.conf", tmp / "pgpass"
    no_password = f"postgresql://{user}@/{db}?host={host}"
    return {
        "scheme-in-capitals": Spelling(f"POSTGRESQL://{user}:{enc}@/{db}?host={host}", {}),
        "sqlalchemy-driver": Spelling(f"postgresql+psycopg://{user}:{enc}@/{db}?host={host}", {}),
        "spaces-around": Spelling(f"  postgresql://{user}:{enc}@/{db}?host={host} \n", {}),
        "raw-at": Spelling(f"postgresql://{user}:{password}@/{db}?host={host}", {}),
        "all-at-once": Spelling(f" Postgres+Psycopg2://{user}:{password}@/{db}?host={host} ", {}),
        "key-value-quoted": Spelling(
            f"host={sock} dbname={db} user={user} password='{password}'", {}
        ),
        "key-value-unquoted": Spelling(
            f"host={sock} dbname={db} user={user} password={password}", {}
        ),
        "query-parameter": Spelling(
            f"postgresql:///{db}?host={host}&user={user}&password={enc}", {}
        ),
        "query-parameter-raw": Spelling(
            f"postgresql:///{db}?host={host}&user={user}&password={password}", {}
        ),
        "service-file": Spelling("service=dbt_secret", {"PGSERVICEFILE": str(service)}),
        "pgservice-environment": Spelling(
            None, {"PGSERVICEFILE": str(service), "PGSERVICE": "dbt_secret"}
        ),
        "pgpassword": Spelling(no_password, {"PGPASSWORD": password}),
        "pgpassfile": Spelling(no_password, {"PGPASSFILE": str(passfile)}),
    }


SPELLINGS = list(_spellings("/s", "u", "d", PASSWORD, Path("/unused")))


def _use(
    spelling: str, sock: str, user: str, db: str, password: str, tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str | None:
    """Write the service and password files, set the spelling's environment; its target."""
    (tmp / "pg_service.conf").write_text(
        f"[dbt_secret]\nhost={sock}\ndbname={db}\nuser={user}\npassword={password}\n"
    )
    (tmp / "pgpass").write_text(f"*:*:*:{user}:{password}\n")
    (tmp / "pgpass").chmod(0o600)
    chosen = _spellings(sock, user, db, password, tmp)[spelling]
    for key, value in chosen.env.items():
        monkeypatch.setenv(key, value)
    return chosen.target


@pytest.fixture(scope="module")
def secret_db(pg18: Server) -> Iterator[tuple[Server, str, str]]:
    """A database with the legacy example schema, roles that log in with PASSWORD only (scram
    over the socket, ahead of the server's trust lines): a reader (pg_dump, for replay, needs
    SELECT) and a scratch administrator."""
    name = pg18.create_database()
    with psycopg.connect(pg18.conninfo(name), autocommit=True) as conn:
        conn.execute((EXAMPLES / "legacy" / "schema.sql").read_text().encode())
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE pg_monitor, pg_read_all_data").format(
                sql.Identifier(READER), sql.Literal(PASSWORD)
            )
        )
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(SCRATCH), sql.Literal(PASSWORD)
            )
        )
        row = conn.execute("SHOW hba_file").fetchone()
        assert row is not None
        hba = Path(row[0])
        original = hba.read_text()
        hba.write_text(
            f"local all {READER} scram-sha-256\nlocal all {SCRATCH} scram-sha-256\n" + original
        )
        conn.execute("SELECT pg_reload_conf()")
    params = psycopg.conninfo.conninfo_to_dict(pg18.admin)
    try:
        yield pg18, name, str(params["host"])
    finally:
        hba.write_text(original)
        with psycopg.connect(pg18.admin, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        pg18.drop_database(name)
        with psycopg.connect(pg18.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(READER)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(SCRATCH)))


def _commands(target: str | None, out: Path, migrations: Path, sql_file: Path) -> list[list[str]]:
    """Every command and output format that reads a live target."""
    t = [] if target is None else [target]
    commands = [
        ["check", *t],
        ["check", *t, "--format", "json"],
        ["check", *t, "--format", "sarif", "-o", str(out / "check.sarif")],
        ["check", *t, "--format", "markdown", "-o", str(out / "check.md")],
        ["check", *t, "--format", "terminal", "-o", str(out / "check.txt")],
        ["check", *t, "--write-baseline", str(out / "baseline.json")],
        ["snapshot", *t, "-o", str(out / "snapshot.json")],
        ["review", *t],
        ["review", *t, "-o", str(out / "review.html")],
        ["init", *t, "-o", str(out / "dbtruth.yaml"), "--force"],
    ]
    if target is not None:  # --against names its target; the PG* environment has no spelling
        commands += [
            ["migrate", "lint", str(migrations), "--against", target, "--format", "json"],
            ["migrate", "lint", str(migrations), "--against", target, "--replay",
             "-o", str(out / "lint.md"), "--format", "markdown"],
        ]  # fmt: skip
    return commands


def _setup_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    out = tmp_path / "out"
    out.mkdir()
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_add.sql").write_text("ALTER TABLE cases ADD COLUMN note text;\n")
    sql_file = tmp_path / "schema.sql"
    sql_file.write_text("CREATE TABLE t (id int PRIMARY KEY, parent int REFERENCES t);\n")
    return out, migrations, sql_file


def _assert_files_clean(out: Path) -> None:
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for path in files:
        _assert_clean(path.read_text(errors="replace"), str(path.name))


def _run(argv: list[str]) -> Outcome:
    outcome = dbtruth(*argv)
    _assert_clean(outcome.out + outcome.err, f"the output of {argv[:2]}")
    assert "Traceback" not in outcome.err, outcome.err
    return outcome


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_command_and_format_with_the_right_password(
    secret_db: tuple[Server, str, str],
    spelling: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, name, sock = secret_db
    target = _use(spelling, sock, READER, name, PASSWORD, tmp_path, monkeypatch)
    out, migrations, sql_file = _setup_files(tmp_path)
    for argv in _commands(target, out, migrations, sql_file):
        if "--replay" in argv:
            argv += ["--scratch", server.admin]
        outcome = _run(argv)
        # The legacy schema has findings: check exits 1; the rest succeed.
        assert outcome.code in (0, 1), f"{argv}: {outcome.err}"
        assert "error" not in outcome.err, f"{argv}: {outcome.err}"
    _assert_files_clean(out)
    assert '"source": "live ' in (out / "snapshot.json").read_text()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_command_with_a_wrong_password(
    secret_db: tuple[Server, str, str],
    spelling: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, name, sock = secret_db
    target = _use(spelling, sock, READER, name, WRONG, tmp_path, monkeypatch)
    out, migrations, sql_file = _setup_files(tmp_path)
    for argv in _commands(target, out, migrations, sql_file):
        if "--replay" in argv:
            continue  # the same connection as the line before, which fails first
        outcome = _run(argv)
        assert outcome.code == 2, f"{argv}: {outcome}"
        assert "password authentication failed" in outcome.err, f"{argv}: {outcome.err}"
    assert not [p for p in out.rglob("*") if p.is_file()]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("password", [PASSWORD, WRONG], ids=["right", "wrong"])
def test_scratch_url(
    secret_db: tuple[Server, str, str],
    spelling: str,
    password: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, sock = secret_db
    target = _use(spelling, sock, SCRATCH, "postgres", password, tmp_path, monkeypatch)
    if target is None:
        pytest.skip("--scratch always names its server")
    out, _, sql_file = _setup_files(tmp_path)
    outcome = _run(
        ["check", str(sql_file), "--scratch", target, "--format", "json",
         "-o", str(out / "scratch.json")]
    )  # fmt: skip
    if password == WRONG:
        assert outcome.code == 2, outcome
        assert "password authentication failed" in outcome.err, outcome.err
        return
    assert outcome.code in (0, 1), outcome.err
    _assert_files_clean(out)
    assert "scratch server" in (out / "scratch.json").read_text()


@pytest.mark.parametrize(
    "target",
    [
        # An unreachable host after a raw '@' in the password: the host is named, the tail of
        # the password is not (it used to be taken for the host name).
        f"postgresql://app:{PASSWORD}@nohost.invalid/prod",
        f"POSTGRESQL://app:{PASSWORD}@127.0.0.1:1/prod",
        # Unparseable: libpq quotes the URL, or the bad %-escape, in its message.
        f"postgresql://app:{PASSWORD}@[::1/prod",
        "postgresql://app@127.0.0.1:1/prod?password=S3cr3t%ZZTail-9z",
        "postgresql://app@127.0.0.1:1/prod?password=S3cr3t%00Tail-9z",
        # An unquoted password with a space: libpq names the word after it.
        "host=127.0.0.1 port=1 password=S3cr3t Tail-9z",
    ],
)
@pytest.mark.parametrize("command", ["check", "snapshot", "review", "init", "migrate", "scratch"])
def test_connection_errors_name_no_secret(target: str, command: str, tmp_path: Path) -> None:
    out, migrations, sql_file = _setup_files(tmp_path)
    argv = {
        "check": ["check", target, "--format", "json"],
        "snapshot": ["snapshot", target, "-o", str(out / "s.json")],
        "review": ["review", target, "-o", str(out / "r.html")],
        "init": ["init", target, "-o", str(out / "dbtruth.yaml")],
        "migrate": ["migrate", "lint", str(migrations), "--against", target],
        "scratch": ["check", str(sql_file), "--scratch", target],
    }[command]
    outcome = _run(argv)
    assert outcome.code == 2, outcome
    assert outcome.err.startswith("dbtruth: error: "), outcome.err
    assert "target not found" not in outcome.err  # a URL is never taken for a path
    if "nohost.invalid" in target:
        assert "nohost.invalid" in outcome.err
    if "[::1" in target:
        assert "invalid connection URL" in outcome.err or "scratch server" in outcome.err


def test_normalised_urls() -> None:
    assert normalize(" POSTGRESQL+psycopg://u:pw@h:5432/db?sslmode=require \n") == (
        "postgresql://u:pw@h:5432/db?sslmode=require"
    )
    # The userinfo ends at the last '@' before the query; an '@' in the query stays there.
    assert normalize("postgresql://u:p@ss@h/db?user=a@b") == (
        "postgresql://u:p%40ss@h/db?user=a@b"
    )
    assert normalize("postgresql://admin@server:p/w?d@h/db") == (
        "postgresql://admin%40server:p%2Fw%3Fd@h/db"
    )
    assert normalize("postgresql://h/my db") == "postgresql://h/my%20db"
    assert normalize("postgresql://u:p%40ss@h/db") == "postgresql://u:p%40ss@h/db"  # kept
    assert normalize(normalize("postgresql://u:p@ss@h/db")) == normalize(
        "postgresql://u:p@ss@h/db"
    )
    assert normalize("  host=h password=x ") == "host=h password=x"
    assert is_url("Postgres+asyncpg://h/db") and not is_url("examples/postgresql/schema.sql")
    assert describe("POSTGRESQL://u:p@ss@h:6432/db") == "u@h:6432/db"
    # libpq would name "Tail-9z" as the word without "=": the reason is left out.
    with pytest.raises(DbtruthError) as refused:
        normalize("host=h password=S3cr3t Tail-9z")
    _assert_clean(str(refused.value), "the refusal")
    with pytest.raises(DbtruthError, match="invalid connection string: missing"):
        normalize("host=h embeded")  # no password: the reason is shown


def test_redaction_of_every_spelling() -> None:
    for text in [
        "POSTGRESQL://u:S3cr3t@h/db",
        "postgresql+psycopg://u:S3cr3t@h/db",
        "target not found: POSTGRESQL:/u:S3cr3t-Pw@Tail-9z@h/db",  # what Path() leaves of it
        "postgresql://u:S3cr3t-Pw@Tail-9z@h/db",
        "postgresql://admin@server:S3cr3t/Tail-9z@h/db",
        "postgresql://h/db?sslmode=require&password=S3cr3t-Tail-9z",
        "host=h password='S3cr3t Tail-9z' user=u",
        'host=h password="S3cr3t Tail-9z" user=u',
        "PGPASSWORD=S3cr3t-Tail-9z",
        'invalid percent-encoded token: "S3cr3t%ZZTail-9z"',
        'forbidden value %00 in percent-encoded value: "S3cr3t%00Tail-9z"',
    ]:
        _assert_clean(redact(text), repr(text))
    assert redact("postgresql://u:pw@h/db?user=a@b") == "postgresql://u:***@b"  # errs on hiding


@pytest.fixture
def locked_table(database: tuple[Server, str]) -> Iterator[tuple[str, psycopg.Connection[object]]]:
    """A live database whose `cases` table another session holds in ACCESS EXCLUSIVE mode, as
    an ALTER TABLE or a VACUUM FULL would."""
    server, name = database
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute((EXAMPLES / "legacy" / "schema.sql").read_text().encode())
    holder: psycopg.Connection[object] = psycopg.connect(server.conninfo(name))
    holder.execute("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
    try:
        yield server.conninfo(name), holder
    finally:
        holder.close()


def test_a_lock_timeout_names_the_table_and_the_option(
    locked_table: tuple[str, psycopg.Connection[object]], tmp_path: Path
) -> None:
    url, holder = locked_table
    pid = holder.info.backend_pid
    for argv in (
        ["check", url],
        ["migrate", "lint", str(_setup_files(tmp_path)[1]), "--against", url],
    ):
        outcome = dbtruth(*argv, "--lock-timeout", "200ms")
        assert outcome.code == 2, outcome
        assert len(outcome.err.splitlines()) == 1, outcome.err
        first, hint = outcome.err.split(" (hint: ", 1)
        assert "waited longer than the lock timeout (200ms)" in first, first
        assert f"public.cases (process {pid}) in ACCESS EXCLUSIVE mode" in first, first
        assert "--lock-timeout" in hint, hint


def test_a_longer_lock_timeout_waits_for_the_lock(
    locked_table: tuple[str, psycopg.Connection[object]],
) -> None:
    url, holder = locked_table
    release = threading.Timer(1.5, holder.rollback)
    release.start()
    try:
        outcome = dbtruth("check", url, "--lock-timeout", "60s", "--format", "json")
    finally:
        release.join()
    assert outcome.code == 1, outcome.err  # the legacy schema's findings


def test_timeouts_are_durations_only(database: tuple[Server, str]) -> None:
    server, name = database
    # Anything else would reach the session's options: -c default_transaction_read_only=off.
    outcome = dbtruth(
        "check", server.conninfo(name), "--lock-timeout", "1s -c default_transaction_read_only=off"
    )
    assert outcome.code == 2
    assert "--lock-timeout expects a duration" in outcome.err


def test_redaction_reads_a_long_word_once(tmp_path: Path) -> None:
    """A migration of one 200 KB word ends in an error that quotes it; the URL pattern, tried
    from every position inside the word, took minutes to find no password there (fuzz seed
    1421206921, migrations:121). It is tried where a word starts, and still finds a URL that
    follows a long word."""
    word = "SE" * 100_000
    assert redact(f"{word} postgresql://u:secret@host/db") == f"{word} postgresql://u:***@host/db"
    (tmp_path / "001_word.sql").write_text(word)
    outcome = dbtruth("migrate", "lint", str(tmp_path))
    assert outcome.code == 2
    assert outcome.err.startswith("dbtruth: error: no statement could be parsed")
