"""Input limits: what a pull request can put in SQL files, migration folders and dbtruth.yaml
is read completely or refused with one clear line, never truncated, waited on, skipped in
silence, expanded without bound, or followed outside the project."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtruth.sources import migrations
from dbtruth.sources.adrs import read_adrs
from tests.helpers import ROOT, Outcome, dbtruth
from tests.helpers import write_files as _write

PADDING = "-- " + "x" * 76 + "\n"  # one 80-byte comment line
TABLES = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n"


def _is_error(outcome: Outcome, *parts: str) -> None:
    """Exit 2, one error line (its hint may follow on its own line), naming every part."""
    assert outcome.code == 2, outcome
    lines = outcome.err.splitlines()
    assert lines and lines[0].startswith("dbtruth: error: "), outcome.err
    assert all(line.startswith("  hint: ") for line in lines[1:]), outcome.err
    assert "Traceback" not in outcome.err + outcome.out
    for part in parts:
        assert part in lines[0], (part, outcome.err)


def _run(*argv: str, timeout: float = 60, cwd: Path | None = None) -> Outcome:
    """dbtruth in its own process: a test of what could hang must not hang the suite."""
    done = subprocess.run(
        [sys.executable, "-m", "dbtruth", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


# --- NUL bytes anywhere -------------------------------------------------------------------


def _nul_after_64k(path: Path) -> int:
    """A file whose NUL byte sits past the first 64 KiB; returns the NUL's line."""
    head = "CREATE TABLE a (id int);\n" + PADDING * 1000  # 80 KiB of comments
    path.write_bytes(head.encode() + b"-- \x00\n" + TABLES[25:].encode())
    return head.count("\n") + 1


def test_a_nul_byte_after_64_kib_stops_check(tmp_path: Path) -> None:
    sql = tmp_path / "schema.sql"
    line = _nul_after_64k(sql)
    outcome = dbtruth("check", str(sql), "--scratch", "embedded")
    _is_error(outcome, f"{sql}: is not a text file", f"line {line}")


def test_a_nul_byte_after_64_kib_in_a_migration(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    _nul_after_64k(folder / "001_tables.sql")
    # alone it leaves nothing to check: an error, with the reason on the same line
    outcome = dbtruth("migrate", "lint", str(folder))
    _is_error(outcome, "nothing was checked", "001_tables.sql: is not a text file")
    # next to readable files it is reported, and they are still checked
    (folder / "002_orders.sql").write_text("DROP TABLE orders;\n")
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "M008", "--no-color")
    assert outcome.code == 1 and "M008" in outcome.out
    assert "001_tables.sql: is not a text file" in outcome.err


# --- FIFOs and other files that are not regular files --------------------------------------


def test_a_fifo_among_migrations_is_skipped_with_a_note_and_never_opened(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE orders;\n"})
    os.mkfifo(folder / "002_pipe.sql")
    outcome = _run("migrate", "lint", str(folder), "--format", "json")
    assert outcome.code == 1, outcome
    report = json.loads(outcome.out)
    assert "M008" in [f["code"] for f in report["findings"]]
    assert any("002_pipe.sql is a FIFO, not a regular file" in n for n in report["notes"])
    # named on the command line it is an error, not a wait
    outcome = _run("migrate", "lint", str(folder / "002_pipe.sql"))
    _is_error(outcome, "002_pipe.sql: is a FIFO, not a migration file")
    # an --order file that is a FIFO
    os.mkfifo(tmp_path / "order.txt")
    outcome = _run("migrate", "lint", str(folder), "--order", str(tmp_path / "order.txt"))
    _is_error(outcome, "order.txt: is a FIFO")


def test_an_order_file_names_only_regular_files(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE orders;\n"})
    os.mkfifo(folder / "002_pipe.sql")
    order = tmp_path / "order.txt"
    order.write_text("m/001.sql\nm/002_pipe.sql\n")
    outcome = _run("migrate", "lint", str(folder), "--order", str(order))
    _is_error(outcome, f"{order}:2: m/002_pipe.sql is a FIFO, not a migration file")
    order.write_text("m/001.sql\n" + "x" * 5000 + "\n")
    outcome = _run("migrate", "lint", str(folder), "--order", str(order))
    _is_error(outcome, f"{order}:2: cannot read {'x' * 200}…: File name too long")


def test_a_fifo_among_sql_files_and_as_dbtruth_yaml(tmp_path: Path) -> None:
    folder = _write(tmp_path / "s", {"001.sql": "CREATE TABLE t (id int PRIMARY KEY);\n"})
    os.mkfifo(folder / "002_pipe.sql")
    outcome = _run("check", str(folder), "--scratch", "embedded", "--format", "json",
                   timeout=180)  # fmt: skip
    assert outcome.code == 0, outcome
    assert any("002_pipe.sql is a FIFO" in n for n in json.loads(outcome.out)["notes"])
    outcome = _run("check", str(folder / "002_pipe.sql"), "--scratch", "embedded")
    _is_error(outcome, "002_pipe.sql: is a FIFO, not an SQL file")
    # a dbtruth.yaml found next to the target that is a FIFO is named, not waited on
    os.mkfifo(folder / "dbtruth.yaml")
    outcome = _run("migrate", "lint", str(folder / "001.sql"))
    _is_error(outcome, "dbtruth.yaml: is a FIFO, not a manifest")


def test_a_fifo_in_the_adr_folder_is_reported_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "0001-choice.md").write_text("# ADR 1: a choice\n\n## Status\n\naccepted\n")
    os.mkfifo(tmp_path / "0002-pipe.md")

    def hang(signum: int, frame: object) -> None:
        raise TimeoutError("read_adrs waited on a FIFO")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    try:
        adrs, problems = read_adrs(tmp_path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert [a.title for a in adrs] == ["a choice"]
    assert problems == (f"{tmp_path}/0002-pipe.md: is a FIFO, not an ADR; not read; ADR skipped",)


# --- files and folders that cannot be read ------------------------------------------------


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder the unprivileged account can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="dbtruth-limits-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _unprivileged(*argv: str) -> Outcome:
    """Run dbtruth where permissions hold: as this user when it is not root, else in a child
    process that drops to `nobody` first (root reads chmod-000 files). The child already has
    dbtruth imported, so it needs no access to root's virtualenv."""
    if os.geteuid() != 0:
        return dbtruth(*argv)
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no 'nobody' account to drop to")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            outcome = dbtruth(*argv)
            with os.fdopen(write, "w") as pipe:
                json.dump([outcome.code, outcome.out, outcome.err], pipe)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    code, out, err = json.loads(data)
    return Outcome(code, out, err)


def test_an_unreadable_migration_is_an_error(shared: Path) -> None:
    folder = _write(shared / "m", {"001.sql": "DROP TABLE a;\n", "002.sql": "DROP TABLE b;\n"})
    (folder / "002.sql").chmod(0o000)
    outcome = _unprivileged("migrate", "lint", str(folder))
    _is_error(outcome, f"{folder}/002.sql: cannot read: Permission denied")


def test_an_unreadable_subfolder_is_an_error(shared: Path) -> None:
    folder = _write(shared / "m", {"001.sql": "DROP TABLE a;\n", "sub/002.sql": "DROP TABLE b;\n"})
    (folder / "sub").chmod(0o000)
    outcome = _unprivileged("migrate", "lint", str(folder))
    _is_error(outcome, f"{folder}/sub: cannot read folder: Permission denied")
    outcome = _unprivileged("check", str(folder), "--scratch", "embedded")
    _is_error(outcome, f"{folder}/sub: cannot read folder: Permission denied")


def test_an_unreadable_sql_file_and_manifest_are_errors(shared: Path) -> None:
    folder = _write(shared / "s", {"001.sql": "CREATE TABLE a (id int);\n",
                                   "002.sql": "CREATE TABLE b (id int);\n"})  # fmt: skip
    (folder / "002.sql").chmod(0o000)
    outcome = _unprivileged("check", str(folder), "--scratch", "embedded")
    _is_error(outcome, f"{folder}/002.sql: cannot read: Permission denied")
    (folder / "002.sql").chmod(0o644)
    (folder / "dbtruth.yaml").write_text("rules:\n  fail_on: error\n")
    (folder / "dbtruth.yaml").chmod(0o000)
    outcome = _unprivileged("migrate", "lint", str(folder))
    _is_error(outcome, f"{folder}/dbtruth.yaml: cannot read: Permission denied")


# --- dbtruth.yaml: aliases, nesting, values ------------------------------------------------


def _lint_with_manifest(tmp_path: Path, manifest: str, *extra: str) -> Outcome:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE orders;\n"})
    (tmp_path / "dbtruth.yaml").write_text(manifest)
    return dbtruth("migrate", "lint", str(folder), "--manifest", str(tmp_path / "dbtruth.yaml"),
                   *extra)  # fmt: skip


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{', '.join([f'*{previous}'] * 10)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  ignore: &a [*a]\n", "dbtruth.yaml:2: a YAML alias refers to a node that "
         "contains it"),
        ("context:\n  constraints: " + "[" * 5000 + "]" * 5000 + "\n",
         "dbtruth.yaml:2:78: invalid YAML: nested more than 64 levels deep"),
        (_billion_laughs(), "dbtruth.yaml:4: YAML aliases repeat more than 10,000 nodes"),
        ("rules:\n  settings:\n    max_indexes_per_table: " + "9" * 5000 + "\n",
         "dbtruth.yaml:3: invalid value: Exceeds the limit (4300 digits)"),
        ("operations:\n  restore_drill:\n    last: 2024-02-30\n",
         "dbtruth.yaml:3: invalid value: day is out of range for month"),
        ("context:\n  summary: !!python/name:os.system x\n",
         "dbtruth.yaml:2: invalid value: could not determine a constructor"),
        ("context:\n  summary: !!python/object/apply:os.system [id]\n",
         "dbtruth.yaml:2: context.summary: Input should be a valid string"),
    ],
    ids=["recursive-alias", "deep-nesting", "billion-laughs", "huge-integer", "bad-date",
         "python-name", "python-apply"],
)  # fmt: skip
def test_hostile_yaml_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    _is_error(_lint_with_manifest(tmp_path, text), f"{tmp_path}/{expected}")


def test_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    manifest = (
        "rules:\n  ignore_objects:\n"
        "    - {rule: M008, object: public.other, reason: &why dropped on purpose}\n"
        "    - {rule: M008, object: public.orders, reason: *why}\n"
    )
    outcome = _lint_with_manifest(tmp_path, manifest, "--format", "json", "--select", "M008")
    assert outcome.code == 0, outcome
    assert json.loads(outcome.out)["suppressed"][0]["reason"] == "dropped on purpose"


def test_a_billion_laughs_takes_bounded_memory(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE orders;\n"})
    (folder / "dbtruth.yaml").write_text(_billion_laughs())  # found next to the target
    outcome, peak = _peak_rss("migrate", "lint", str(folder))
    _is_error(outcome, "YAML aliases repeat more than 10,000 nodes")
    assert peak < 300 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_an_oversized_manifest_is_refused(tmp_path: Path) -> None:
    text = "context:\n  summary: '" + "x" * (4 * 2**20) + "'\n"
    outcome = _lint_with_manifest(tmp_path, text)
    _is_error(outcome, "dbtruth.yaml: is 4.0 MiB, more than the 4.0 MiB dbtruth reads in a "
              "manifest")  # fmt: skip


# --- paths dbtruth.yaml names stay in the project ------------------------------------------


def _project(tmp_path: Path, manifest: str) -> Path:
    """tmp_path/project with dbtruth.yaml and a migration; tmp_path/elsewhere outside it."""
    project = _write(tmp_path / "project", {
        "db/001.sql": "DROP TABLE orders;\n",
        "docs/adr/0001-inside.md": "# ADR 1: inside\n",
    })  # fmt: skip
    _write(tmp_path / "elsewhere", {
        "0001-secret.md": "# ADR 1: the secret\n",
        "query.sql": "SELECT 1;\n",
        "runbook.md": "steps\n",
    })  # fmt: skip
    (project / "dbtruth.yaml").write_text(manifest)
    return project


@pytest.mark.parametrize(
    ("manifest", "line", "key"),
    [
        ("decisions:\n  adr_folder: ../elsewhere\n", 2, "decisions.adr_folder"),
        ("decisions:\n  adr_folder: ../../../../../../..{tmp}/elsewhere\n", 2,
         "decisions.adr_folder"),
        ("operations:\n  runbooks:\n    - docs/runbook.md\n    - {tmp}/elsewhere/runbook.md\n",
         4, "operations.runbooks.1"),
        ("operations:\n  capacity_model: ../elsewhere/model.xlsx\n", 2,
         "operations.capacity_model"),
        ("practices:\n  migrations: sqitch\n  backfill: ../elsewhere/runbook.md\n", 3,
         "practices.backfill"),
        ("workload:\n  - name: q\n    role: read\n    file: ../elsewhere/query.sql\n", 4,
         "workload.0.file"),
    ],
)  # fmt: skip
def test_manifest_paths_outside_the_project_are_refused(
    tmp_path: Path, manifest: str, line: int, key: str
) -> None:
    project = _project(tmp_path, manifest.replace("{tmp}", str(tmp_path)))
    outcome = dbtruth("migrate", "lint", str(project / "db"), "--manifest",
                      str(project / "dbtruth.yaml"))  # fmt: skip
    _is_error(outcome, f"{project}/dbtruth.yaml:{line}: {key} points outside the project")
    assert "--allow-outside-paths" in outcome.err
    outcome = dbtruth("migrate", "lint", str(project / "db"), "--manifest",
                      str(project / "dbtruth.yaml"), "--allow-outside-paths")  # fmt: skip
    assert outcome.code == 1, outcome  # M008, with the manifest accepted


def test_symlinks_leading_outside_count_as_outside(tmp_path: Path) -> None:
    project = _project(tmp_path, "decisions:\n  adr_folder: docs/linked\n")
    (project / "docs" / "linked").symlink_to(tmp_path / "elsewhere")
    argv = ("migrate", "lint", str(project / "db"), "--manifest", str(project / "dbtruth.yaml"))
    _is_error(dbtruth(*argv), "decisions.adr_folder points outside the project")
    # a link among the ADRs of a folder inside the project
    (project / "dbtruth.yaml").write_text("decisions:\n  adr_folder: docs/adr\n")
    link = project / "docs" / "adr" / "0002-link.md"
    link.symlink_to(tmp_path / "elsewhere" / "0001-secret.md")
    _is_error(dbtruth(*argv), "decisions.adr_folder: 0002-link.md is a link to a file outside")
    # links that stay inside are fine
    link.unlink()
    link.symlink_to(project / "docs" / "adr" / "0001-inside.md")
    assert dbtruth(*argv).code == 1


def test_the_review_reads_an_outside_adr_folder_only_when_allowed(tmp_path: Path) -> None:
    project = _project(tmp_path, "decisions:\n  adr_folder: ../elsewhere\n")
    (project / "db" / "001.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    argv = ("review", str(project / "db"), "--manifest", str(project / "dbtruth.yaml"),
            "--scratch", "embedded")  # fmt: skip
    _is_error(dbtruth(*argv), "decisions.adr_folder points outside the project")
    outcome = dbtruth(*argv, "--allow-outside-paths")
    assert outcome.code == 0, outcome.err
    assert "the secret" in outcome.out


@pytest.mark.parametrize("command", [("check",), ("review",), ("migrate", "lint")])
def test_the_flag_is_documented(command: tuple[str, ...]) -> None:
    help_text = " ".join(_run(*command, "--help").out.split())
    assert "--allow-outside-paths" in help_text and "outside the folder that holds it" in help_text


def test_a_temporal_manifest_naming_files_outside_its_folder(tmp_path: Path) -> None:
    folder = _write(tmp_path / "schema" / "v1.0", {
        "manifest.json": '{"SchemaUpdateCqlFiles": ["../../secret.sql"]}',
        "001.sql": "DROP TABLE orders;\n",
    })  # fmt: skip
    (tmp_path / "secret.sql").write_text("DROP TABLE secret;\n")
    outcome = dbtruth("migrate", "lint", str(tmp_path / "schema"))
    _is_error(outcome, "manifest.json: SchemaUpdateCqlFiles names a file outside its folder")
    assert folder.is_dir()


# --- sizes ---------------------------------------------------------------------------------


# Runs dbtruth from a small Python process and reports the child's peak RSS in KiB. A child
# forked straight from pytest would inherit pytest's own peak (hundreds of MiB late in the
# suite): Linux keeps ru_maxrss across fork and exec.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def _peak_rss(*argv: str) -> tuple[Outcome, int]:
    """Run dbtruth in a process of its own; its outcome and peak resident memory in bytes."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r") as peak:  # fmt: skip
        process = subprocess.run(
            [sys.executable, "-c", _MEASURE, peak.name, sys.executable, "-m", "dbtruth", *argv],
            stdout=out,
            stderr=err,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            check=False,
        )
        out.seek(0)
        err.seek(0)
        kib = int(Path(peak.name).read_text())
        return Outcome(process.returncode, out.read(), err.read()), kib * 1024


def _fifty_megabytes(path: Path) -> int:
    """A 50 MB migration: a schema-dump-like set of tables, indexes, foreign keys, comments
    and functions, seed data in 200-row INSERTs and one 8 MB INSERT, then changes to existing
    tables (which the rules judge). Returns the line of the last statement."""
    with path.open("w") as out:
        size = table = 0
        while size < 24 * 2**20:
            parent = (f"ALTER TABLE ONLY public.t{table} ADD CONSTRAINT t{table}_parent_fkey "
                      f"FOREIGN KEY (parent_id) REFERENCES public.t{table - 1}(id);\n"
                      if table else "")  # fmt: skip
            function = (f"CREATE FUNCTION public.f{table}() RETURNS int LANGUAGE sql\n"
                        "BEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n"
                        if table % 50 == 0 else "")  # fmt: skip
            size += out.write(
                f"CREATE TABLE public.t{table} (\n    id bigint NOT NULL,\n"
                "    tenant_id bigint NOT NULL,\n    name text NOT NULL,\n"
                "    status text DEFAULT 'new'::text NOT NULL,\n    parent_id bigint,\n"
                "    created_at timestamp with time zone DEFAULT now() NOT NULL\n);\n"
                f"ALTER TABLE ONLY public.t{table} ADD CONSTRAINT t{table}_pkey PRIMARY KEY (id);\n"
                f"CREATE INDEX t{table}_tenant_idx ON public.t{table} (tenant_id, created_at);\n"
                f"COMMENT ON TABLE public.t{table} IS 'table {table} ✓';\n{parent}{function}"
            )
            table += 1
        rows = ",\n".join(f"({n}, 1, 'name {n}', 'active', NULL, now())" for n in range(200))
        batch = f"INSERT INTO public.t1 VALUES\n{rows};\n"
        while size < 40 * 2**20:
            size += out.write(batch)
        big = ",".join(f"({n}, 1, 'n{n}', 'x', NULL, now())" for n in range(200_000))
        size += out.write(f"INSERT INTO public.t2 VALUES {big};\n")
        change = 0
        while size < 50 * 2**20:
            size += out.write(
                f"ALTER TABLE public.accounts ADD COLUMN c{change} integer;\n"
                f"CREATE INDEX accounts_c{change} ON public.accounts (c{change});\n"
            )
            change += 1
    return path.read_text().count("\n")


def test_a_50_mb_migration_is_linted_in_bounded_memory(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    last_line = _fifty_megabytes(folder / "001_initial.sql")
    assert (folder / "001_initial.sql").stat().st_size >= 50 * 2**20
    outcome, peak = _peak_rss("migrate", "lint", str(folder), "--format", "json",
                              "-o", str(tmp_path / "report.json"))  # fmt: skip
    assert outcome.code == 1, outcome.err
    assert peak < 2**30, f"peak RSS {peak / 2**20:.0f} MiB"
    findings = json.loads((tmp_path / "report.json").read_text())["findings"]
    # every index on the existing table is found, to the last line of the file; none on the
    # tables the file creates
    lines = [f["location"]["line"] for f in findings if f["code"] == "M001"]
    assert len(lines) > 10_000 and max(lines) == last_line
    assert {f["object"]["path"] for f in findings} == {"public.accounts"}


def test_statements_read_in_spans_are_read_as_one_parse_reads_them(tmp_path: Path) -> None:
    """A long file is parsed a span at a time; statements, positions (multibyte characters,
    several statements on a line, BEGIN ATOMIC bodies, inline ignores) and numbering equal one
    parse of the whole file."""
    parts = [
        "ALTER TABLE orders ADD COLUMN c{i} integer;",
        "CREATE INDEX idx_{i} ON orders (c{i}); SELECT 'é{i}';",
        "/* c */ DROP TABLE x{i};",
        "CREATE FUNCTION f{i}() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
        "-- dbtruth: ignore[M008] dropped on purpose\nDROP TABLE y{i};",
        "UPDATE orders SET c{i} = 1;\n",
    ]
    statements = [parts[i % len(parts)].format(i=i) for i in range(3000)]
    text = "\n".join(" ".join(statements[i : i + 7]) for i in range(0, len(statements), 7))
    path = tmp_path / "001.sql"
    path.write_text(text)
    assert len(text) > 4 * migrations._CHUNK_CHARS
    spans = migrations._spans(text)
    assert len(spans) > 4
    read = migrations.read_file(path, 0, wrapped_default=True, mode="auto")
    whole = migrations._parse_whole_file(path, text, 0, 0, (1, 1))
    assert whole is not None
    expected = [(s.line, s.column, s.sql, s.index, type(s.node)) for s, _ in whole[0]]
    assert [(s.line, s.column, s.sql, s.index, type(s.node)) for s in read.statements] == expected
    assert sum(1 for s in read.statements if s.suppressions) == 500
    assert read.problems == ()


def test_an_oversized_statement_is_refused_where_it_starts(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE a;\n"})
    ids = ",".join(str(n) for n in range(2_500_000))  # 18 MB
    (folder / "002.sql").write_text(f"SELECT 1;\nDELETE FROM orders WHERE id IN ({ids});\n")
    outcome = dbtruth("migrate", "lint", str(folder))
    _is_error(outcome, f"{folder}/002.sql:2:1: statement is 18.0 MiB long",
              "more than the 16.0 MiB dbtruth parses in one statement")  # fmt: skip
    # a long statement whose tree the rules read
    ids = ",".join(str(n) for n in range(400_000))  # 3 MB, 21 MB of parse output
    (folder / "002.sql").write_text(f"SELECT 1;\nDELETE FROM orders WHERE id IN ({ids});\n")
    _is_error(dbtruth("migrate", "lint", str(folder)), f"{folder}/002.sql:2:1: statement is "
              "too large to check")  # fmt: skip


def test_a_long_insert_is_read_without_its_tree(tmp_path: Path) -> None:
    rows = ",".join(f"({n}, 'x')" for n in range(400_000))  # 6 MB, 60 MB of parse output
    folder = _write(tmp_path / "m", {
        "001.sql": "ALTER TABLE orders ADD COLUMN note text NOT NULL;\n"
                   f"INSERT INTO orders (id, note) VALUES {rows};\n",
    })  # fmt: skip
    files = migrations.discover([folder])
    read = migrations.read_file(files[0], 0, wrapped_default=True, mode="auto")
    assert [type(s.node).__name__ for s in read.statements] == ["AlterTableStmt", "InsertStmt"]
    assert read.statements[1].node.relation.relname == "orders"  # type: ignore[index]


def test_an_expression_nested_deeper_than_pythons_json_decoder_is_still_read(
    tmp_path: Path,
) -> None:
    # `a || a || …` nests one level per operator; Python's JSON decoder stops near 1000 levels
    chain = " || ".join(["note"] * 1200)
    folder = _write(tmp_path / "m", {
        "001.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n",
        "002.sql": f"UPDATE orders SET note = {chain};\n"
                   f"ALTER TABLE orders ALTER COLUMN note SET DEFAULT ({chain});\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "json")
    assert outcome.code == 1, outcome.err
    codes = {finding["code"] for finding in json.loads(outcome.out)["findings"]}
    assert {"M012", "M011"} <= codes  # the deep UPDATE is read as an update of every row


def test_file_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _write(tmp_path / "m", {"001.sql": "DROP TABLE a;\n" * 200})
    monkeypatch.setattr(migrations, "MAX_MIGRATION_BYTES", 2**11)
    expected = f"{folder}/001.sql: is 3 KiB, more than the 2 KiB dbtruth reads in an SQL file"
    _is_error(dbtruth("migrate", "lint", str(folder)), expected)


def test_an_include_whose_name_is_too_long_is_an_error_at_its_line(tmp_path: Path) -> None:
    folder = _write(tmp_path / "s", {"schema.sql": "SELECT 1;\n\\i " + "x" * 5000 + ".sql\n"})
    outcome = dbtruth("check", str(folder / "schema.sql"))
    _is_error(outcome, f"{folder / 'schema.sql'}:2", "cannot follow: File name too long")
    assert len(outcome.err) < 400  # the name is cut, not printed whole


def test_statements_split_alike_with_non_ascii_text_and_dollar_tags(tmp_path: Path) -> None:
    # Non-ASCII text is split through an ASCII copy (pglast's own offset mapping is quadratic
    # on it); a dollar-quote tag with such a character keeps the text as it is, since x for é
    # and x for ü would make $é$ and $ü$ one tag and end the body early.
    from dbtruth.sources.sqltext import statements

    path = tmp_path / "schema.sql"
    path.write_text(
        "CREATE TABLE café (naïve text); -- ✓\n"
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $é$ SELECT $ü$;$ü$ $é$;\n"
        "COPY café (naïve) FROM stdin;\nü\n\\.\n"
        "SELECT 'ü;';\n",
        encoding="utf-8",
    )
    found = list(statements(path, ()))
    assert len(found) == 4
    assert found[1].sql.rstrip().endswith("AS $é$ SELECT $ü$;$ü$ $é$")  # the body whole
    assert (found[2].line, found[2].copy_data) == (3, "ü\n")
    assert (found[3].line, found[3].sql.strip()) == (6, "SELECT 'ü;'")


@pytest.mark.parametrize(
    "stalling",
    [
        "SET statement_timeout = 0;\nSELECT pg_sleep(600);\n",
        "DO $$ BEGIN PERFORM set_config('statement_timeout', '0', true); LOOP END LOOP; END $$;\n",
    ],
    ids=["sleep after lifting the timeout", "endless loop"],
)
def test_sql_that_would_run_forever_is_cancelled_where_it_is(tmp_path: Path, stalling: str) -> None:
    # any role may lift statement_timeout: the bound is kept on dbtruth's side
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE t (id int PRIMARY KEY);\n" + stalling)
    line = 3 if stalling.startswith("SET") else 2
    outcome = dbtruth("check", str(schema), "--statement-timeout", "1s")
    _is_error(outcome, f"{schema}:{line}:1: cancelled: still running after 1s")


def test_a_replayed_migration_that_would_run_forever_is_cancelled(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {
        "001.sql": "CREATE TABLE t (id int PRIMARY KEY);\n",
        "002.sql": "SET statement_timeout = 0;\nSELECT pg_sleep(600);\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--replay", "--statement-timeout", "1s",
                      "--format", "json")  # fmt: skip
    assert outcome.code in (0, 1), outcome.err  # a failed replay is reported, not an error
    failure = json.loads(outcome.out)["replay"]["failure"]
    assert (Path(failure["file"]).name, failure["line"]) == ("002.sql", 2)
    assert failure["message"] == "cancelled: still running after 1s"


def test_a_migration_of_blank_lines_is_read_in_linear_time(tmp_path: Path) -> None:
    # line-anchored patterns (a runner's ignore marker, metadata) once let \s* run from every
    # blank line to the end of the file: a fuzzed 1 MB of newlines took minutes
    blank = "\n" * 300_000
    folder = _write(tmp_path / "m", {
        "001.sql": f"CREATE INDEX a_b ON a (b);{blank}CREATE INDEX a_c ON a (c);\n",
    })  # fmt: skip
    outcome = dbtruth("migrate", "lint", str(folder), "--select", "M001", "--format", "json")
    lines = [f["location"]["line"] for f in json.loads(outcome.out)["findings"]]
    assert lines == [1, 300_001]


def test_a_folder_of_garbage_lists_its_first_problems_and_counts_the_rest(tmp_path: Path) -> None:
    """A megabyte of statements that do not parse once printed every one of them, in every
    format: 280,000 lines, and longer than the fuzz test's time limit."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_ok.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (folder / "002_garbage.sql").write_text("OT TABLE t;\n" * 1000)
    outcome = dbtruth("migrate", "lint", str(folder), "--format", "junit")
    assert outcome.code == 1, outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 201
    assert lines[0].endswith("002_garbage.sql:1:1: cannot parse: syntax error at or near \"OT\"")
    assert lines[-1] == "dbtruth: 800 more problems not listed (the first 200 of 1000 are)"
    assert outcome.out.count('classname="dbtruth load"') == 201
