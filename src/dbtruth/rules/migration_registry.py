"""The migration rules alone, in the registry's order: `migrate lint` imports these and not the
catalog rules (their modules, the catalog model and its helpers cost start-up for nothing).
tests/test_conventions.py checks that this tuple is exactly the migration part of RULES.
"""

from __future__ import annotations

from dbtruth.rules.migrations.add_column_rewrites import add_column_rewrites
from dbtruth.rules.migrations.add_stored_generated_column import add_stored_generated_column
from dbtruth.rules.migrations.blocking_maintenance import blocking_maintenance
from dbtruth.rules.migrations.column_type_change import column_type_change
from dbtruth.rules.migrations.concurrently_in_transaction import concurrently_in_transaction
from dbtruth.rules.migrations.constraint_without_not_valid import constraint_without_not_valid
from dbtruth.rules.migrations.destructive_drop import destructive_drop
from dbtruth.rules.migrations.enum_value_in_transaction import enum_value_in_transaction
from dbtruth.rules.migrations.index_named_by_table import index_named_by_table
from dbtruth.rules.migrations.index_not_concurrent import index_not_concurrent
from dbtruth.rules.migrations.missing_lock_timeout import missing_lock_timeout
from dbtruth.rules.migrations.mixed_migration_phases import mixed_migration_phases
from dbtruth.rules.migrations.not_null_without_backfill import not_null_without_backfill
from dbtruth.rules.migrations.rename_breaks_code import rename_breaks_code
from dbtruth.rules.migrations.set_not_null_without_check import set_not_null_without_check
from dbtruth.rules.migrations.unbatched_data_change import unbatched_data_change
from dbtruth.rules.migrations.workload_uses_dropped_column import workload_uses_dropped_column
from dbtruth.spec import MigrationCheck

MIGRATION_RULES: tuple[MigrationCheck, ...] = (
    index_not_concurrent,
    concurrently_in_transaction,
    constraint_without_not_valid,
    set_not_null_without_check,
    column_type_change,
    add_column_rewrites,
    add_stored_generated_column,
    destructive_drop,
    rename_breaks_code,
    enum_value_in_transaction,
    missing_lock_timeout,
    unbatched_data_change,
    blocking_maintenance,
    workload_uses_dropped_column,
    not_null_without_backfill,
    mixed_migration_phases,
    index_named_by_table,
)
