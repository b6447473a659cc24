"""The playbook's final checklist (§6), ten parts, every question answered with how it is known.

Questions are phrased so that "yes" is the healthy answer. "Yes" needs the database itself: a
catalog fact or a rule result on something that exists, or a live server's settings and
statistics. What dbtruth.yaml or a document says is "declared" (checked against the catalog
where it can be, and "no" when the catalog refutes it); `dbtruth init`'s drafts and name
heuristics are "guess"; a question about something the database does not have is "n/a";
otherwise "unknown" with the reason and where the answer belongs (usually dbtruth.yaml or an ADR).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dbtruth.inert import md_code, md_prose, md_text
from dbtruth.review.declarations import contract_problems, retention_check, unmatched
from dbtruth.review.evidence import declared_answer, finding_sample, listing, rule_answer
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import (
    app_enforced_answer,
    concurrency_answer,
    cross_system_answer,
    db_enforced_answer,
    monitored_answer,
    named_answer,
)
from dbtruth.review.model import Answer, ChecklistItem, ChecklistPart
from dbtruth.review.plans import where_planned
from dbtruth.review.signals import (
    idempotency_keys,
    json_columns,
    lifecycle_tables,
    outbox_tables,
    personal_data_columns,
    query_shapes,
    tenant_tables,
    version_columns,
)
from dbtruth.rules.naming import tokens
from dbtruth.words import counted, verb

Check = Callable[[Facts], tuple[Answer, str]]
NO_TRUTH = "no `truth` section in dbtruth.yaml: the authority map is not written yet"
NO_WORKLOAD = "no `workload` section in dbtruth.yaml: the top queries are not named"
RESTORE_DRILL_MAX_AGE = timedelta(days=365)
# Roles that hold a copy of other tables' data, and so owe a contract to their consumers.
COPY_ROLES = ("projection", "cache", "snapshot", "integration", "outbox")


def _confirmed_roles(facts: Facts) -> dict[str, str]:
    return {k: v.role for k, v in facts.manifest.truth.items() if not v.guess}


def _guessed_roles(facts: Facts) -> list[str]:
    return [k for k, v in facts.manifest.truth.items() if v.guess]


def _unknown_truth_keys(facts: Facts) -> tuple[Answer, str] | None:
    """The authority map naming tables the catalog does not have is refuted, not declared."""
    missing = unmatched(facts, facts.manifest.truth)
    if missing:
        return Answer.NO, f"`truth` names tables the catalog does not have: {listing(missing)}"
    return None


# --- 6.1 Truth and ownership --------------------------------------------------------------


def _source_of_truth(facts: Facts) -> tuple[Answer, str]:
    truth = facts.manifest.truth
    if not truth:
        return Answer.UNKNOWN, NO_TRUTH
    refuted = _unknown_truth_keys(facts)
    if refuted:
        return refuted
    confirmed = [k for k, r in _confirmed_roles(facts).items() if r == "truth"]
    if confirmed:
        return (
            Answer.DECLARED,
            f"{counted(len(confirmed), 'table')} declared truth: {listing(confirmed)}",
        )
    guesses = _guessed_roles(facts)
    if guesses:
        return Answer.GUESS, (
            f"{counted(len(guesses), 'role')} guessed by `dbtruth init`, none confirmed yet"
        )
    return Answer.UNKNOWN, "no table is declared the truth in the authority map"


def _copies(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.truth:
        return Answer.UNKNOWN, NO_TRUTH
    refuted = _unknown_truth_keys(facts)
    if refuted:
        return refuted
    if not facts.ran("T002"):
        return Answer.UNKNOWN, "rule T002 did not run (not selected)"
    unmapped = facts.findings("T002")
    if unmapped:
        return Answer.NO, f"tables without a role: {finding_sample(unmapped)}"
    copies = [k for k, r in facts.manifest.truth.items() if r.role != "truth"]
    text = (
        "every table has a role in the authority map (T002); derived or supporting tables: "
        f"{listing(copies) or 'none'}"
    )
    guesses = _guessed_roles(facts)
    if guesses:
        return Answer.GUESS, f"{text}; {counted(len(guesses), 'role')} guessed by `dbtruth init`"
    return Answer.DECLARED, text


def _owners(facts: Facts) -> tuple[Answer, str]:
    truth = facts.manifest.truth
    if not truth:
        return Answer.UNKNOWN, NO_TRUTH
    missing = [k for k, r in truth.items() if not r.owner or r.owner.upper().startswith("TODO")]
    if missing:
        return (
            Answer.NO,
            f"{len(missing)} of {len(truth)} entries have no owner: {listing(missing)}",
        )
    return Answer.DECLARED, f"all {len(truth)} entries of the authority map name an owner"


def _lifecycle_owner(facts: Facts) -> tuple[Answer, str]:
    tables = lifecycle_tables(facts)
    if not tables:
        return Answer.UNKNOWN, "no status/state column found: the lifecycle is not in the schema"
    names = [t.qualified for t in tables]
    if not facts.manifest.truth:
        return Answer.UNKNOWN, f"lifecycle columns in {listing(names)}; {NO_TRUTH}"
    unowned = []
    for name in names:
        declared = facts.role_of(name)
        owner = declared[1].owner if declared else None
        if not owner or owner.upper().startswith("TODO"):
            unowned.append(name)
    if unowned:
        return Answer.NO, f"lifecycle tables without an owner: {listing(unowned)}"
    return Answer.DECLARED, f"lifecycle tables {listing(names)} have owners in the authority map"


def _correction_path(facts: Facts) -> tuple[Answer, str]:
    audit = [k for k, r in _confirmed_roles(facts).items() if r == "audit"]
    if audit and facts.ran("H004") and not facts.findings("H004"):
        return Answer.YES, (
            f"corrections are new rows: the catalog shows the audit tables {listing(audit)} "
            "guarded against UPDATE and DELETE (H004)"
        )
    if audit:
        return Answer.NO, f"audit tables {listing(audit)} can be edited (H004)"
    guessed = [k for k, r in facts.manifest.truth.items() if r.guess and r.role == "audit"]
    return Answer.UNKNOWN, (
        "no audit table declared"
        + (f" (`dbtruth init` guessed {listing(guessed)}, not confirmed)" if guessed else "")
        + "; how a wrong fact is corrected (new row, reversal, adjustment) belongs in an ADR"
    )


def retention_answer(facts: Facts) -> tuple[Answer, str]:
    """Each retention entry checked against the catalog: its table exists, and a method that
    works on partitions has a partitioned table to work on. The purge itself is declared."""
    retention = facts.manifest.retention
    if not retention:
        return Answer.UNKNOWN, "no `retention` section in dbtruth.yaml"
    problems: list[str] = []
    notes: list[str] = []
    for pattern, entry in retention.items():
        holds, text = retention_check(facts, pattern, entry)
        (notes if holds else problems).append(f"{md_code(pattern)}: {text}")
    if problems:
        return Answer.NO, "declared retention the catalog contradicts: " + "; ".join(problems)
    return Answer.DECLARED, (
        f"retention and purge method declared for {listing(list(retention))} ("
        + "; ".join(notes)
        + ")"
    )


# --- 6.2 Entity and grain -------------------------------------------------------------------


def _temporal_validity(facts: Facts) -> tuple[Answer, str]:
    periods = [k for k, t in facts.manifest.time.items() if t.effective is not None]
    if periods or facts.findings("I005"):
        return rule_answer(
            facts,
            ["H005", "I005"],
            f"effective periods declared for {listing(periods) or 'no table'} are guarded",
            "effective periods without a non-overlap guard",
        )
    return Answer.UNKNOWN, "no effective-dated table declared in `time` or found by column names"


def _history(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts, ["H003", "H004"], "state columns have history", "history gaps"
    )
    if answer is Answer.YES and not lifecycle_tables(facts):
        return Answer.UNKNOWN, "no state column found, so no history is implied by the schema"
    return answer, text


# --- 6.3 Invariants: see invariants.py ----------------------------------------------------


# --- 6.4 Schema -----------------------------------------------------------------------------


def _nullable(facts: Facts) -> tuple[Answer, str]:
    columns = [c for t in facts.tables for c in t.columns]
    nullable = sum(1 for c in columns if not c.not_null)
    return Answer.UNKNOWN, (
        f"{nullable} of {len(columns)} columns are nullable; the catalog shows which, not why "
        "(a live target can be mined for never-null columns)"
    )


def _json_contract(facts: Facts) -> tuple[Answer, str]:
    checked, unchecked = json_columns(facts)
    if not checked and not unchecked:
        return Answer.NA, "no json/jsonb columns"
    if not unchecked:
        return Answer.YES, f"every json column has a CHECK: {listing(checked)}"
    return Answer.UNKNOWN, (
        f"{counted(len(unchecked), 'json column')} without a CHECK ({listing(unchecked)}); "
        "their contract may live in code: name it"
    )


def _enum_evolvable(facts: Facts) -> tuple[Answer, str]:
    enums = sorted({c.type for t in facts.tables for c in t.columns if c.is_enum})
    if not enums and not lifecycle_tables(facts):
        return Answer.NA, "no enum type and no status/state column"
    answer, text = rule_answer(
        facts, ["G002"], "status columns are constrained", "free-text status columns"
    )
    if enums:
        text += (
            f"; {counted(len(enums), 'enum type')} ({listing(enums)}): values can be added and "
            "renamed in place (ADD VALUE, RENAME VALUE), not removed without a new type and a "
            "rewrite of every column using it"
        )
    return answer, text


def _natural_keys(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts, ["I006", "I007", "S005"], "unique keys hold as written", "unique keys with gaps"
    )
    keys = sum(1 for c in facts.catalog.constraints if c.kind == "unique" and not c.inherited)
    keys += sum(1 for i in facts.catalog.indexes if i.unique and i.constraint is None)
    if answer is Answer.YES and not keys:
        return Answer.NA, "no unique constraint or unique index besides primary keys"
    return answer, text


def _index_cost(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts,
        ["X001", "X002", "X005"],
        "no duplicate, redundant or excess indexes",
        "indexes that only cost writes",
    )
    if answer is Answer.YES and not facts.catalog.indexes:
        return Answer.NA, "no indexes"
    return answer, text


def _audit_columns(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts, ["H004"], "audit tables are append-only", "audit tables that can be rewritten"
    )
    audit = [k for k, r in facts.manifest.truth.items() if r.role == "audit"]
    named = [t.qualified for t in facts.tables if "audit" in tokens(t.name)]
    if answer is Answer.YES and not audit and not named:
        return Answer.NA, "no table declared or named as an audit log"
    return answer, text


# --- 6.5 Transactions -----------------------------------------------------------------------


def _declared_transactions(facts: Facts) -> tuple[Answer, str]:
    practices = facts.manifest.practices
    return declared_answer(
        facts.declared(practices.transaction_boundaries if practices else None),
        "not visible in a schema: write the commit boundaries, isolation and retries down "
        "and point `practices.transaction_boundaries` at it",
    )


def _optimistic(facts: Facts) -> tuple[Answer, str]:
    found = version_columns(facts)
    if found:
        return Answer.GUESS, (
            f"columns named like optimistic-lock versions: {listing(found)} (a name heuristic: "
            "whether writers compare them is not in the schema)"
        )
    return Answer.UNKNOWN, "no version column found; lost updates are prevented elsewhere or not"


def idempotency_answer(facts: Facts) -> tuple[Answer, str]:
    found = idempotency_keys(facts)
    if found:
        return Answer.GUESS, (
            f"unique keys on columns named like idempotency/dedup keys: {listing(found)} "
            "(the uniqueness is in the catalog; that retries send the key is a name heuristic)"
        )
    return Answer.UNKNOWN, "no unique key named like an idempotency, request or event id"


def _outbox(facts: Facts) -> tuple[Answer, str]:
    found = outbox_tables(facts)
    if not found:
        return Answer.UNKNOWN, (
            "no outbox table: either no external side effects, or they happen outside the commit"
        )
    declared = [k for k, r in _confirmed_roles(facts).items() if r == "outbox"]
    if declared:
        return (
            Answer.DECLARED,
            f"side effects leave through the declared outbox {listing(declared)}",
        )
    return Answer.GUESS, f"tables named like an outbox: {listing(found)} (a name heuristic)"


# --- 6.6 Query and index --------------------------------------------------------------------


def _top_queries(facts: Facts) -> tuple[Answer, str]:
    workload = facts.manifest.workload
    if not workload:
        return Answer.UNKNOWN, NO_WORKLOAD
    rated = [q.name for q in workload if q.calls_per_minute is not None]
    return Answer.DECLARED, f"{len(workload)} queries named, {len(rated)} with a rate"


def _predicates(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.workload:
        return Answer.UNKNOWN, NO_WORKLOAD
    answer, text = rule_answer(
        facts,
        ["X006"],
        "every declared query parses and names existing objects",
        "queries naming missing objects",
    )
    return (Answer.DECLARED if answer is Answer.YES else answer), text


def _sort(facts: Facts) -> tuple[Answer, str]:
    shapes = [s for s in query_shapes(facts) if s.parsed]
    if not shapes:
        return Answer.UNKNOWN, NO_WORKLOAD
    unordered = [s.name for s in shapes if s.limit_without_order]
    if unordered:
        return Answer.NO, f"LIMIT without ORDER BY returns arbitrary rows: {listing(unordered)}"
    return Answer.DECLARED, "every declared query with a LIMIT has an ORDER BY"


def _pagination(facts: Facts) -> tuple[Answer, str]:
    shapes = [s for s in query_shapes(facts) if s.parsed and s.paginated]
    if not shapes:
        return Answer.UNKNOWN, "no paginated query declared"
    offset = [s.name for s in shapes if s.offset]
    if offset:
        return Answer.NO, f"OFFSET pagination (cost grows with the page): {listing(offset)}"
    return Answer.DECLARED, f"{len(shapes)} declared paginated queries use LIMIT without OFFSET"


def index_aligned_answer(facts: Facts) -> tuple[Answer, str]:
    reads = [q for q in facts.manifest.workload if q.role != "write"]
    if not reads:
        return Answer.UNKNOWN, "no read or report query declared"
    broken = [
        f"{md_text(q.name)}: {problem}" for q in reads for problem in contract_problems(facts, q)
    ]
    if broken:
        return Answer.NO, "index contracts name what the catalog does not have: " + "; ".join(
            broken
        )
    planned = facts.plans.planned
    if planned is not None:
        breaking = sorted(
            {md_text(q.name) for q in reads if q.contract and facts.plans.breaches(q.name)}
        )
        if breaking:
            return Answer.NO, (
                f"the plan breaks the index contract of {listing(breaking)} "
                f"({where_planned(facts)}; `dbtruth workload` shows the plans)"
            )
    without = [q.name for q in reads if q.contract is None]
    if without:
        return Answer.UNKNOWN, f"read queries without an index contract: {listing(without)}"
    if planned is not None and facts.plans.on_live:
        return Answer.YES, (
            f"all {len(reads)} read queries keep their index contract in the plans of the live "
            "target"
        )
    if planned is not None:
        return Answer.DECLARED, (
            f"all {len(reads)} read queries carry an index contract, kept by the plans on the "
            "copy of the SQL files, which holds none of production's sizes"
        )
    return Answer.DECLARED, (
        f"all {len(reads)} read queries carry an index contract naming objects that exist; "
        f"not planned ({facts.plans.absent})"
    )


def _plans_tested(facts: Facts) -> tuple[Answer, str]:
    planned = facts.plans.planned
    if planned is None:
        return Answer.UNKNOWN, f"no plan in this review: {facts.plans.absent}"
    if facts.plans.on_live:
        return Answer.YES, (
            f"{len(planned.planned)} declared queries planned on the live target with its own "
            "statistics"
        )
    return Answer.UNKNOWN, (
        f"{len(planned.planned)} declared queries planned only on the copy of the SQL files, "
        "which holds none of production's sizes; `dbtruth workload URL --twin` plans them with "
        "production's statistics"
    )


def _statistics(facts: Facts) -> tuple[Answer, str]:
    stats = facts.catalog.stats
    if stats is None:
        return Answer.UNKNOWN, "needs a live target: statistics come from the running server"
    if not stats.tables:
        return Answer.NA, "the live database has no tables"
    never = [f"{t.schema}.{t.name}" for t in stats.tables if t.row_estimate < 0]
    if never:
        return Answer.NO, f"tables never analyzed: {listing(never)}"
    return Answer.YES, f"all {len(stats.tables)} tables have planner statistics (live)"


# --- 6.7 Evolution --------------------------------------------------------------------------


def _practice(field_name: str, missing: str) -> Check:
    def check(facts: Facts) -> tuple[Answer, str]:
        practices = facts.manifest.practices
        value = getattr(practices, field_name) if practices else None
        return declared_answer(facts.declared(value), missing)

    return check


def _validation(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts, ["I004"], "no constraint is left NOT VALID", "constraints never validated"
    )
    if answer is not Answer.YES:
        return answer, text
    watched = [i.id for i in facts.manifest.invariants if i.detective_query and not i.guess]
    if not watched:
        return Answer.UNKNOWN, text + "; no detective query is declared to validate data"
    return Answer.DECLARED, text + f"; detective queries declared for {listing(watched)}"


def _rollback(facts: Facts) -> tuple[Answer, str]:
    written, empty = facts.down_migrations
    blank = (
        f"; {counted(len(empty), 'down file')} {verb(len(empty), 'holds', 'hold')} no statement"
        if empty
        else ""
    )
    if written:
        return Answer.DECLARED, (
            f"{counted(len(written), 'down migration file')} with statements (files, not a "
            f"tested rollback){blank}"
        )
    if empty:
        return Answer.UNKNOWN, (
            f"{counted(len(empty), 'down migration file')}, none with a statement: no rollback "
            "is written; name the roll-forward plan in an ADR"
        )
    return Answer.UNKNOWN, "no down migrations in the target; name the roll-forward plan in an ADR"


def copies_contract_answer(facts: Facts) -> tuple[Answer, str]:
    truth = facts.manifest.truth
    copies = [k for k, r in truth.items() if r.role in COPY_ROLES]
    if not copies:
        if truth and not _guessed_roles(facts) and facts.ran("T002") and not facts.findings("T002"):
            return Answer.NA, "the authority map covers every table and declares no copy"
        return Answer.UNKNOWN, "no projection, cache, snapshot or integration copy declared"
    answer, text = rule_answer(
        facts,
        ["T001"],
        f"copies {listing(copies)} declare sources, rebuild, freshness, drift",
        "copies without a contract",
    )
    if answer is not Answer.YES:
        return answer, text
    guessed = [k for k in copies if truth[k].guess]
    if guessed:
        return Answer.GUESS, f"{text}; the contract of {listing(guessed)} drafted by `dbtruth init`"
    return Answer.DECLARED, text


# --- 6.8 Security and privacy ---------------------------------------------------------------


def tenant_boundary_answer(facts: Facts) -> tuple[Answer, str]:
    tables = tenant_tables(facts)
    if not tables:
        keys = md_text(", ".join(facts.manifest.tenancy.key))
        return (
            Answer.UNKNOWN,
            f"no table carries a tenant key ({keys}): single-tenant, or set tenancy.key",
        )
    return rule_answer(
        facts,
        ["S001", "S004", "S005"],
        f"{len(tables)} tenant tables: RLS on, references and unique keys carry the tenant",
        "tenant boundary gaps",
    )


def _rls(facts: Facts) -> tuple[Answer, str]:
    if not tenant_tables(facts):
        rls = [t.qualified for t in facts.tables if t.rls_enabled]
        return Answer.UNKNOWN, f"no tenant tables; RLS enabled on {listing(rls) or 'no table'}"
    return rule_answer(
        facts,
        ["S001", "S002", "S003", "S008"],
        "RLS enabled, forced and not bypassed by views",
        "RLS gaps",
    )


def _export_boundary(facts: Facts) -> tuple[Answer, str]:
    """Who can read (and so export) the data: PUBLIC reads are a "no" whatever else holds;
    views over row-level-secured tables must not bypass it (S008); with neither, the boundary
    is grants to roles whose purpose the catalog does not say."""
    catalog = facts.catalog
    public = sorted(
        {
            g.object_qualified
            for g in catalog.grants
            if g.grantee == "PUBLIC"
            and g.privilege == "SELECT"
            and catalog.extension_of(g.schema, g.object) is None
        }
    )
    if public:
        return Answer.NO, (
            f"SELECT granted to PUBLIC on {listing(public)}: every role, present and future, "
            "can read and export them"
        )
    secured = [t.qualified for t in facts.tables if t.rls_enabled]
    if not secured:
        return Answer.UNKNOWN, (
            "no table has row-level security and none is readable by PUBLIC: who may read and "
            "export the data rests on grants to roles whose purpose the catalog does not say"
        )
    return rule_answer(
        facts,
        ["S008"],
        f"no PUBLIC reads; no view another role may read bypasses the policies of the "
        f"{counted(len(secured), 'row-level-secured table')}",
        "views that bypass RLS",
        info_holds=True,  # S008's info: a view only its owner may read
    )


def _sensitive(facts: Facts) -> tuple[Answer, str]:
    found = personal_data_columns(facts)
    if not found:
        return Answer.UNKNOWN, "no column named like personal data; classification not declared"
    return Answer.UNKNOWN, (
        f"{counted(len(found), 'column')} named like personal data ({listing(found)}); "
        "dbtruth.yaml "
        "has no classification for them yet"
    )


def _erasure(facts: Facts) -> tuple[Answer, str]:
    copies = [k for k, r in facts.manifest.truth.items() if r.role in COPY_ROLES]
    if copies:
        return Answer.UNKNOWN, f"an erasure must also reach the copies {listing(copies)}"
    return (
        Answer.UNKNOWN,
        "erasure propagation is not described; list where personal data is copied",
    )


# --- 6.9 Operations -------------------------------------------------------------------------


def _monitoring(*kinds: str) -> Check:
    def check(facts: Facts) -> tuple[Answer, str]:
        operations = facts.manifest.operations
        if operations is None:
            return Answer.UNKNOWN, "no `operations` section in dbtruth.yaml"
        declared = [k for k in kinds if k in operations.monitoring]
        if len(declared) == len(kinds):
            return Answer.DECLARED, f"declared in operations.monitoring: {', '.join(kinds)}"
        missing = [k for k in kinds if k not in operations.monitoring]
        if "slow_queries" in missing:
            answer, text = slow_query_statistics(facts)
            if answer is Answer.YES:
                return answer, text
        return Answer.NO, f"operations.monitoring lacks {', '.join(missing)}"

    return check


def slow_query_statistics(facts: Facts) -> tuple[Answer, str]:
    """pg_stat_statements collects only when the server preloads it, which only a live server
    shows; an extension in the schema alone is not monitoring."""
    if not any(e.name == "pg_stat_statements" for e in facts.catalog.extensions):
        if not facts.catalog.is_live:
            # the scratch copy has what the SQL files create; production may well have it
            return Answer.UNKNOWN, (
                "the SQL files do not create pg_stat_statements; whether the server runs it "
                "shows only on a live database"
            )
        return Answer.UNKNOWN, "pg_stat_statements is not installed"
    stats = facts.catalog.stats
    preload = dict(stats.settings).get("shared_preload_libraries", "") if stats else ""
    if "pg_stat_statements" in preload:
        return Answer.YES, "pg_stat_statements installed and preloaded (live server)"
    return Answer.UNKNOWN, (
        "pg_stat_statements is installed; whether the server preloads it and anyone reads it "
        "is not visible here"
    )


def backup_answer(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    if operations is None or operations.backup is None:
        return Answer.UNKNOWN, "no backup declared in operations.backup"
    return Answer.DECLARED, f"declared: {md_prose(operations.backup.method)}"


def restore_answer(facts: Facts) -> tuple[Answer, str]:
    measured = _measured_drill(facts)
    if measured is not None:
        return measured
    operations = facts.manifest.operations
    if operations is None or operations.restore_drill is None:
        # Nothing recorded is not evidence that no drill happened: unknown, which the
        # maturity model still counts as missed (a drill nobody can show proves nothing).
        return Answer.UNKNOWN, (
            "no restore drill recorded (`dbtruth drill restore --record`, or "
            "operations.restore_drill in dbtruth.yaml): a backup never restored is an assumption"
        )
    drill = operations.restore_drill
    age = facts.today - drill.last
    minutes = f", took {drill.duration_minutes:g} min" if drill.duration_minutes else ""
    if age > RESTORE_DRILL_MAX_AGE:
        return Answer.NO, f"last restore drill {drill.last} is {age.days} days old{minutes}"
    return Answer.DECLARED, (
        f"declared restore drill on {drill.last} ({age.days} days ago{minutes})"
    )


def _measured_drill(facts: Facts) -> tuple[Answer, str] | None:
    """The latest drill `dbtruth drill restore --record` measured, when dbtruth.yaml points at
    its history: a measurement outranks a declaration."""
    history = facts.drill_history
    if history is None or not history[1]:
        return None
    path, records = history
    latest = records[-1]
    age = facts.today - latest.day
    where = md_code(path.name)
    if not latest.passed:
        return Answer.NO, f"the last measured restore drill ({latest.day}, {where}) failed"
    if age > RESTORE_DRILL_MAX_AGE:
        return Answer.NO, (
            f"the last measured restore drill passed on {latest.day}, {age.days} days ago ({where})"
        )
    return Answer.YES, (
        f"measured: a restore drill on {latest.day} ({age.days} days ago) restored and verified "
        f"{latest.tables} tables, RTO {latest.rto_seconds:,.0f} s ({where}, dbtruth "
        f"{md_text(latest.dbtruth)})"
    )


def runbooks_answer(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    if operations is None or not operations.runbooks:
        return Answer.UNKNOWN, "no runbooks listed in operations.runbooks"
    declared = [facts.declared(r) for r in operations.runbooks]
    missing = [d.text for d in declared if d is not None and d.exists is False]
    if missing:
        return Answer.NO, f"runbooks named but missing: {listing(missing)}"
    return (
        Answer.DECLARED,
        f"{counted(len(declared), 'runbook')} declared: {listing(operations.runbooks)}",
    )


def _capacity(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    return declared_answer(
        facts.declared(operations.capacity_model if operations else None),
        "no capacity model named in operations.capacity_model",
    )


# --- 6.10 Decision record -------------------------------------------------------------------


def _adr_part(part: str, label: str) -> Check:
    def check(facts: Facts) -> tuple[Answer, str]:
        if facts.manifest.decisions is None:
            return Answer.UNKNOWN, "no `decisions.adr_folder` in dbtruth.yaml"
        if not facts.adrs:
            return Answer.NO, f"no ADR in {md_code(facts.manifest.decisions.adr_folder)}"
        lacking = [a.path.name for a in facts.adrs if not a.has(part)]
        if lacking:
            return Answer.NO, f"ADRs without {label}: {listing(lacking)}"
        return (
            Answer.DECLARED,
            f"all {counted(len(facts.adrs), 'ADR')} "
            f"{verb(len(facts.adrs), 'records', 'record')} {label}",
        )

    return check


def _privileges(facts: Facts) -> tuple[Answer, str]:
    """Roles and grants are the server's, not the schema's: SQL files that grant nothing and
    define no function show nothing about them, and 'no warnings' from S006/S007 would only
    mean there was nothing to read."""
    catalog = facts.catalog
    if not catalog.is_live and not catalog.grants and not catalog.functions:
        return Answer.UNKNOWN, (
            "the SQL files grant nothing and define no function: the server's roles and "
            "grants are not in them (review a live database to see them)"
        )
    return rule_answer(
        facts, ["S006", "S007"], "no PUBLIC writes, SECURITY DEFINER functions pin search_path",
        "privilege problems",
    )  # fmt: skip


def _rules(codes: list[str], yes: str, no: str) -> Check:
    return lambda facts: rule_answer(facts, codes, yes, no)


PARTS: tuple[tuple[str, str, tuple[tuple[str, Check], ...]], ...] = (
    ("6.1", "Truth and Ownership", (
        ("Is the source of truth named?", _source_of_truth),
        ("Are projections, copies, caches and search indexes named?", _copies),
        ("Does every data asset have an owner?", _owners),
        ("Does the lifecycle have an owner?", _lifecycle_owner),
        ("Is there a correction path?", _correction_path),
        ("Is there a deletion/retention path?", retention_answer),
    )),
    ("6.2", "Entity and Grain", (
        ("Is it clear what one row represents (a primary key on every table)?",
         _rules(["I001"], "every table has a primary key", "tables without a primary key")),
        ("Is the grain consistent (no catch-all or EAV tables)?",
         _rules(["G004", "G005"], "no catch-all or EAV tables", "grain mixed in one table")),
        ("Are entities kept out of nullable columns and flag soups?",
         _rules(["G001", "G004"], "no flag soup or catch-all columns", "hidden entities")),
        ("Are important relationships entities of their own?",
         _rules(["G003"], "no polymorphic type/id pairs", "relationships without a foreign key")),
        ("Is history kept where state changes?", _history),
        ("Is temporal validity modelled where needed?", _temporal_validity),
    )),
    ("6.3", "Invariants", (
        ("Are the illegal states named?", named_answer),
        ("Do the invariants the database enforces hold?", db_enforced_answer),
        ("Is it known which invariants the application enforces?", app_enforced_answer),
        ("Are invariants outside the database monitored or reconciled?", monitored_answer),
        ("Are concurrency-sensitive invariants safe under concurrency?", concurrency_answer),
        ("Are cross-system invariants reconciled?", cross_system_answer),
    )),
    ("6.4", "Schema", (
        ("Are the primary keys right?",
         _rules(["I001", "O002"], "primary keys everywhere, no serial column left for identity",
                "key problems")),
        ("Are natural keys and unique constraints right?", _natural_keys),
        ("Are the foreign keys complete?",
         _rules(["I003", "I004", "I008"], "references are declared, validated and typed alike",
                "missing or weak foreign keys")),
        ("Is every nullable column justified?", _nullable),
        ("Do the types fit their meaning?",
         _rules(["G006", "H001"], "no float money, timestamps carry a time zone",
                "types that lose meaning")),
        ("Can enums and statuses evolve?", _enum_evolvable),
        ("Do JSON columns have a contract?", _json_contract),
        ("Are audit columns meaningful?", _audit_columns),
    )),
    ("6.5", "Transactions", (
        ("Is the commit boundary known?", _declared_transactions),
        ("Is the isolation requirement known?", _declared_transactions),
        ("Are the race conditions known and handled?", concurrency_answer),
        ("Is optimistic locking used where updates may be lost?", _optimistic),
        ("Are pessimistic locks known?", _declared_transactions),
        ("Do retried writes carry an idempotency key?", idempotency_answer),
        ("Are external side effects known?", _outbox),
        ("Is there an outbox where side effects must follow the commit?", _outbox),
    )),
    ("6.6", "Query and Index", (
        ("Are the top queries known?", _top_queries),
        ("Are their predicates clear (and valid against the schema)?", _predicates),
        ("Is the sort order clear?", _sort),
        ("Is pagination right (keyset, not OFFSET)?", _pagination),
        ("Are indexes aligned with the queries?", index_aligned_answer),
        ("Is the write amplification of the indexes accepted?", _index_cost),
        ("Were plans tested with realistic data?", _plans_tested),
        ("Are statistics and skew understood?", _statistics),
    )),
    ("6.7", "Evolution", (
        ("Are migrations backward-compatible?",
         _practice("expand_contract", "unknown from a schema; `dbtruth migrate lint` checks "
                   "migrations, and practices.expand_contract can name the discipline")),
        ("Is expand–migrate–contract practised?",
         _practice("expand_contract", "not declared in practices.expand_contract")),
        ("Is the DDL lock risk understood?",
         _practice("migration_checks", "no automated migration check declared "
                   "(practices.migration_checks)")),
        ("Are backfills idempotent?",
         _practice("backfill", "no backfill tooling declared (practices.backfill)")),
        ("Are validation queries available?", _validation),
        ("Is the cutover gate clear?",
         lambda f: (Answer.UNKNOWN, "cutover gates belong in the migration's ADR")),
        ("Is rollback or roll-forward clear?", _rollback),
        ("Do consumers of copies have a contract?", copies_contract_answer),
    )),
    ("6.8", "Security and Privacy", (
        ("Is the tenant boundary clear and enforced?", tenant_boundary_answer),
        ("Are roles and grants minimal?", _privileges),
        ("Is RLS in place where it is needed?", _rls),
        ("Are sensitive columns classified?", _sensitive),
        ("Are export, report and search boundaries safe?", _export_boundary),
        ("Is support access audited?",
         lambda f: (Answer.UNKNOWN, "support access is outside the schema; name its audit")),
        ("Is the retention policy executable?", retention_answer),
        ("Is erasure propagation clear?", _erasure),
    )),
    ("6.9", "Operations", (
        ("Is there a dashboard?", _monitoring("dashboards")),
        ("Is there slow query monitoring?", _monitoring("slow_queries")),
        ("Is there lock monitoring?", _monitoring("locks")),
        ("Is there replica lag monitoring?", _monitoring("replica_lag")),
        ("Is there storage/WAL monitoring?", _monitoring("storage", "wal")),
        ("Is backup configured?", backup_answer),
        ("Was a restore tested (within a year)?", restore_answer),
        ("Is there a runbook?", runbooks_answer),
        ("Is there a capacity model?", _capacity),
    )),
    ("6.10", "Decision Record", (
        ("Are alternatives recorded?", _adr_part("alternatives", "alternatives")),
        ("Are trade-offs recorded?", _adr_part("tradeoffs", "consequences/trade-offs")),
        ("Are assumptions recorded?", _adr_part("assumptions", "assumptions")),
        ("Are risks recorded?", _adr_part("risks", "risks")),
        ("Are revisit triggers recorded?", _adr_part("revisit", "revisit triggers")),
        ("Is the owner recorded?", _adr_part("owner", "an owner")),
    )),
)  # fmt: skip


def answer_checklist(facts: Facts) -> tuple[ChecklistPart, ...]:
    parts = []
    for number, title, questions in PARTS:
        items = []
        for question, check in questions:
            answer, evidence = check(facts)
            items.append(ChecklistItem(question, answer, evidence))
        parts.append(ChecklistPart(number, title, tuple(items)))
    return tuple(parts)
