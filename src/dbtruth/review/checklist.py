"""The playbook's final checklist (§6), ten parts, every question answered yes / no / unknown.

Questions are phrased so that "yes" is the healthy answer. An answer is "yes" or "no" only when
a rule result, a catalog fact or a manifest entry shows it; otherwise it is "unknown" with the
reason and where the answer belongs (usually a section of dbtruth.yaml or an ADR).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dbtruth.inert import md_code, md_prose, md_text
from dbtruth.review.evidence import declared_answer, listing, rule_answer
from dbtruth.review.facts import Facts
from dbtruth.review.model import Answer, ChecklistItem, ChecklistPart
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

Check = Callable[[Facts], tuple[Answer, str]]
NO_TRUTH = "no `truth` section in dbtruth.yaml: the authority map is not written yet"
NO_INVARIANTS = "no `invariants` section in dbtruth.yaml"
NO_WORKLOAD = "no `workload` section in dbtruth.yaml: the top queries are not named"
RESTORE_DRILL_MAX_AGE = timedelta(days=365)
# Roles that hold a copy of other tables' data, and so owe a contract to their consumers.
COPY_ROLES = ("projection", "cache", "snapshot", "integration", "outbox")


def _confirmed_roles(facts: Facts) -> dict[str, str]:
    return {k: v.role for k, v in facts.manifest.truth.items() if not v.guess}


# --- 6.1 Truth and ownership --------------------------------------------------------------


def _source_of_truth(facts: Facts) -> tuple[Answer, str]:
    truth = facts.manifest.truth
    if not truth:
        return Answer.UNKNOWN, NO_TRUTH
    confirmed = [k for k, r in _confirmed_roles(facts).items() if r == "truth"]
    if confirmed:
        return Answer.YES, f"{len(confirmed)} table(s) declared truth: {listing(confirmed)}"
    guesses = sum(1 for r in truth.values() if r.guess)
    return Answer.UNKNOWN, f"{guesses} role(s) guessed by `dbtruth init`, none confirmed yet"


def _copies(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.truth:
        return Answer.UNKNOWN, NO_TRUTH
    answer, text = rule_answer(facts, ["T002"], "every table has a role", "tables without a role")
    copies = [k for k, r in facts.manifest.truth.items() if r.role != "truth"]
    if answer is Answer.YES:
        text += f"; derived or supporting tables declared: {listing(copies) or 'none'}"
    return answer, text


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
    return Answer.YES, f"all {len(truth)} entries of the authority map name an owner"


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
    return Answer.YES, f"lifecycle tables {listing(names)} have owners in the authority map"


def _correction_path(facts: Facts) -> tuple[Answer, str]:
    audit = [k for k, r in _confirmed_roles(facts).items() if r == "audit"]
    if audit and facts.ran("H004") and not facts.findings("H004"):
        return Answer.YES, f"changes are recorded in append-only audit tables {listing(audit)}"
    if audit:
        return Answer.NO, f"audit tables {listing(audit)} can be edited (H004)"
    return Answer.UNKNOWN, (
        "no audit table declared; how a wrong fact is corrected (new row, reversal, "
        "adjustment) belongs in an ADR"
    )


def _retention_path(facts: Facts) -> tuple[Answer, str]:
    retention = facts.manifest.retention
    if not retention:
        return Answer.UNKNOWN, "no `retention` section in dbtruth.yaml"
    missing = [k for k, r in retention.items() if not r.method]
    if missing:
        return Answer.NO, f"retention without a method for {listing(missing)}"
    return Answer.YES, f"retention and purge method declared for {listing(list(retention))}"


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


# --- 6.3 Invariants -------------------------------------------------------------------------


def _named_invariants(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    confirmed = [i for i in invariants if not i.guess]
    if not confirmed:
        return Answer.UNKNOWN, (
            f"{len(invariants)} invariant(s) derived from constraints by `dbtruth init`; "
            "none confirmed, and the illegal states no constraint covers are not named"
        )
    return Answer.YES, f"{len(confirmed)} invariant(s) stated in plain words"


def _db_enforced(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        counts = _constraint_counts(facts)
        return Answer.UNKNOWN, f"{NO_INVARIANTS}; the catalog enforces {counts}"
    by_db = [i.id for i in invariants if i.enforcement not in ("application", "reconciliation")]
    return rule_answer(
        facts,
        ["I009"],
        f"{len(by_db)} of {len(invariants)} invariants enforced by a database object, "
        "each object checked to exist and enforce it",
        "declared enforcement that does not hold",
    )


def _app_enforced(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    app = [i.id for i in invariants if i.enforcement == "application"]
    return Answer.YES, (
        f"enforced by the application: {listing(app, 10)}" if app else "none: all in the database"
    )


def _monitored(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    watched = [i.id for i in invariants if i.detective_query]
    answer, text = rule_answer(
        facts,
        ["I010"],
        "every invariant outside the database has a detective query",
        "invariants nobody detects",
    )
    return answer, text + (f"; detective queries for {listing(watched)}" if watched else "")


def concurrency_answer(facts: Facts) -> tuple[Answer, str]:
    invariants = facts.manifest.invariants
    if not invariants:
        return Answer.UNKNOWN, NO_INVARIANTS
    if all(i.guess for i in invariants):
        return Answer.UNKNOWN, (
            "the declared invariants are all derived from existing constraints by `dbtruth init`; "
            "the cross-row rules the application keeps are not declared yet"
        )
    sensitive = [i for i in invariants if i.kind in ("uniqueness", "non-overlap", "cross-row")]
    outside = [i.id for i in sensitive if i.enforcement in ("application", "reconciliation")]
    if not sensitive:
        return Answer.UNKNOWN, "no uniqueness, non-overlap or cross-row invariant declared"
    if outside:
        return Answer.UNKNOWN, (
            f"{listing(outside)} are kept by the application: race-safe only under a lock or "
            "SERIALIZABLE, which the schema cannot show"
        )
    return Answer.YES, (
        f"all {len(sensitive)} concurrency-sensitive invariants are enforced by constraints "
        "or indexes, which hold under concurrent writes"
    )


def _cross_system(facts: Facts) -> tuple[Answer, str]:
    found = [i for i in facts.manifest.invariants if i.kind == "cross-system"]
    if not found:
        return Answer.UNKNOWN, "no cross-system invariant declared"
    blind = [i.id for i in found if not i.detective_query]
    if blind:
        return Answer.NO, f"cross-system invariants without reconciliation: {listing(blind)}"
    return Answer.YES, f"{len(found)} cross-system invariant(s), each reconciled"


def _constraint_counts(facts: Facts) -> str:
    counts: dict[str, int] = {}
    for constraint in facts.catalog.constraints:
        if not constraint.inherited:
            counts[constraint.kind] = counts.get(constraint.kind, 0) + 1
    return (
        md_text(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))) or "no constraints"
    )


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
        return Answer.YES, "no json/jsonb columns"
    if not unchecked:
        return Answer.YES, f"every json column has a CHECK: {listing(checked)}"
    return Answer.UNKNOWN, (
        f"{len(unchecked)} json column(s) without a CHECK ({listing(unchecked)}); "
        "their contract may live in code: name it"
    )


def _enum_evolvable(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts, ["G002"], "status columns are constrained", "free-text status columns"
    )
    enums = sorted({c.type for t in facts.tables for c in t.columns if c.is_enum})
    if enums:
        text += (
            f"; {len(enums)} enum type(s) ({listing(enums)}): values can be added, "
            "not removed or renamed without a rewrite"
        )
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
        return Answer.YES, f"version columns for optimistic locking: {listing(found)}"
    return Answer.UNKNOWN, "no version column found; lost updates are prevented elsewhere or not"


def idempotency_answer(facts: Facts) -> tuple[Answer, str]:
    found = idempotency_keys(facts)
    if found:
        return Answer.YES, f"unique idempotency/dedup keys: {listing(found)}"
    return Answer.UNKNOWN, "no unique key named like an idempotency, request or event id"


def _outbox(facts: Facts) -> tuple[Answer, str]:
    found = outbox_tables(facts)
    if found:
        return Answer.YES, f"side effects leave through an outbox: {listing(found)}"
    return Answer.UNKNOWN, (
        "no outbox table: either no external side effects, or they happen outside the commit"
    )


# --- 6.6 Query and index --------------------------------------------------------------------


def _top_queries(facts: Facts) -> tuple[Answer, str]:
    workload = facts.manifest.workload
    if not workload:
        return Answer.UNKNOWN, NO_WORKLOAD
    rated = [q.name for q in workload if q.calls_per_minute is not None]
    return Answer.YES, f"{len(workload)} queries named, {len(rated)} with a rate"


def _predicates(facts: Facts) -> tuple[Answer, str]:
    if not facts.manifest.workload:
        return Answer.UNKNOWN, NO_WORKLOAD
    return rule_answer(
        facts,
        ["X006"],
        "every declared query parses and names existing objects",
        "queries naming missing objects",
    )


def _sort(facts: Facts) -> tuple[Answer, str]:
    shapes = [s for s in query_shapes(facts) if s.parsed]
    if not shapes:
        return Answer.UNKNOWN, NO_WORKLOAD
    unordered = [s.name for s in shapes if s.limit_without_order]
    if unordered:
        return Answer.NO, f"LIMIT without ORDER BY returns arbitrary rows: {listing(unordered)}"
    return Answer.YES, "every query with a LIMIT has an ORDER BY"


def _pagination(facts: Facts) -> tuple[Answer, str]:
    shapes = [s for s in query_shapes(facts) if s.parsed and s.paginated]
    if not shapes:
        return Answer.UNKNOWN, "no paginated query declared"
    offset = [s.name for s in shapes if s.offset]
    if offset:
        return Answer.NO, f"OFFSET pagination (cost grows with the page): {listing(offset)}"
    return Answer.YES, f"{len(shapes)} paginated queries use LIMIT without OFFSET"


def index_aligned_answer(facts: Facts) -> tuple[Answer, str]:
    reads = [q for q in facts.manifest.workload if q.role != "write"]
    if not reads:
        return Answer.UNKNOWN, "no read or report query declared"
    without = [q.name for q in reads if q.contract is None]
    if without:
        return Answer.UNKNOWN, f"read queries without an index contract: {listing(without)}"
    return Answer.YES, (
        f"all {len(reads)} read queries carry an index contract (plans are checked by "
        "`dbtruth workload`)"
    )


def _statistics(facts: Facts) -> tuple[Answer, str]:
    stats = facts.catalog.stats
    if stats is None:
        return Answer.UNKNOWN, "needs a live target: statistics come from the running server"
    never = [f"{t.schema}.{t.name}" for t in stats.tables if t.row_estimate < 0]
    if never:
        return Answer.NO, f"tables never analyzed: {listing(never)}"
    return Answer.YES, f"all {len(stats.tables)} tables have planner statistics"


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
    if answer is Answer.YES and not any(i.detective_query for i in facts.manifest.invariants):
        return Answer.UNKNOWN, text + "; no detective query is declared to validate data"
    return answer, text


def _rollback(facts: Facts) -> tuple[Answer, str]:
    downs = [f for f in facts.sql_files if "down" in f.name.lower()]
    if downs:
        return Answer.YES, f"{len(downs)} down migration file(s) present"
    return Answer.UNKNOWN, "no down migrations in the target; name the roll-forward plan in an ADR"


def copies_contract_answer(facts: Facts) -> tuple[Answer, str]:
    copies = [k for k, r in facts.manifest.truth.items() if r.role in COPY_ROLES]
    if not copies:
        return Answer.UNKNOWN, "no projection, cache, snapshot or integration copy declared"
    return rule_answer(
        facts,
        ["T001"],
        f"copies {listing(copies)} declare sources, rebuild, freshness, drift",
        "copies without a contract",
    )


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


def _sensitive(facts: Facts) -> tuple[Answer, str]:
    found = personal_data_columns(facts)
    if not found:
        return Answer.UNKNOWN, "no column named like personal data; classification not declared"
    return Answer.UNKNOWN, (
        f"{len(found)} column(s) named like personal data ({listing(found)}); dbtruth.yaml "
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
            return Answer.YES, f"declared: {', '.join(kinds)} monitoring"
        missing = [k for k in kinds if k not in operations.monitoring]
        if "slow_queries" in missing and _has_pg_stat_statements(facts):
            return Answer.YES, "pg_stat_statements is installed (not declared in operations)"
        return Answer.NO, f"operations.monitoring lacks {', '.join(missing)}"

    return check


def _has_pg_stat_statements(facts: Facts) -> bool:
    return any(e.name == "pg_stat_statements" for e in facts.catalog.extensions)


def backup_answer(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    if operations is None or operations.backup is None:
        return Answer.UNKNOWN, "no backup declared in operations.backup"
    return Answer.YES, f"declared: {md_prose(operations.backup.method)}"


def restore_answer(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    if operations is None or operations.restore_drill is None:
        return Answer.NO, "no restore drill recorded: a backup never restored is an assumption"
    drill = operations.restore_drill
    age = facts.today - drill.last
    minutes = f", took {drill.duration_minutes:g} min" if drill.duration_minutes else ""
    if age > RESTORE_DRILL_MAX_AGE:
        return Answer.NO, f"last restore drill {drill.last} is {age.days} days old{minutes}"
    return Answer.YES, f"restore drill on {drill.last} ({age.days} days ago{minutes})"


def runbooks_answer(facts: Facts) -> tuple[Answer, str]:
    operations = facts.manifest.operations
    if operations is None or not operations.runbooks:
        return Answer.UNKNOWN, "no runbooks listed in operations.runbooks"
    declared = [facts.declared(r) for r in operations.runbooks]
    missing = [d.text for d in declared if d is not None and d.exists is False]
    if missing:
        return Answer.NO, f"runbooks named but missing: {listing(missing)}"
    return Answer.YES, f"{len(declared)} runbook(s): {listing(operations.runbooks)}"


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
        return Answer.YES, f"all {len(facts.adrs)} ADR(s) record {label}"

    return check


def _rules(codes: list[str], yes: str, no: str) -> Check:
    return lambda facts: rule_answer(facts, codes, yes, no)


PARTS: tuple[tuple[str, str, tuple[tuple[str, Check], ...]], ...] = (
    ("6.1", "Truth and Ownership", (
        ("Is the source of truth named?", _source_of_truth),
        ("Are projections, copies, caches and search indexes named?", _copies),
        ("Does every data asset have an owner?", _owners),
        ("Does the lifecycle have an owner?", _lifecycle_owner),
        ("Is there a correction path?", _correction_path),
        ("Is there a deletion/retention path?", _retention_path),
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
        ("Are the illegal states named?", _named_invariants),
        ("Do the invariants the database enforces hold?", _db_enforced),
        ("Is it known which invariants the application enforces?", _app_enforced),
        ("Are invariants outside the database monitored or reconciled?", _monitored),
        ("Are concurrency-sensitive invariants safe under concurrency?", concurrency_answer),
        ("Are cross-system invariants reconciled?", _cross_system),
    )),
    ("6.4", "Schema", (
        ("Are the primary keys right?",
         _rules(["I001", "O002"], "primary keys everywhere, identity columns",
                "key problems")),
        ("Are natural keys and unique constraints right?",
         _rules(["I006", "I007", "S005"], "unique keys hold as written", "unique keys with gaps")),
        ("Are the foreign keys complete?",
         _rules(["I003", "I004", "I008"], "references are declared, validated and typed alike",
                "missing or weak foreign keys")),
        ("Is every nullable column justified?", _nullable),
        ("Do the types fit their meaning?",
         _rules(["G006", "H001"], "no float money, timestamps carry a time zone",
                "types that lose meaning")),
        ("Can enums and statuses evolve?", _enum_evolvable),
        ("Do JSON columns have a contract?", _json_contract),
        ("Are audit columns meaningful?",
         _rules(["H004"], "audit tables are append-only", "audit tables that can be rewritten")),
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
        ("Is the write amplification of the indexes accepted?",
         _rules(["X001", "X002", "X005"], "no duplicate, redundant or excess indexes",
                "indexes that only cost writes")),
        ("Were plans tested with realistic data?",
         lambda f: (Answer.UNKNOWN, "plans are not run by a review; `dbtruth workload` will")),
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
        ("Are roles and grants minimal?",
         _rules(["S006", "S007"], "no PUBLIC writes, SECURITY DEFINER functions pin search_path",
                "privilege problems")),
        ("Is RLS in place where it is needed?", _rls),
        ("Are sensitive columns classified?", _sensitive),
        ("Are export, report and search boundaries safe?",
         _rules(["S008"], "views respect row-level security", "views that bypass RLS")),
        ("Is support access audited?",
         lambda f: (Answer.UNKNOWN, "support access is outside the schema; name its audit")),
        ("Is the retention policy executable?", _retention_path),
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
