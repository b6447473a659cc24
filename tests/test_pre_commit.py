"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself the way a user's repository runs
them: a temporary git repository names this one as its hook repository (a local path, at a
commit), pre-commit installs dbtruth from it into a hook environment of its own, and `git
commit` is refused or let through by what dbtruth finds. The check hook loads the schema into
a real PostgreSQL (the embedded one)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, write_files

INIT = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n"
UNSAFE = "-- index the customer\nCREATE INDEX orders_customer_idx ON orders (customer_id);\n"
SAFE = "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\n"
SCHEMA = "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\n"
# A key to customers without an index, deletes cascading from customers: I002, a warning.
UNINDEXED_KEY = (
    "CREATE TABLE invoices (id bigint PRIMARY KEY,\n"
    "    customer_id bigint NOT NULL REFERENCES customers ON DELETE CASCADE);\n"
)


def _git(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *argv], capture_output=True, text=True,
                          check=False)  # fmt: skip


def _hook_revision() -> str:
    """The commit of this repository that the hooks are taken from: HEAD, which must hold
    .pre-commit-hooks.yaml (pre-commit reads it from the commit, not the working tree)."""
    if not (ROOT / ".git").exists():
        pytest.skip("dbtruth's source is not a git repository here: pre-commit needs one")
    revision = _git(ROOT, "rev-parse", "HEAD").stdout.strip()
    listed = _git(ROOT, "cat-file", "-e", f"{revision}:.pre-commit-hooks.yaml")
    assert listed.returncode == 0, "HEAD has no .pre-commit-hooks.yaml"
    return revision


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A user's repository with migrations and a schema, both hooks installed for git commit;
    and the environment its commits run in."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    repo = tmp_path_factory.mktemp("user-repository")
    env = {
        **os.environ,
        # pre-commit's own cache (the hook environment it builds), kept out of the user's home
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "DBTRUTH_SCRATCH": "embedded",
        "GIT_AUTHOR_NAME": "dbtruth test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "dbtruth test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "NO_COLOR": "1",
    }  # fmt: skip
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    config = {"repos": [{
        "repo": str(ROOT),
        "rev": _hook_revision(),
        "hooks": [
            {"id": "dbtruth-migrate-lint", "files": "^migrations/"},
            {"id": "dbtruth-check", "args": ["schema"]},
        ],
    }]}  # fmt: skip
    write_files(repo, {
        ".pre-commit-config.yaml": yaml.safe_dump(config),
        "migrations/001_init.sql": INIT,
        "schema/schema.sql": SCHEMA,
    })  # fmt: skip
    assert _git(repo, "init", "-q").returncode == 0
    assert _git(repo, "add", ".").returncode == 0
    first = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "start"], env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    install = subprocess.run([sys.executable, "-m", "pre_commit", "install",
                              "--install-hooks"], cwd=repo, env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    return repo, env


def _commit(repository: tuple[Path, dict[str, str]], files: dict[str, str]) -> tuple[int, str]:
    repo, env = repository
    write_files(repo, files)
    assert _git(repo, "add", *files).returncode == 0
    done = subprocess.run(["git", "-C", str(repo), "commit", "-m", "change"], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:  # refused: the user's repository goes back to its last commit
        assert _git(repo, "reset", "-q", "--hard", "HEAD").returncode == 0
        assert _git(repo, "clean", "-qfd").returncode == 0
    return done.returncode, done.stdout + done.stderr


def _head(repo: Path) -> str:
    return _git(repo, "rev-parse", "HEAD").stdout.strip()


def test_migrate_lint_hook_refuses_an_unsafe_migration(
    repository: tuple[Path, dict[str, str]],
) -> None:
    repo, _ = repository
    before = _head(repo)
    code, output = _commit(repository, {"migrations/002_index.sql": UNSAFE})
    assert code != 0 and _head(repo) == before, output
    line = next(n for n, text in enumerate(UNSAFE.splitlines(), 1) if text.startswith("CREATE"))
    # pre-commit passes the changed file by its path in the repository
    assert f"M001 index-not-concurrent migrations/002_index.sql:{line}" in output
    assert "dbtruth migrate lint" in output and "Failed" in output
    # the same file made safe: the commit goes through, both hooks having run
    code, output = _commit(repository, {"migrations/002_index.sql": SAFE})
    assert code == 0 and _head(repo) != before, output
    assert output.count("Passed") == 2, output


def test_check_hook_refuses_a_schema_with_a_warning(
    repository: tuple[Path, dict[str, str]],
) -> None:
    repo, _ = repository
    before = _head(repo)
    code, output = _commit(repository, {"schema/schema.sql": SCHEMA + UNINDEXED_KEY})
    assert code != 0 and _head(repo) == before, output
    assert "I002 foreign-key-without-index" in output and "public.invoices" in output
    # migrate lint runs only on migrations/ (the config's files:), so it is skipped here
    assert "dbtruth migrate lint" in output and "Skipped" in output


def _pre_commit(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *argv], capture_output=True,
                          text=True, check=False)  # fmt: skip


def _readme_example(first_line: str) -> dict[str, object]:
    """The YAML example of the README's "In CI" section that starts with `first_line`."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### In CI\n") : readme.index("### The review\n")]
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S)
               if b.startswith(first_line + "\n")]  # fmt: skip
    loaded = yaml.safe_load(block)
    assert isinstance(loaded, dict)
    return loaded


def test_the_hooks_and_the_readme_examples_are_valid(tmp_path: Path) -> None:
    manifest = ROOT / ".pre-commit-hooks.yaml"
    checked = _pre_commit("validate-manifest", str(manifest))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ids = {hook["id"] for hook in yaml.safe_load(manifest.read_text())}
    config = _readme_example("# .pre-commit-config.yaml")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    checked = _pre_commit("validate-config", str(tmp_path / "config.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    repos = config["repos"]
    assert isinstance(repos, list)
    assert {hook["id"] for repo in repos for hook in repo["hooks"]} == ids
    workflow = _readme_example("# .github/workflows/dbtruth.yml")
    steps = workflow["jobs"]["dbtruth"]["steps"]  # type: ignore[index]
    runs = [step["run"] for step in steps if "run" in step]
    assert any(r.startswith("dbtruth migrate lint ") and "--format github" in r for r in runs)
    assert any(r.startswith("dbtruth check ") and "--format github" in r for r in runs)
