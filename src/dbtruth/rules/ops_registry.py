"""The operations rules alone, in the registry's order: `dbtruth ops` imports these and not the
catalog rules. tests/test_conventions.py checks that this tuple is exactly the ops part of
RULES.
"""

from __future__ import annotations

from dbtruth.rules.operations.blocked_session import blocked_session
from dbtruth.rules.operations.connection_headroom import connection_headroom
from dbtruth.rules.operations.data_checksums_off import data_checksums_off
from dbtruth.rules.operations.idle_in_transaction_session import idle_in_transaction_session
from dbtruth.rules.operations.index_bloat import index_bloat
from dbtruth.rules.operations.lock_wait_logging_off import lock_wait_logging_off
from dbtruth.rules.operations.long_running_transaction import long_running_transaction
from dbtruth.rules.operations.privileged_application_role import privileged_application_role
from dbtruth.rules.operations.replica_lag import replica_lag
from dbtruth.rules.operations.replication_slot_retaining_wal import (
    replication_slot_retaining_wal,
)
from dbtruth.rules.operations.role_without_timeouts import role_without_timeouts
from dbtruth.rules.operations.slow_query_logging_off import slow_query_logging_off
from dbtruth.rules.operations.statement_statistics_missing import statement_statistics_missing
from dbtruth.rules.operations.table_bloat import table_bloat
from dbtruth.rules.operations.table_never_analyzed import table_never_analyzed
from dbtruth.rules.operations.transaction_id_wraparound import transaction_id_wraparound
from dbtruth.rules.operations.wal_archiving_failing import wal_archiving_failing
from dbtruth.rules.operations.wal_archiving_off import wal_archiving_off
from dbtruth.spec import OpsCheck

OPS_RULES: tuple[OpsCheck, ...] = (
    blocked_session,
    idle_in_transaction_session,
    long_running_transaction,
    wal_archiving_off,
    wal_archiving_failing,
    replication_slot_retaining_wal,
    statement_statistics_missing,
    slow_query_logging_off,
    lock_wait_logging_off,
    role_without_timeouts,
    privileged_application_role,
    data_checksums_off,
    transaction_id_wraparound,
    table_bloat,
    table_never_analyzed,
    connection_headroom,
    replica_lag,
    index_bloat,
)
