"""The `dbtruth` group and `run(argv, out, err)`, which returns the exit code; only `main()`
exits.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration, input or
connection error (one clear line, never a traceback).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click

from dbtruth import __version__
from dbtruth.cli.adr import adr
from dbtruth.cli.backfill import backfill
from dbtruth.cli.check import check
from dbtruth.cli.decide import decide
from dbtruth.cli.drift import drift
from dbtruth.cli.drill import drill
from dbtruth.cli.incident import incident
from dbtruth.cli.init import init
from dbtruth.cli.migrate import migrate
from dbtruth.cli.ops import ops
from dbtruth.cli.output import echo, error, redact, streams
from dbtruth.cli.prove import prove
from dbtruth.cli.review import review
from dbtruth.cli.rules import rule, rules
from dbtruth.cli.schema import schema
from dbtruth.cli.snapshot import snapshot
from dbtruth.cli.workload import workload
from dbtruth.errors import DbtruthError
from dbtruth.runtime import exit_cleanly_on_signals, without_cycle_collection


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbtruth")
def cli() -> None:
    """dbtruth: the architecture review of a PostgreSQL database, from truth, invariants,
    workload and failure.

    TARGET is a postgresql:// URL (or nothing: the PG* environment variables, as psql uses),
    SQL files or folders (loaded into a throwaway PostgreSQL), or a snapshot JSON file.
    """


for command in (
    check, snapshot, init, review, migrate, prove, workload, ops, drill, incident, drift,
    backfill, adr, decide, rules, rule, schema,
):  # fmt: skip
    cli.add_command(command)


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    streams.out = out or sys.stdout
    streams.err = err or sys.stderr
    try:
        with without_cycle_collection():
            code = cli.main(args=argv, prog_name="dbtruth", standalone_mode=False)
    except DbtruthError as exc:
        error(exc)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        echo(f"dbtruth: error: {redact(exc.format_message())}", err=True)
        return 2
    except click.exceptions.Abort:
        echo("dbtruth: aborted", err=True)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:
        echo("dbtruth: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in dbtruth: one line, the details only on request
        if os.environ.get("DBTRUTH_DEBUG"):
            import traceback

            echo(redact(traceback.format_exc()), err=True, lines=True)
        echo(
            redact(
                f"dbtruth: internal error: {type(exc).__name__}: {exc} "
                "(set DBTRUTH_DEBUG=1 for details)"
            ),
            err=True,
        )
        return 2
    return code if isinstance(code, int) else 0


def main() -> None:
    exit_cleanly_on_signals()
    sys.exit(run(sys.argv[1:]))
