"""The workload rules alone, in the registry's order: `dbtruth workload` imports these and not
the catalog rules. tests/test_conventions.py checks that this tuple is exactly the workload part
of RULES.
"""

from __future__ import annotations

from dbtruth.rules.workload.missing_index_for_query import missing_index_for_query
from dbtruth.rules.workload.plan_cost_over_ceiling import plan_cost_over_ceiling
from dbtruth.rules.workload.plan_shape_against_contract import plan_shape_against_contract
from dbtruth.rules.workload.query_does_not_plan import query_does_not_plan
from dbtruth.rules.workload.query_skips_contracted_index import query_skips_contracted_index
from dbtruth.rules.workload.sequential_scan_against_contract import (
    sequential_scan_against_contract,
)
from dbtruth.spec import WorkloadCheck

WORKLOAD_RULES: tuple[WorkloadCheck, ...] = (
    query_skips_contracted_index,
    sequential_scan_against_contract,
    plan_cost_over_ceiling,
    plan_shape_against_contract,
    query_does_not_plan,
    missing_index_for_query,
)
