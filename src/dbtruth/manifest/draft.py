"""`dbtruth init`: a first dbtruth.yaml drafted from a catalog, walking the playbook's kata.

What the catalog shows is written down (every unique, check, foreign key and exclusion
constraint becomes an invariant pointing at its enforcing object; the tenant key; roles guessed
from names and structure), every guess is marked `guess: true`, and what only people know is
left as an explicit TODO — never an invented answer.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from dbtruth.manifest.settings import DEFAULT_TENANT_KEYS
from dbtruth.model import Catalog, Constraint, Table

TODO_OWNER = "TODO: which team owns this data and its corrections?"
_AUDIT = re.compile(r"(^|_)(audit|history|transition|transitions|ledger|journal|log|logs)$")
_OUTBOX = re.compile(r"(^|_)outbox")
_CACHE = re.compile(r"(^|_)(cache|cached)(_|$)")
_SNAPSHOT = re.compile(r"(^|_)(snapshot|snapshots)(_|$)")
_REFERENCE_NAMES = re.compile(
    r"(^|_)(type|types|kind|kinds|status|statuses|state|states|code|codes|country|countries|"
    r"currency|currencies|lookup|category|categories)$"
)

KATA = """\
# dbtruth.yaml — first draft written by `dbtruth init` from {source}.
#
# The playbook's kata, and where its answers go in this file:
#   1. Name the truth.            -> truth: which table is canonical, which is derived
#   2. Name the actors.           -> truth: the owner of every table
#   3. Name the lifecycle.        -> invariants (kind: range / cross-row) on state columns
#   4. Name the illegal states.   -> invariants: statement + how the database refuses them
#   5. Name the writes.           -> workload (role: write)
#   6. Name the reads.            -> workload (role: read / report) with index contracts
#   7. Name the history.          -> time: event, effective and transaction time columns
#   8. Name the boundaries.       -> tenancy, and the roles integration / outbox
#   9. Name the failures.         -> operations: backup, restore drill, monitoring, runbooks
#  10. Name the evolution path.   -> decisions: the ADR folder
#
# Entries marked `guess: true` were inferred from names and structure: confirm each, then
# delete the marker. Every "TODO" is a question only the people who own the data can answer.
"""


def _role(catalog: Catalog, table: Table, referenced_by: int) -> dict[str, Any]:
    name = table.name.lower()
    if _OUTBOX.search(name):
        role = "outbox"
    elif _AUDIT.search(name):
        role = "audit"
    elif _CACHE.search(name):
        role = "cache"
    elif _SNAPSHOT.search(name):
        role = "snapshot"
    elif _REFERENCE_NAMES.search(name) or (referenced_by >= 3 and len(table.columns) <= 4):
        role = "reference"
    else:
        role = "truth"
    entry: dict[str, Any] = {"role": role, "owner": TODO_OWNER, "guess": True}
    if role in ("cache", "snapshot"):
        entry.update(
            {
                "sources": ["TODO: tables this copy is derived from"],
                "rebuild": "TODO: how it is rebuilt from its sources",
                "freshness": "TODO: how stale it may be",
                "drift_check": "TODO: query that detects drift from the sources",
            }
        )
    return entry


def _statement(constraint: Constraint) -> tuple[str, str]:
    """(kind, statement) of the invariant a constraint enforces."""
    columns = ", ".join(constraint.columns)
    table = constraint.table_qualified
    if constraint.kind in ("primary key", "unique"):
        return "uniqueness", f"no two rows of {table} share ({columns})"
    if constraint.kind == "foreign key":
        return "existence", (
            f"every {table} ({columns}) refers to an existing {constraint.ref_qualified} row"
        )
    if constraint.kind == "exclusion":
        return "non-overlap", f"no two rows of {table} conflict: {constraint.definition}"
    return "range", f"every row of {table} satisfies {constraint.definition}"


def draft(catalog: Catalog) -> str:
    """The text of a first dbtruth.yaml for `catalog`."""
    referenced: dict[str, int] = {}
    for constraint in catalog.constraints:
        if constraint.kind == "foreign key" and constraint.ref_qualified:
            referenced[constraint.ref_qualified] = referenced.get(constraint.ref_qualified, 0) + 1
    tables = [t for t in catalog.tables if t.partition_of is None]
    truth: dict[str, Any] = {
        t.qualified: _role(catalog, t, referenced.get(t.qualified, 0)) for t in tables
    }
    for view in catalog.views:
        truth[view.qualified] = {
            "role": "projection",
            "owner": TODO_OWNER,
            "guess": True,
            "sources": list(view.depends_on),
            "rebuild": "a view: always current"
            if not view.materialized
            else "TODO: when is REFRESH MATERIALIZED VIEW run?",
            "freshness": "live" if not view.materialized else "TODO: how stale it may be",
            "drift_check": "none needed for a view"
            if not view.materialized
            else "TODO: query that compares it with its sources",
        }
    invariants: list[dict[str, Any]] = []
    for constraint in catalog.constraints:
        if constraint.inherited:
            continue
        kind, statement = _statement(constraint)
        invariants.append(
            {
                "id": f"{constraint.schema}.{constraint.table}.{constraint.name}",
                "statement": statement,
                "kind": kind,
                "tables": [constraint.table_qualified],
                "columns": list(constraint.columns),
                "enforcement": "exclusion" if constraint.kind == "exclusion" else "constraint",
                "object": f"{constraint.schema}.{constraint.name}",
                "guess": True,
            }
        )
    for index in catalog.indexes:
        if index.unique and not index.constraint and index.valid:
            invariants.append(
                {
                    "id": f"{index.schema}.{index.table}.{index.name}",
                    "statement": f"no two rows of {index.table_qualified} share "
                    f"({', '.join(index.keys)})"
                    + (f" where {index.predicate}" if index.predicate else ""),
                    "kind": "uniqueness",
                    "tables": [index.table_qualified],
                    "enforcement": "index",
                    "object": index.qualified,
                    **({"predicate": index.predicate} if index.predicate else {}),
                    "guess": True,
                }
            )
    keys = sorted({c.name for t in tables for c in t.columns if c.name in DEFAULT_TENANT_KEYS})
    document: dict[str, Any] = {
        # Without a detected key the default keys stay in force (see the TODO below).
        **({"tenancy": {"key": keys}} if keys else {}),
        "truth": truth,
        "invariants": invariants,
        "workload": [],
        "time": {},
        "retention": {},
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    open_questions = """
# TODO (kata 8): the tenant boundary — `tenancy: {key: ..., exempt: [...]}` if tables are
#   scoped by a tenant column other than tenant_id / org_id / organization_id / account_id.
# TODO (kata 3-4): the illegal states no constraint above expresses — lifecycle transitions,
#   cross-row rules, cross-system rules — each as an invariant with `enforcement: application`
#   or `reconciliation` and a `detective_query`.
# TODO (kata 5-6): the top writes, reads and reports under `workload`, with calls_per_minute,
#   latency_ms and an index contract for the hot ones.
# TODO (kata 7): under `time`, which columns carry event, effective and transaction time.
# TODO (kata 9): `operations:` backup method, last restore drill (date, minutes), monitoring.
# TODO (kata 10): `decisions: {adr_folder: ...}` where the architecture decisions are recorded.
"""
    return KATA.format(source=catalog.source) + "\n" + body + open_questions
