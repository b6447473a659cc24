"""Declarations in dbtruth.yaml checked against the catalog before the review believes them.

A declaration the catalog can refute is checked: the tables the authority map and the retention
section name must exist, a retention method that detaches partitions needs a partitioned table
that has partitions, and a workload contract's index and tables must exist. What survives is
still only declared; what fails turns the answer into "no" with the reason.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from dbtruth.inert import md_code
from dbtruth.manifest.design import Retention, WorkloadQuery
from dbtruth.model import Table
from dbtruth.review.evidence import listing
from dbtruth.review.facts import Facts
from dbtruth.words import counted

# "yearly partitions detached", "drop the oldest partition", "partition pruning": a method that
# works on partitions can only run on a partitioned table.
_PARTITION_METHOD = re.compile(r"\bpartition", re.IGNORECASE)


def unmatched(facts: Facts, keys: Iterable[str]) -> list[str]:
    """Manifest keys (names or globs) that name no table or view in the catalog."""
    return [key for key in keys if not facts.matches(key)]


def _tables(facts: Facts, pattern: str) -> list[Table]:
    return [t for t in facts.catalog.tables if fnmatch.fnmatchcase(t.qualified, pattern)]


def retention_check(facts: Facts, pattern: str, retention: Retention) -> tuple[bool, str]:
    """(holds, what the catalog says about it) for one retention entry."""
    if not facts.matches(pattern):
        return False, f"{md_code(pattern)} names no table in the catalog"
    if not retention.method:
        return False, f"no purge method for {md_code(pattern)}"
    if not _PARTITION_METHOD.search(retention.method):
        return True, "the method is not visible in the catalog"
    tables = _tables(facts, pattern)
    flat = [t.qualified for t in tables if t.kind != "partitioned table"]
    if flat or not tables:
        # A view matched by the key is not partitioned either.
        which = "the table" if flat in ([pattern], []) else listing(flat)
        return False, f"the method works on partitions, but {which} is not partitioned"
    partitions = {
        t.qualified: sum(1 for p in facts.catalog.tables if p.partition_of == t.qualified)
        for t in tables
    }
    empty = [name for name, n in partitions.items() if n == 0]
    if empty:
        which = "the table" if empty == [pattern] else listing(empty)
        return False, f"the method works on partitions, but {which} has none"
    return True, f"partitioned, {counted(sum(partitions.values()), 'partition')} in the catalog"


def contract_problems(facts: Facts, query: WorkloadQuery) -> list[str]:
    """What a workload query's index contract names that the catalog does not have."""
    contract = query.contract
    if contract is None:
        return []
    problems = []
    indexes = {i.qualified for i in facts.catalog.indexes}
    if contract.uses_index and contract.uses_index not in indexes:
        problems.append(f"index {md_code(contract.uses_index)} does not exist")
    problems += [
        f"table {md_code(name)} does not exist"
        for name in contract.no_seq_scan_on
        if not facts.matches(name)
    ]
    return problems
