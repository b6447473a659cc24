"""The maturity model (§11): levels 1–4, each a set of criteria, every one judged with evidence.

A level is reached when all of its criteria and all criteria below it are met or declared;
level 0 ("ad hoc") needs nothing. "Met" is what the catalog, the rule results or a live server
show; "declared" is what dbtruth.yaml or a document states (a file it names must exist, and a
file that exists is still only declared), which the review prints apart from what it saw.
"""

from __future__ import annotations

from collections.abc import Callable

from dbtruth.inert import md_code, md_prose
from dbtruth.review.checklist import restore_answer, runbooks_answer, slow_query_statistics
from dbtruth.review.declarations import contract_problems, unmatched
from dbtruth.review.evidence import finding_sample, listing
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import OUTSIDE, Known, known, summary
from dbtruth.review.model import Answer, Criterion, Maturity, Status
from dbtruth.review.plans import where_planned
from dbtruth.review.signals import tenant_tables
from dbtruth.words import counted

Judge = Callable[[Facts], tuple[Status, str]]
PRIMARY_KEY_SHARE = 0.9


def _practice(field_name: str, what: str) -> Judge:
    def judge(facts: Facts) -> tuple[Status, str]:
        practices = facts.manifest.practices
        declared = facts.declared(getattr(practices, field_name) if practices else None)
        if declared is None:
            return (
                Status.UNKNOWN,
                f"not visible in the schema; declare {what} in practices.{field_name}",
            )
        if declared.exists is False:
            return Status.MISSED, declared.describe()
        return Status.DECLARED, declared.describe()

    return judge


def _from_answer(answer: tuple[Answer, str]) -> tuple[Status, str]:
    # A guess counts for nothing; a question about nothing the database has cannot meet one.
    status = {
        Answer.YES: Status.MET,
        Answer.DECLARED: Status.DECLARED,
        Answer.GUESS: Status.UNKNOWN,
        Answer.NO: Status.MISSED,
        Answer.NA: Status.UNKNOWN,
        Answer.UNKNOWN: Status.UNKNOWN,
    }
    return status[answer[0]], answer[1]


# --- level 1 --------------------------------------------------------------------------------


def _keys_used(facts: Facts) -> tuple[Status, str]:
    tables = facts.tables
    if not tables:
        return Status.UNKNOWN, "no tables"
    with_pk = sum(
        1 for t in tables if any(c.kind == "primary key" for c in facts.catalog.constraints_of(t))
    )
    kinds = {c.kind for c in facts.catalog.constraints}
    share = with_pk / len(tables)
    text = f"{with_pk} of {len(tables)} tables have a primary key; " + (
        f"foreign keys {'and' if 'unique' in kinds else 'but no'} unique constraints in use"
        if "foreign key" in kinds
        else "no foreign keys"
    )
    needs_fk = len(tables) > 1
    ok = share >= PRIMARY_KEY_SHARE and ("foreign key" in kinds or not needs_fk)
    return (Status.MET if ok else Status.MISSED), text


def _migration_tool(facts: Facts) -> tuple[Status, str]:
    if facts.migration_history:
        return Status.MET, f"migration history table {listing(list(facts.migration_history))}"
    practices = facts.manifest.practices
    if practices and facts.declared(practices.migrations):
        return _practice("migrations", "the migration tool")(facts)
    if len(facts.numbered_sql_files) >= 2:
        # Files present are declared, not proven: nothing shows a tool applied them in order.
        files = [
            f.name if f.name[:1].isdigit() else f"{f.parent.name}/{f.name}"
            for f in facts.numbered_sql_files
        ]
        return Status.DECLARED, f"{len(files)} numbered migration files ({listing(files)})"
    return Status.UNKNOWN, "no migration history table or numbered migration files found"


def _slow_queries(facts: Facts) -> tuple[Status, str]:
    operations = facts.manifest.operations
    if operations and "slow_queries" in operations.monitoring:
        return Status.DECLARED, "operations.monitoring includes slow_queries"
    answer, text = slow_query_statistics(facts)
    if answer is Answer.YES:
        return Status.MET, text
    return Status.UNKNOWN, f"no slow query monitoring declared; {text}"


def _backup(facts: Facts) -> tuple[Status, str]:
    operations = facts.manifest.operations
    if operations and operations.backup:
        return Status.DECLARED, f"operations.backup: {md_prose(operations.backup.method)}"
    return Status.UNKNOWN, "no backup declared (operations.backup): backup is assumed"


def _design_reviews(facts: Facts) -> tuple[Status, str]:
    if facts.adrs:
        folder = facts.manifest.decisions.adr_folder  # type: ignore[union-attr]
        return Status.DECLARED, f"{counted(len(facts.adrs), 'ADR')} in {md_code(folder)}"
    confirmed = [k for k, r in facts.manifest.truth.items() if not r.guess]
    if confirmed or any(not i.guess for i in facts.manifest.invariants):
        return Status.DECLARED, "dbtruth.yaml holds confirmed design facts (roles or invariants)"
    return Status.UNKNOWN, "no ADRs and no confirmed entries in dbtruth.yaml"


# --- level 2 --------------------------------------------------------------------------------


def _workload_first(facts: Facts) -> tuple[Status, str]:
    with_contract = [q.name for q in facts.manifest.workload if q.contract is not None]
    if not with_contract:
        return Status.UNKNOWN, "no workload query with an index contract in dbtruth.yaml"
    broken = facts.findings("X006")
    if broken:
        return Status.MISSED, finding_sample(broken)
    refuted = [p for q in facts.manifest.workload for p in contract_problems(facts, q)]
    if refuted:
        return Status.MISSED, "index contracts name what the catalog does not have: " + "; ".join(
            refuted
        )
    breaking = [name for name in with_contract if facts.plans.breaches(name)]
    if breaking:
        return Status.MISSED, (
            f"the plan breaks the index contract of {listing(breaking)} ({where_planned(facts)})"
        )
    if facts.plans.planned is not None and facts.plans.on_live:
        return Status.MET, (
            f"index contracts for {listing(with_contract)}, each kept by the live target's plan"
        )
    return (
        Status.DECLARED,
        f"index contracts for {listing(with_contract)}; every query and contract matches the "
        "schema"
        + (
            ", kept by the plans on the copy of the SQL files (not production's sizes)"
            if facts.plans.planned is not None
            else f" (not planned: {facts.plans.absent})"
        ),
    )


def _dashboards(facts: Facts) -> tuple[Status, str]:
    operations = facts.manifest.operations
    if operations and "dashboards" in operations.monitoring:
        return Status.DECLARED, "operations.monitoring includes dashboards"
    return Status.UNKNOWN, "no dashboards declared in operations.monitoring"


def _security_review(facts: Facts) -> tuple[Status, str]:
    codes = ["S001", "S004", "S005", "S006", "S007", "S008"]
    if not facts.ran(*codes):
        return Status.UNKNOWN, "the security rules did not all run"
    found = facts.findings(*codes)
    if found:
        return Status.MISSED, finding_sample(found)
    declared = _practice("security_review", "the last security review")(facts)
    suffix = f"; {declared[1]}" if declared[0] is Status.DECLARED else ""
    return Status.MET, f"security rules S001–S008 find no tenant, grant or RLS gap{suffix}"


# --- level 3 --------------------------------------------------------------------------------


def _invariant_catalog(facts: Facts) -> tuple[Status, str]:
    confirmed = [i for i in facts.manifest.invariants if not i.guess]
    if not confirmed:
        return Status.MISSED, "no confirmed invariant in dbtruth.yaml"
    broken = facts.findings("I009", "I010")
    if broken:
        return Status.MISSED, finding_sample(broken)
    held = [known(facts, i) for i in confirmed if i.enforcement not in OUTSIDE]
    if Known.UNENFORCED in held:
        return Status.MISSED, summary(facts)
    if held and all(k is Known.PROVEN for k in held):
        return Status.MET, summary(facts)  # only proven invariants count as held
    return Status.DECLARED, summary(facts)


def _authority_map(facts: Facts) -> tuple[Status, str]:
    truth = facts.manifest.truth
    if not truth:
        return Status.MISSED, "no truth section in dbtruth.yaml"
    guesses = [k for k, r in truth.items() if r.guess]
    if guesses:
        return Status.MISSED, f"{counted(len(guesses), 'role')} still guesses: {listing(guesses)}"
    missing = unmatched(facts, truth)
    if missing:
        return Status.MISSED, f"entries name tables the catalog does not have: {listing(missing)}"
    broken = facts.findings("T001", "T002")
    if broken:
        return Status.MISSED, finding_sample(broken)
    return Status.DECLARED, f"every table has a confirmed role; {len(truth)} entries"


def _adrs(facts: Facts) -> tuple[Status, str]:
    if facts.manifest.decisions is None:
        return Status.MISSED, "no decisions.adr_folder in dbtruth.yaml"
    if not facts.adrs:
        return Status.MISSED, f"no ADR found in {md_code(facts.manifest.decisions.adr_folder)}"
    return (
        Status.DECLARED,
        f"{counted(len(facts.adrs), 'ADR')}: {listing([a.title for a in facts.adrs])}",
    )


def _capacity(facts: Facts) -> tuple[Status, str]:
    operations = facts.manifest.operations
    declared = facts.declared(operations.capacity_model if operations else None)
    if declared is None:
        return Status.MISSED, "no capacity model (operations.capacity_model)"
    if declared.exists is False:
        return Status.MISSED, declared.describe()
    return Status.DECLARED, declared.describe()


def _guardrails(facts: Facts) -> tuple[Status, str]:
    status, text = _security_review(facts)
    if status is not Status.MET:
        return status, text
    tables = tenant_tables(facts)
    if not tables:
        return Status.MET, text + "; no tenant tables"
    forced = [t for t in tables if t.rls_enabled and t.rls_forced]
    return Status.MET, text + f"; RLS forced on {len(forced)} of {len(tables)} tenant tables"


def _restore_drill(facts: Facts) -> tuple[Status, str]:
    return _from_answer(restore_answer(facts))


def _runbook(facts: Facts) -> tuple[Status, str]:
    return _from_answer(runbooks_answer(facts))


CRITERIA: tuple[tuple[int, str, Judge], ...] = (
    (1, "PK/FK/unique constraints in use", _keys_used),
    (1, "A migration tool is used", _migration_tool),
    (1, "Slow queries are monitored", _slow_queries),
    (1, "Backups exist", _backup),
    (1, "Some design reviews happen", _design_reviews),
    (2, "Workload-first indexes", _workload_first),
    (2, "Expand–migrate–contract", _practice("expand_contract", "the discipline")),
    (2, "Explicit transaction boundaries",
     _practice("transaction_boundaries", "where boundaries are written down")),
    (2, "Observability dashboard", _dashboards),
    (2, "Restore drill", _restore_drill),
    (2, "Security/privacy review", _security_review),
    (3, "Invariant catalog", _invariant_catalog),
    (3, "Data authority map", _authority_map),
    (3, "ADRs for big decisions", _adrs),
    (3, "Backfill platform", _practice("backfill", "the backfill tooling")),
    (3, "Incident runbooks", _runbook),
    (3, "Capacity model", _capacity),
    (3, "Tenant/security guardrails", _guardrails),
    (4, "Cross-team schema review standard", _practice("schema_review", "the standard")),
    (4, "Automated migration checks", _practice("migration_checks", "the CI check")),
    (4, "Data contract registry", _practice("data_contracts", "the registry")),
    (4, "Light architecture council", _practice("architecture_council", "the forum")),
    (4, "Production readiness gate", _practice("readiness_gate", "the gate")),
    (4, "Post-incident learning loop", _practice("post_incident", "the loop")),
    (4, "Reusable templates and playbooks", _practice("templates", "the templates")),
)  # fmt: skip


def assess(facts: Facts) -> Maturity:
    criteria = tuple(Criterion(level, text, *judge(facts)) for level, text, judge in CRITERIA)
    level = 0
    for candidate in (1, 2, 3, 4):
        if all(c.status.counts for c in criteria if c.level == candidate):
            level = candidate
        else:
            break
    return Maturity(level, criteria)
