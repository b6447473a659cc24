"""The command line: one small module per command, which parses its options, calls the one
entry function of the capability it belongs to, hands the result to the report layer and
returns the exit code. No workflow lives here.

Start-up is a feature (a pre-commit hook pays it on every commit), so a command imports only
what it runs: `dbtruth --help` imports every command module to list them, and each imports its
capability inside the command function, when it runs. tests/test_imports.py holds each command
to the heavy modules it may load.

    app.py       the group, run(argv, out, err) -> exit code, main()
    options.py   options several commands share
    output.py    standard output and error, files, the progress bar, errors as one line
    check.py snapshot.py init.py review.py migrate.py prove.py rules.py schema.py   the
                 commands
"""

from dbtruth.cli.app import cli, main, run

__all__ = ["cli", "main", "run"]
