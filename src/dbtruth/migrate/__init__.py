"""Migration safety: `dbtruth migrate lint`.

    lint.py    the migration rules over a set, statement by statement in apply order
    blast.py   how much a lock costs on the target: sizes and write rates of a live database
    replay.py  the migrations run on a clone, and the locks and rewrites PostgreSQL took
    run.py     the entry function, lint_migrations(LintOptions) -> MigrationLint

The lock table the rules and the replay share is dbtruth.rules.migration_locks: the migration
rules read it, and rules sit below this package. This module imports nothing, so that the
command's help reads its defaults without loading the parser.
"""

DEFAULT_PG_VERSION = 140000  # the oldest PostgreSQL still supported in 2026
# Lock findings on a live target's tables with fewer rows are info: the lock is brief there.
DEFAULT_SMALL_TABLE_ROWS = 10_000
