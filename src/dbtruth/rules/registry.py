"""The rule registry: one explicit tuple, in code order. Catalog rules run in `check`,
migration rules (family M) in `migrate lint`, workload rules in `workload`.

Adding a rule touches its file, one line here (for a migration rule, in
migration_registry.py), and its fixture.
"""

from dbtruth.rules.decision_registry import DECISION_RULES
from dbtruth.rules.grain.boolean_flag_soup import boolean_flag_soup
from dbtruth.rules.grain.catch_all_table import catch_all_table
from dbtruth.rules.grain.entity_attribute_value_table import entity_attribute_value_table
from dbtruth.rules.grain.floating_point_money import floating_point_money
from dbtruth.rules.grain.polymorphic_association import polymorphic_association
from dbtruth.rules.grain.status_column_unconstrained import status_column_unconstrained
from dbtruth.rules.history.declared_period_without_overlap_guard import (
    declared_period_without_overlap_guard,
)
from dbtruth.rules.history.mutable_audit_table import mutable_audit_table
from dbtruth.rules.history.state_column_without_history import state_column_without_history
from dbtruth.rules.history.timestamp_without_time_zone import timestamp_without_time_zone
from dbtruth.rules.history.updated_at_without_trigger import updated_at_without_trigger
from dbtruth.rules.indexes.duplicate_index import duplicate_index
from dbtruth.rules.indexes.invalid_index import invalid_index
from dbtruth.rules.indexes.redundant_prefix_index import redundant_prefix_index
from dbtruth.rules.indexes.too_many_indexes import too_many_indexes
from dbtruth.rules.indexes.unused_index import unused_index
from dbtruth.rules.indexes.workload_references_missing_object import (
    workload_references_missing_object,
)
from dbtruth.rules.invariants.constraint_not_validated import constraint_not_validated
from dbtruth.rules.invariants.effective_period_without_guard import effective_period_without_guard
from dbtruth.rules.invariants.foreign_key_shaped_column_without_constraint import (
    foreign_key_shaped_column_without_constraint,
)
from dbtruth.rules.invariants.foreign_key_type_mismatch import foreign_key_type_mismatch
from dbtruth.rules.invariants.foreign_key_without_index import foreign_key_without_index
from dbtruth.rules.invariants.invariant_not_enforced import invariant_not_enforced
from dbtruth.rules.invariants.invariant_without_detective_control import (
    invariant_without_detective_control,
)
from dbtruth.rules.invariants.nullable_column_in_unique_key import nullable_column_in_unique_key
from dbtruth.rules.invariants.table_without_primary_key import table_without_primary_key
from dbtruth.rules.invariants.unique_ignores_soft_delete import unique_ignores_soft_delete
from dbtruth.rules.migration_registry import MIGRATION_RULES
from dbtruth.rules.operations.sequence_near_exhaustion import sequence_near_exhaustion
from dbtruth.rules.operations.serial_instead_of_identity import serial_instead_of_identity
from dbtruth.rules.operations.unlogged_table import unlogged_table
from dbtruth.rules.ops_registry import OPS_RULES
from dbtruth.rules.security.cross_tenant_foreign_key import cross_tenant_foreign_key
from dbtruth.rules.security.public_table_privileges import public_table_privileges
from dbtruth.rules.security.rls_not_forced import rls_not_forced
from dbtruth.rules.security.rls_without_policy import rls_without_policy
from dbtruth.rules.security.security_definer_without_search_path import (
    security_definer_without_search_path,
)
from dbtruth.rules.security.tenant_table_without_rls import tenant_table_without_rls
from dbtruth.rules.security.tenant_unique_without_tenant_key import tenant_unique_without_tenant_key
from dbtruth.rules.security.view_bypasses_rls import view_bypasses_rls
from dbtruth.rules.truth.projection_without_contract import projection_without_contract
from dbtruth.rules.truth.table_without_declared_role import table_without_declared_role
from dbtruth.rules.workload_registry import WORKLOAD_RULES
from dbtruth.spec import DecisionCheck, MigrationCheck, OpsCheck, RuleCheck, WorkloadCheck

RULES: tuple[RuleCheck | MigrationCheck | WorkloadCheck | OpsCheck | DecisionCheck, ...] = (
    boolean_flag_soup,
    status_column_unconstrained,
    polymorphic_association,
    catch_all_table,
    entity_attribute_value_table,
    floating_point_money,
    timestamp_without_time_zone,
    updated_at_without_trigger,
    state_column_without_history,
    mutable_audit_table,
    declared_period_without_overlap_guard,
    table_without_primary_key,
    foreign_key_without_index,
    foreign_key_shaped_column_without_constraint,
    constraint_not_validated,
    effective_period_without_guard,
    unique_ignores_soft_delete,
    nullable_column_in_unique_key,
    foreign_key_type_mismatch,
    invariant_not_enforced,
    invariant_without_detective_control,
    *MIGRATION_RULES,  # the migration rules, in migration_registry.py
    sequence_near_exhaustion,
    serial_instead_of_identity,
    unlogged_table,
    tenant_table_without_rls,
    rls_not_forced,
    rls_without_policy,
    cross_tenant_foreign_key,
    tenant_unique_without_tenant_key,
    public_table_privileges,
    security_definer_without_search_path,
    view_bypasses_rls,
    projection_without_contract,
    table_without_declared_role,
    duplicate_index,
    redundant_prefix_index,
    invalid_index,
    unused_index,
    too_many_indexes,
    workload_references_missing_object,
    *WORKLOAD_RULES,  # the workload rules, in workload_registry.py
    *OPS_RULES,  # the operations rules of `dbtruth ops`, in ops_registry.py
    *DECISION_RULES,  # the decision rules of `dbtruth adr check`, in decision_registry.py
)
