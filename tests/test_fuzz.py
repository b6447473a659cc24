"""Fuzzing what arrives in pull requests: dbtruth.yaml manifests, snapshot JSON, migration
folders and SQL files, mutated from the real examples and fixtures (byte flips, truncation, NUL
bytes, invalid UTF-8, huge and deeply nested input, random YAML, swapped JSON types, odd file
names), fed to the commands that read them.

Whatever the input, dbtruth must answer the way its contract says: exit code 0, 1 or 2, no
traceback and no internal error, an error as one line (its hint on a second), nothing on
standard error that is not a dbtruth line or that acts on the terminal, output that UTF-8 can
encode, and an answer within a time limit.

Seeded: DBTRUTH_FUZZ_SEED=<n> replays a run (the seed is printed with every failure), and
DBTRUTH_FUZZ_CASE=<kind>:<index> runs the one case a failure names. DBTRUTH_FUZZ_SECONDS sets
the total budget (about a minute by default, most of it in-process; SQL files start a scratch
server per case, so only a few of those run).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml

from tests.helpers import EXAMPLES, ROOT, Outcome, dbtruth

SEED = int(os.environ.get("DBTRUTH_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
BUDGET = float(os.environ.get("DBTRUTH_FUZZ_SECONDS", "60"))
ONLY = os.environ.get("DBTRUTH_FUZZ_CASE")  # "<kind>:<index>"
CASE_SECONDS = 10  # an in-process case that takes longer hangs (they take well under 1s)
SQL_CASE_SECONDS = 90  # a case that starts a scratch server
SQL_CASES = max(2, int(BUDGET / 8))  # each starts a scratch server (about a second)
PROVE_CASES = max(2, int(BUDGET / 30))  # each proves casefile: about ten seconds

FIXTURES = ROOT / "tests" / "rules" / "fixtures"
SNAPSHOT = ROOT / "tests" / "data" / "legacy.snapshot.json"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMATS = ("terminal", "json", "sarif", "markdown", "github", "junit", "gitlab")


# --- running a case ------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that dbtruth's own handlers do not catch it."""


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def contract_violations(outcome: Outcome) -> list[str]:
    """How an outcome breaks the command-line contract (empty when it keeps it)."""
    problems = []
    if outcome.code not in (0, 1, 2):
        problems.append(f"exit code {outcome.code}")
    if "Traceback" in outcome.out + outcome.err:
        problems.append("a traceback")
    if "internal error" in outcome.err:
        problems.append("an internal error")
    lines = outcome.err.splitlines()
    strays = [line for line in lines if not line.startswith(("dbtruth: ", "  hint: ", "wrote "))]
    if strays:
        problems.append(f"stderr lines that are not dbtruth lines: {strays[:3]}")
    errors = [i for i, line in enumerate(lines) if line.startswith("dbtruth: error: ")]
    if outcome.code == 2 and len(errors) != 1:
        problems.append(f"{len(errors)} error lines for exit code 2")
    if errors and errors[-1] < len(lines) - 1 and not lines[-1].startswith("  hint: "):
        problems.append("the error is not the last line")
    for name, text in (("stdout", outcome.out), ("stderr", outcome.err)):
        if CONTROL.search(text):
            problems.append(f"control characters on {name}: {CONTROL.findall(text)[:5]}")
    for name, text in (("stdout", outcome.out), ("stderr", outcome.err)):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            problems.append(f"{name} cannot be written as UTF-8: {exc.reason} at {exc.start}")
    return problems


@dataclass
class Case:
    kind: str
    index: int
    rng: random.Random
    folder: Path
    notes: list[str]
    trap: int | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.index}"

    def note(self, text: str) -> None:
        self.notes.append(text)


# Failures in code that other engineers own and are fixing (sources/, manifest/): the case is
# recorded and the test reports it as xfail instead of failing. Each entry: the reason, and a
# test on the case notes and the outcome. Keep them narrow: anything else fails the test.
def _internal(outcome: Outcome | None, *needles: str) -> bool:
    err = outcome.err if outcome else ""
    return "internal error" in err and any(n in err for n in needles)


def _manifest_in(case: Case) -> bool:
    return case.kind == "manifest" or any(n.startswith("manifest") for n in case.notes)


KNOWN: list[tuple[str, Callable[[Case, Outcome | None, list[str]], bool]]] = [
    (
        "manifest/config.py: an impossible YAML date (2026-02-30) escapes as ValueError",
        lambda c, o, p: _manifest_in(c)
        and _internal(o, "ValueError: day is out of range", "ValueError: month must be",
                      "ValueError: year "),
    ),
    (
        "manifest/config.py: deeply nested YAML ends in RecursionError",
        lambda c, o, p: _manifest_in(c) and _internal(o, "RecursionError"),
    ),
    (
        "manifest/config.py: YAML aliases are expanded without a bound, a large manifest "
        "loads slowly (pure-Python PyYAML, no size limit)",
        lambda c, o, p: _manifest_in(c) and o is None and any("no answer" in x for x in p),
    ),
    (
        "sources/snapshot.py: deeply nested JSON ends in RecursionError",
        lambda c, o, p: c.kind == "snapshot" and _internal(o, "RecursionError"),
    ),
    (
        "sources/migrations.py: a --order line longer than a path may be ends in OSError",
        lambda c, o, p: any(n == "order file" for n in c.notes)
        and _internal(o, "OSError: [Errno 36]"),
    ),
]  # fmt: skip


def _run_cases(
    kind: str,
    tmp_path: Path,
    seconds: float,
    build: Callable[[Case], list[str]],
    limit: int | None = None,
) -> None:
    """Build and run cases of `kind` until the time share is spent (or `limit` cases ran)."""
    print(f"fuzz seed {SEED} (replay: DBTRUTH_FUZZ_SEED={SEED})")
    indexes: Iterator[int]
    if ONLY:
        only_kind, _, only_index = ONLY.partition(":")
        if only_kind != kind:
            pytest.skip(f"DBTRUTH_FUZZ_CASE={ONLY} selects another kind")
        indexes = iter([int(only_index)])
    else:
        indexes = iter(range(10**9))
    start = time.monotonic()
    ran, known = 0, []
    failures: dict[str, str] = {}
    for index in indexes:
        if not ONLY and (time.monotonic() - start > seconds or (limit and ran >= limit)):
            break
        folder = tmp_path / f"{kind}{index}"
        folder.mkdir()
        case = Case(kind, index, random.Random(f"{SEED}:{kind}:{index}"), folder, [])
        outcome: Outcome | None = None
        argv: list[str] = []
        try:
            argv = build(case)
            slow = kind in ("sql", "prove", "workload", "backfill")  # a scratch server per case
            with _deadline(SQL_CASE_SECONDS if slow else CASE_SECONDS):
                outcome = dbtruth(*argv)
            problems = contract_violations(outcome)
        except Hang as exc:
            problems = [str(exc)]
            if case.trap is not None:
                HUNG_TRAPS.add(case.trap)
        finally:
            if ONLY:
                print(f"the case's files are kept in {folder}")
            else:
                with contextlib.suppress(OSError):
                    _make_removable(folder)
                    shutil.rmtree(folder)
        ran += 1
        if not problems:
            continue
        reason = next((r for r, matches in KNOWN if matches(case, outcome, problems)), None)
        if reason is not None:
            known.append(f"{case.name}: {reason}")
            continue
        # One report per kind of failure (the first line of stderr without its details).
        signature = re.sub(r"\d+|'[^']*'|/\S*", "_", (outcome.err if outcome else "")[:120])
        failures.setdefault(
            signature,
            f"fuzz case {case.name} broke the contract: {'; '.join(problems)}\n"
            f"  replay: DBTRUTH_FUZZ_SEED={SEED} DBTRUTH_FUZZ_CASE={case.name} "
            f"pytest tests/test_fuzz.py\n  input: {'; '.join(case.notes)}\n  argv: {argv}\n"
            f"  exit {outcome.code if outcome else '-'}; stderr: "
            f"{(outcome.err if outcome else '')[:2000]!r}",
        )
    print(f"{kind}: {ran} case(s) in {time.monotonic() - start:.1f}s")
    if failures:
        pytest.fail(
            f"seed {SEED}: {len(failures)} kind(s) of failure\n" + "\n".join(failures.values()),
            pytrace=False,
        )
    if known:
        pytest.xfail(f"{len(known)} known failure(s) owned elsewhere: " + " | ".join(known[:5]))


def _make_removable(folder: Path) -> None:
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o755)


# --- mutations -------------------------------------------------------------------------------

_NASTY = [
    b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
    b"\x1b]0;pwned\x07", b"\x1b[2J", b"\x9b", b"\r", b"\r\n", b"\xe2\x80\xa8", b"\xef\xbb\xbf",
    b"\\", b"'", b'"', b"`", b"$$", b"${x}", b"%s", b"{{x}}", b"[bold]", b"<script>",
]  # fmt: skip
TOKENS = {
    "sql": [b"(", b")", b"'", b'"', b"$$", b"$x$", b"/*", b"*/", b"--", b";", b"E'\\x", b"U&\"",
            b"BEGIN;", b"COMMIT;", b"ROLLBACK;", b"\\i x.sql", b"\\connect x", b"\\copy",
            b"COPY t FROM stdin;\n1\n\\.\n", b"CREATE TABLE t (", b"ALTER TABLE t ",
            b"-- dbtruth: ignore[I001] x\n", b"-- dbtruth: no-transaction\n", b"::", b"[]",
            b"DO $$ BEGIN END $$;", b"CREATE INDEX CONCURRENTLY ", b"\n",
            b'\nCREATE TABLE U&"\\001b]0;pwned\\0007<b>" (U&"`\\009b[x]" int REFERENCES t);\n',
            b'\nCOMMENT ON TABLE t IS E\'\\x1b[2J<script>\';\n'],
    "yaml": [b":", b": ", b"- ", b"&a ", b"*a", b"!!python/object:os.system ", b"!!binary ",
             b"{", b"}", b"[", b"]", b"|", b">", b"? ", b"---\n", b"...\n", b"%YAML 1.1\n",
             b"<<: *a\n", b"\t", b"#", b"!!set ", b"~", b"0x1F", b"1e999", b".nan", b"\n  "],
    "json": [b"{", b"}", b"[", b"]", b'"', b",", b":", b"null", b"true", b"1e999", b"-0",
             b"NaN", b"Infinity", b'"\\ud800"', b'"\\u0000"', b"\\"],
}  # fmt: skip


HUNG_TRAPS: set[int] = set()
MAX_BYTES = 1_000_000  # huge, but a case stays within seconds


def mutate_bytes(case: Case, data: bytes, kind: str) -> bytes:
    """One to four mutations chosen at random; each is noted for the failure message."""
    return _mutate(case, data, kind)[:MAX_BYTES]


def _mutate(case: Case, data: bytes, kind: str) -> bytes:
    rng = case.rng
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(
            ["flip", "truncate", "nul", "nasty", "token", "repeat", "delete", "nest", "swap"]
        )
        at = rng.randint(0, len(data))
        if op == "flip" and data:
            where = rng.randrange(len(data))
            data = data[:where] + bytes([data[where] ^ (1 << rng.randrange(8))]) + data[where + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "nul":
            data = data[:at] + b"\x00" * rng.choice([1, 1, 3, 100]) + data[at:]
        elif op == "nasty":
            data = data[:at] + rng.choice(_NASTY) + data[at:]
        elif op == "token":
            data = data[:at] + rng.choice(TOKENS[kind]) * rng.choice([1, 1, 2, 50]) + data[at:]
        elif op == "repeat" and data:
            # Huge input: a chunk repeated up to the size limit.
            end = min(len(data), at + rng.randint(1, 4000))
            chunk = data[at:end] or data[:100]
            times = rng.choice([10, 100, MAX_BYTES // max(len(chunk), 1)])
            data = data[:at] + chunk * times + data[at:]
        elif op == "delete" and data:
            data = data[:at] + data[at + rng.randint(1, 500) :]
        elif op == "nest":
            depth = rng.choice([100, 1000, 10_000, 100_000])
            opener, closer = rng.choice([(b"(", b")"), (b"[", b"]"), (b"{", b"}"), (b"- ", b"")])
            data = data[:at] + opener * depth + closer * rng.choice([0, depth]) + data[at:]
        elif op == "swap" and len(data) > 2:
            i, j = sorted(rng.sample(range(len(data)), 2))
            data = data[:i] + data[j:] + data[i:j]
        case.note(f"{op}@{at}")
    return data


def _random_scalar(rng: random.Random) -> Any:
    return rng.choice([
        None, True, False, 0, -1, 2**70, 1.5, float("inf"), "", "x", "TODO: who?",
        "a" * rng.choice([10, 10_000]), "\x1b]0;pwned\x07", "<script>alert(1)</script>",
        "[bold]x[/bold]", "2026-01-01", "*", "public.*", "../../../etc/passwd", "docs/",
        "I001", "table-without-primary-key", "S", "warning", "never", "x\u202ey\x00z",
    ])  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random YAML/JSON value: scalars of every type, lists and maps, nested a little."""
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return _random_scalar(rng)
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [*MANIFEST_KEYS, "x", "", "1", "<script>"]
    return {str(rng.choice(keys)): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


MANIFEST_KEYS = [
    "context", "rules", "tenancy", "truth", "invariants", "workload", "time", "retention",
    "operations", "practices", "decisions", "summary", "select", "ignore", "severity",
    "fail_on", "ignore_objects", "settings", "key", "exempt", "role", "owner", "sources",
    "id", "statement", "kind", "tables", "enforcement", "object", "name", "sql", "file",
    "contract", "uses_index", "keep", "method", "backup", "restore_drill", "last",
    "monitoring", "runbooks", "adr_folder", "effective", "from", "to", "rule", "reason",
]  # fmt: skip


def swap_types(case: Case, document: Any) -> Any:
    """Replace a random node of a parsed document with a value of another type."""
    rng = case.rng
    path: list[Any] = []
    node = document
    while isinstance(node, dict | list) and node and rng.random() < 0.8:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    replacement = random_value(rng)
    case.note(f"swap {'/'.join(map(str, path)) or '(root)'} -> {type(replacement).__name__}")
    if not path:
        return replacement
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
        parent[rng.choice(MANIFEST_KEYS)] = replacement
    else:
        parent[path[-1]] = replacement
    return document


def odd_name(case: Case, stem: str, suffix: str) -> str | bytes:
    """A file name as people (and attackers) write them."""
    rng = case.rng
    name: str | bytes = rng.choice([
        f"{stem}{suffix}", f"{stem} with spaces{suffix}", f"-{stem}{suffix}",
        f"{stem}\n{suffix}", f"{stem}\x1b]0;pwned\x07{suffix}", f"é{stem}ü{suffix}",
        f"{stem}[bold]{suffix}", f"{stem}{'x' * (250 - len(stem) - len(suffix))}{suffix}",
        f".{stem}{suffix}", f"{stem}{suffix}{suffix}",
        os.fsencode(stem) + b"\xff" + suffix.encode(),
    ])  # fmt: skip
    case.note(f"name {name!r}")
    return name


def _write(folder: Path, name: str | bytes, data: bytes) -> Path:
    raw = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else os.fsencode(name))
    with open(raw, "wb") as handle:
        handle.write(data)
    return Path(os.fsdecode(raw))


# --- seeds -----------------------------------------------------------------------------------


def _fixture_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        cases += document.get("cases", [])
    return cases


FIXTURE_CASES = _fixture_cases()
MIGRATION_SEEDS = [c["migration"].encode() for c in FIXTURE_CASES if c.get("migration")]
MIGRATION_SEEDS += [p.read_bytes() for p in sorted((EXAMPLES / "casefile").glob("*.sql"))]
SCHEMA_SEEDS = [c["schema"].encode() for c in FIXTURE_CASES if c.get("schema")]
SCHEMA_SEEDS += [(EXAMPLES / "legacy" / "schema.sql").read_bytes()]
SCHEMA_SEEDS += [(ROOT / "tests" / "data" / "definitions.sql").read_bytes()]
MANIFEST_SEEDS = [(EXAMPLES / "casefile" / "dbtruth.yaml").read_bytes()]
MANIFEST_SEEDS += [
    yaml.safe_dump(c["manifest"]).encode()
    for c in FIXTURE_CASES
    if isinstance(c.get("manifest"), dict)
]


# --- the four kinds of input -----------------------------------------------------------------


def _manifest_bytes(case: Case) -> bytes:
    rng = case.rng
    seed = rng.choice(MANIFEST_SEEDS)
    roll = rng.random()
    if roll < 0.25:
        return mutate_bytes(case, seed, "yaml")
    if roll < 0.5:
        case.note("values perturbed")
        document = perturb_leaves(case, yaml.safe_load(seed), rate=0.2)
        return yaml.safe_dump(document, allow_unicode=rng.random() < 0.5).encode()
    if roll < 0.7:
        document = swap_types(case, yaml.safe_load(seed))
        return yaml.safe_dump(document, allow_unicode=rng.random() < 0.5).encode()
    if roll < 0.85:
        case.note("random document")
        document = {rng.choice(MANIFEST_KEYS): random_value(rng) for _ in range(rng.randint(1, 6))}
        return yaml.safe_dump(document).encode()
    # YAML's own traps: aliases that multiply (a billion laughs), deep nesting, odd tags. A
    # trap that already hung in this run is not set again: one hang says it, ten waste minutes.
    traps = [
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n"
                   % ((98 + i,) * 2 + (97 + i,) * 9) for i in range(8))
        + b"context: {summary: *i}\n",
        b"context:\n  summary: " + b"[" * 50_000 + b"\n",
        b"context:\n  summary: " + b"{a: " * 5_000 + b"1" + b"}" * 5_000 + b"\n",
        b"!!python/object/apply:os.system [echo pwned]\n",
        b"rules: !!set {a, b}\n",
        b"context: {summary: !!binary aGVsbG8=}\n",
        b"operations:\n  restore_drill: {last: 2026-02-30}\n",
        b"\xef\xbb\xbfrules: {fail_on: error}\n",
        b"rules: {fail_on: error}\nrules: {fail_on: info}\n",
        b"- just\n- a\n- list\n",
        b"",
    ]  # fmt: skip
    number = rng.choice([i for i in range(len(traps)) if i not in HUNG_TRAPS] or [len(traps) - 1])
    case.trap = number
    case.note(f"trap {number}: {traps[number][:40]!r}")
    return traps[number]


def build_manifest_case(case: Case) -> list[str]:
    rng = case.rng
    shutil.copytree(EXAMPLES / "casefile" / "docs", case.folder / "docs")
    name = "dbtruth.yaml" if rng.random() < 0.8 else odd_name(case, "dbtruth", ".yaml")
    manifest = _write(case.folder, name, _manifest_bytes(case))
    if rng.random() < 0.3:  # the ADRs the review reads, mutated too
        for adr in (case.folder / "docs" / "adr").glob("*.md"):
            adr.write_bytes(mutate_bytes(case, adr.read_bytes(), "yaml"))
    command = rng.choice(["check", "check", "review"])
    argv = [command, str(SNAPSHOT), "--manifest", str(manifest)]
    if command == "check":
        argv += ["--format", rng.choice(FORMATS)]
    else:
        argv += rng.choice([[], ["--format", "html"]])
    return argv


def perturb_leaves(case: Case, node: Any, rate: float = 0.05) -> Any:
    """Keep every type but change values: the document still validates (mostly), and the
    rules and renderers meet empty, huge, negative and hostile values."""
    rng = case.rng
    if isinstance(node, dict):
        return {k: perturb_leaves(case, v, rate) for k, v in node.items()}
    if isinstance(node, list):
        return [perturb_leaves(case, v, rate) for v in node]
    if rng.random() > rate:
        return node
    if isinstance(node, bool):
        return not node
    if isinstance(node, int):
        return rng.choice([0, -1, 2**31, 2**63, -(2**63)])
    if isinstance(node, float):
        return rng.choice([0.0, -1.0, 1e308, float("nan")])
    if isinstance(node, str):
        return rng.choice(["", " ", "x" * 5000, "\x1b]0;pwned\x07", "a.b.c", ".", "\"q\"",
                           "<script>alert(1)</script>", "`", "é", node * 2, node[::-1]])
    return node


def _baseline_seed() -> bytes:
    from dbtruth import engine
    from dbtruth.manifest import Manifest
    from dbtruth.sources import snapshot

    findings = engine.run(snapshot.load(SNAPSHOT), Manifest()).findings
    return engine.baseline_document(findings).encode()


def build_snapshot_case(case: Case) -> list[str]:
    rng = case.rng
    seed = SNAPSHOT.read_bytes()
    roll = rng.random()
    if roll < 0.4:
        data = mutate_bytes(case, seed, "json")
    elif roll < 0.7:
        case.note("values perturbed")
        document = json.loads(seed)
        catalog = perturb_leaves(case, document["catalog"])
        for key, value in catalog.items():  # whole objects: gone, repeated, reordered
            if isinstance(value, list) and value and rng.random() < 0.1:
                catalog[key] = rng.choice([[], value * 2, value[::-1], value[:1]])
                case.note(f"{key} resized")
        document["catalog"] = catalog
        data = json.dumps(document).encode()
    else:
        document = json.loads(seed)
        for _ in range(rng.randint(1, 3)):
            # Aim at the catalog most of the time: that is where the types are checked.
            if rng.random() < 0.8 and isinstance(document, dict) and "catalog" in document:
                document["catalog"] = swap_types(case, document["catalog"])
            else:
                document = swap_types(case, document)
        data = json.dumps(document).encode()
    name = "snap.json" if rng.random() < 0.8 else odd_name(case, "snap", ".json")
    snap = _write(case.folder, name, data)
    command = rng.choice(["check", "check", "check", "review", "lint", "init"])
    if command == "lint":
        migration = _write(case.folder, "001.sql", rng.choice(MIGRATION_SEEDS))
        return ["migrate", "lint", str(migration), "--against", str(snap)]
    if command == "init":
        return ["init", str(snap), "-o", str(case.folder / "draft.yaml")]
    argv = [command, str(snap)]
    if command == "review":
        return argv + rng.choice([[], ["-o", str(case.folder / "review.html")]])
    argv += ["--format", rng.choice(FORMATS)]
    if rng.random() < 0.3:
        case.note("baseline")
        baseline = case.folder / "baseline.json"
        data = _baseline_seed()
        if rng.random() < 0.5:
            data = mutate_bytes(case, data, "json")
        else:
            data = json.dumps(swap_types(case, json.loads(data))).encode()
        baseline.write_bytes(data)
        argv += ["--baseline", str(baseline)]
    return argv


def build_migrations_case(case: Case) -> list[str]:
    rng = case.rng
    folder = case.folder / "migrations"
    folder.mkdir()
    shape = rng.choice(["flat", "flat", "prisma", "nested"])
    for number in range(rng.randint(1, 5)):
        data = rng.choice(MIGRATION_SEEDS)
        if rng.random() < 0.7:
            data = mutate_bytes(case, data, "sql")
        stem = f"{number:03d}_change"
        if shape == "prisma":
            (folder / stem).mkdir()
            _write(folder / stem, "migration.sql", data)
        elif shape == "nested":
            (folder / "sub").mkdir(exist_ok=True)
            _write(folder / "sub", odd_name(case, stem, ".sql"), data)
        else:
            _write(folder, odd_name(case, stem, ".sql") if rng.random() < 0.3 else stem + ".sql",
                   data)  # fmt: skip
    if shape == "prisma" and rng.random() < 0.8:
        (folder / "migration_lock.toml").write_text('provider = "postgresql"\n')
    if rng.random() < 0.1:
        case.note("a directory named like a migration")
        (folder / "999_dir.sql").mkdir()
    if rng.random() < 0.03:
        case.note("a symlink loop")
        os.symlink("loop.sql", folder / "loop.sql")
    argv = ["migrate", "lint", str(folder), "--format", rng.choice(FORMATS)]
    if rng.random() < 0.1:
        case.note("order file")
        order = case.folder / "order.txt"
        lines = [os.fsencode(p) for p in folder.rglob("*.sql")] + [b"missing.sql", b"", b"../x"]
        rng.shuffle(lines)
        order.write_bytes(mutate_bytes(case, b"\n".join(lines), "sql"))
        argv += ["--order", str(order)]
    if rng.random() < 0.2:
        argv += ["--pg-version", rng.choice(["9", "11", "14", "15", "18", "1800", "99", "x", "-1"])]
    if rng.random() < 0.2:
        case.note("manifest in the folder")
        manifest = case.folder / "migrations" / "dbtruth.yaml"
        manifest.write_bytes(_manifest_bytes(case))
    return argv


def build_sql_case(case: Case) -> list[str]:
    rng = case.rng
    folder = case.folder / "schema"
    folder.mkdir()
    for number in range(rng.randint(1, 3)):
        data = rng.choice(SCHEMA_SEEDS)
        if rng.random() < 0.7:
            data = mutate_bytes(case, data, "sql")
        name = odd_name(case, f"{number}_schema", ".sql") if rng.random() < 0.3 else f"{number}.sql"
        _write(folder, name, data)
    argv = ["check", str(folder), "--scratch", "embedded", "--format", rng.choice(FORMATS)]
    return argv + (["--keep-going"] if rng.random() < 0.5 else [])


# SQL a pull request may put where dbtruth.yaml asks for a query or a write path.
HOSTILE_SQL = [
    "SELECT pg_sleep(3600)",
    "SET statement_timeout = 0; SELECT pg_sleep(3600)",
    "DELETE FROM casework.case_file RETURNING id",
    "SELECT 1; DROP TABLE casework.case_file",
    "COPY (SELECT 1) TO PROGRAM 'echo pwned'",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_read_file('/etc/passwd')",
    "WITH gone AS (DELETE FROM casework.tenant RETURNING id) SELECT id FROM gone",
    "SELECT * FROM casework.case_file FOR UPDATE",
    "COMMIT",
    "ROLLBACK; SELECT 1",
    "DO $$ BEGIN LOOP END LOOP; END $$",
    "LOCK TABLE casework.case_file IN ACCESS EXCLUSIVE MODE",
    "SELECT $session, $1",
    "",
]


def _hostile_invariants(case: Case, document: Any) -> Any:
    """casefile's invariants with their queries, races and transitions replaced at random by
    hostile SQL and values."""
    rng = case.rng
    invariants = document.get("invariants") if isinstance(document, dict) else None
    if not isinstance(invariants, list):
        return document
    for invariant in invariants:
        if not isinstance(invariant, dict) or rng.random() > 0.5:
            continue
        field = rng.choice(["detective_query", "race", "race.steps", "race.setup", "race.check",
                            "transitions", "object", "predicate", "columns"])  # fmt: skip
        hostile = rng.choice(HOSTILE_SQL)
        case.note(f"{invariant.get('id')}.{field}: {hostile[:40]!r}")
        race = invariant.get("race") if isinstance(invariant.get("race"), dict) else None
        if field == "race":
            # Mostly valid (so that the race runs); now and then one step or level too many.
            steps = rng.choice([rng.randint(1, 6), 7])
            level = rng.choice(["serializable", "repeatable read", "read committed", "chaos"])
            invariant["race"] = {"steps": [hostile] * steps, "isolation": level}
            if not invariant.get("detective_query"):
                invariant["race"]["check"] = "SELECT 1 WHERE false"
        elif field.startswith("race.") and race is not None:
            key = field.split(".")[1]
            race[key] = [hostile, *race.get("steps", [])][:6] if key == "steps" else hostile
        elif field == "transitions":
            invariant["transitions"] = {hostile or "X": [hostile, "CLOSED"]}
        elif field == "columns":
            invariant["columns"] = [hostile or "nope"]
        else:
            invariant[field] = hostile
    return document


def build_prove_case(case: Case) -> list[str]:
    """`prove` of casefile's SQL files with a hostile dbtruth.yaml: races, detective queries
    (`--data`), transitions and objects from a pull request."""
    rng = case.rng
    folder = case.folder / "casefile"
    shutil.copytree(EXAMPLES / "casefile", folder)
    manifest = folder / "dbtruth.yaml"
    document = yaml.safe_load(manifest.read_bytes())
    if rng.random() < 0.2:
        case.note("values perturbed")
        document = perturb_leaves(case, document, rate=0.05)
    document = _hostile_invariants(case, document)
    manifest.write_bytes(yaml.safe_dump(document, allow_unicode=True).encode())
    formats = ("terminal", "json", "markdown", "junit", "sarif")
    argv = ["prove", str(folder), "--scratch", "embedded", "--format", rng.choice(formats)]
    return argv + (["--data"] if rng.random() < 0.5 else [])


def build_workload_case(case: Case) -> list[str]:
    """`workload` of casefile's SQL files with a hostile dbtruth.yaml workload and a hostile
    --queries file: queries, contracts and names from a pull request."""
    rng = case.rng
    folder = case.folder / "casefile"
    shutil.copytree(EXAMPLES / "casefile", folder)
    manifest = folder / "dbtruth.yaml"
    document = yaml.safe_load(manifest.read_bytes())
    for entry in document.get("workload", []):
        if rng.random() < 0.5:
            entry["sql"] = rng.choice(HOSTILE_SQL)
            case.note(f"workload {entry.get('name')}: {entry['sql'][:40]!r}")
        if rng.random() < 0.3:
            entry["contract"] = {
                rng.choice(["uses_index", "no_seq_scan_on", "plan_nodes", "join_order"]):
                    rng.choice([["casework.case_file"], [""], ["\x1b]0;x\x07"], ["Seq Scan"] * 50])
            } if rng.random() < 0.5 else {"max_cost": rng.choice([1e-9, 1e308, 1])}  # fmt: skip
    if rng.random() < 0.2:
        document = perturb_leaves(case, document, rate=0.05)
    manifest.write_bytes(yaml.safe_dump(document, allow_unicode=True).encode())
    argv = ["workload", str(folder), "--scratch", "embedded",
            "--format", rng.choice(FORMATS)]  # fmt: skip
    if rng.random() < 0.5:
        names = ["x", " " * 5000 + "y", "\x1b[2J", ""]
        long_where = " AND ".join(["id = $1"] * rng.randint(1, 400))
        bodies = [*HOSTILE_SQL, f"SELECT id FROM casework.case_file WHERE {long_where}"]
        queries = [f"-- name: {rng.choice(names)}\n{rng.choice(bodies)}"
                   for _ in range(rng.randint(1, 4))]  # fmt: skip
        _write(case.folder, "top.sql", (";\n".join(queries) + ";\n").encode())
        argv += ["--queries", str(case.folder / "top.sql")]
    return argv + (["--suggest"] if rng.random() < 0.5 else [])


_BACKFILL_TABLE = """
CREATE TABLE orders (id bigint PRIMARY KEY, region text NOT NULL, n int NOT NULL DEFAULT 0,
                     note text);
INSERT INTO orders (id, region) SELECT g, 'r' || (g % 5) FROM generate_series(1, 2000) g;
"""
_BACKFILL_SQL = [
    *HOSTILE_SQL,
    "UPDATE orders SET n = n + 1",
    "UPDATE orders o SET note = repeat('x', 100000) FROM orders p WHERE p.id = o.id",
    "DELETE FROM orders WHERE id % 2 = 0",
    "INSERT INTO orders SELECT id + 100000, region FROM orders",
    "UPDATE orders SET n = 1 / 0",
    "UPDATE orders SET n = (SELECT count(*) FROM generate_series(1, 100000000))",
    "WITH x AS (SELECT 1) UPDATE orders SET n = 2 RETURNING *",
    "UPDATE orders SET n = 3 WHERE id IN (SELECT id FROM orders FOR UPDATE)",
    "UPDATE orders SET n = set_config('lock_timeout', '0', false)::int",
    "UPDATE \"orders\" AS \"o;--\" SET n = 4",
]


def build_backfill_case(case: Case, conninfo: str) -> list[str]:
    """`backfill plan|run|status` with a hostile spec: statements, queries, keys and values
    from a pull request, on a small live table. Chunk timeouts stay short, so that a statement
    that runs forever is cut by its own statement_timeout rather than the case's deadline."""
    rng = case.rng
    document: dict[str, Any] = {
        "table": rng.choice(["orders", "public.orders", "orders; DROP TABLE orders", "pg_class",
                             "\x1b[2Jorders", "nowhere"]),
        "statement": rng.choice(_BACKFILL_SQL),
        "validate": rng.choice([None, "SELECT id FROM orders WHERE n > 1", *HOSTILE_SQL]),
        "chunk": {"rows": rng.choice([1, 7, 500, 10**7]), "statement_timeout": "1s",
                  "lock_timeout": "200ms", "retries": rng.choice([0, 1])},
        "health": {"backoff": "100ms", "give_up_after": "1s",
                   "probe": rng.choice([None, {"query": rng.choice(HOSTILE_SQL), "p95": "1ms"},
                                        {"query": "SELECT 1", "p95": "1s"}])},
    }  # fmt: skip
    if rng.random() < 0.3:
        document["key"] = rng.choice([["region", "id"], "note", ["nope"], [], [1, None], "id"])
    if rng.random() < 0.2:
        document["rate"] = rng.choice([1e9, 400, -1, "fast"])  # 400 rows/s: 2000 rows in 5 s
    case.note(f"statement {document['statement'][:50]!r}")
    if rng.random() < 0.2:
        document = perturb_leaves(case, document, rate=0.1)
    data = yaml.safe_dump(document, allow_unicode=True).encode()
    if rng.random() < 0.2:
        data = mutate_bytes(case, data, "yaml")
    spec = _write(case.folder, odd_name(case, "backfill", ".yaml"), data)
    command = rng.choice(["plan", "plan", "run", "status"])
    return ["backfill", command, str(spec), "--target", conninfo,
            "--format", rng.choice(["terminal", "json", "markdown"])]  # fmt: skip


# --- the tests -------------------------------------------------------------------------------

# Shares of the budget; the SQL files run a fixed small number of cases on top, and one hang
# (CASE_SECONDS) may overrun a share.
SHARES = {"manifest": 0.25, "snapshot": 0.2, "migrations": 0.2}


def test_fuzz_manifests(tmp_path: Path) -> None:
    _run_cases("manifest", tmp_path, BUDGET * SHARES["manifest"], build_manifest_case)


def test_fuzz_snapshots(tmp_path: Path) -> None:
    _run_cases("snapshot", tmp_path, BUDGET * SHARES["snapshot"], build_snapshot_case)


def test_fuzz_migration_folders(tmp_path: Path) -> None:
    _run_cases("migrations", tmp_path, BUDGET * SHARES["migrations"], build_migrations_case)


def test_fuzz_sql_files(tmp_path: Path) -> None:
    _run_cases("sql", tmp_path, BUDGET, build_sql_case, limit=SQL_CASES)


def test_fuzz_prove_manifests(tmp_path: Path) -> None:
    _run_cases("prove", tmp_path, BUDGET, build_prove_case, limit=PROVE_CASES)


def test_fuzz_workload_manifests(tmp_path: Path) -> None:
    _run_cases("workload", tmp_path, BUDGET, build_workload_case, limit=PROVE_CASES)


def test_fuzz_backfill_specs(tmp_path: Path, pg18: Any) -> None:
    with pg18.database_with(_BACKFILL_TABLE) as conninfo:
        _run_cases("backfill", tmp_path, BUDGET * 0.25,
                   lambda case: build_backfill_case(case, conninfo))  # fmt: skip


def test_contract_check_catches_what_it_should() -> None:
    """The fuzzer's own oracle: a traceback, an internal error, a second error line or a
    control character each break the contract."""
    assert contract_violations(Outcome(0, "ok\n", "")) == []
    assert contract_violations(Outcome(2, "", "dbtruth: error: x\n  hint: y\n")) == []
    assert contract_violations(Outcome(2, "", "dbtruth: error: x\nmore\n"))
    assert contract_violations(Outcome(2, "", "dbtruth: internal error: KeyError: 1\n"))
    assert contract_violations(Outcome(3, "", ""))
    assert contract_violations(Outcome(1, "", "dbtruth: error: \x1b]0;t\x07\n"))
    assert contract_violations(Outcome(0, "\udcff", ""))


# --- what the fuzzer found in code owned elsewhere, as fixed reproducers ------------------

_BILLION_LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + i,) * 2 + (97 + i,) * 9)
    for i in range(8)
)


def _manifest_check(folder: Path, text: bytes) -> list[str]:
    manifest = folder / "dbtruth.yaml"
    manifest.write_bytes(text)
    return ["check", str(SNAPSHOT), "--manifest", str(manifest)]


def _snapshot_check(folder: Path, text: bytes) -> list[str]:
    snap = folder / "snap.json"
    snap.write_bytes(text)
    return ["check", str(snap)]


def _long_order_line(folder: Path, text: bytes) -> list[str]:
    (folder / "001.sql").write_text("CREATE TABLE t (id int);\n")
    order = folder / "order.txt"
    order.write_bytes(text)
    return ["migrate", "lint", str(folder), "--order", str(order)]


def _xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(reason=reason, strict=False)


@pytest.mark.parametrize(
    ("build", "text"),
    [
        pytest.param(_manifest_check, b"operations:\n  restore_drill: {last: 2026-02-30}\n",
                     id="yaml-date"),
        pytest.param(_manifest_check, b"context:\n  summary: " + b"[" * 50_000 + b"\n",
                     id="yaml-nesting"),
        pytest.param(_manifest_check, _BILLION_LAUGHS, id="yaml-aliases"),
        pytest.param(_snapshot_check, b"[" * 100_000, id="json-nesting"),
        pytest.param(_long_order_line, b"x" * 5000 + b"\n", id="order-line"),
    ],
)  # fmt: skip
def test_found_by_the_fuzzer(
    build: Callable[[Path, bytes], list[str]], text: bytes, tmp_path: Path
) -> None:
    argv = build(tmp_path, text)
    outcome: Outcome | None = None
    # Each takes well under a second once fixed. A hang leaves no traceback to print: the
    # frame the alarm interrupted may be C.
    with contextlib.suppress(Hang), _deadline(3):
        outcome = dbtruth(*argv)
    if outcome is None:
        pytest.fail("no answer within 3s", pytrace=False)
    assert contract_violations(outcome) == [], outcome
