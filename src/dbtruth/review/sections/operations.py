"""Sections 10–12: migration and evolution, operations, failure modes."""

from __future__ import annotations

from dbtruth.inert import md_code, md_text
from dbtruth.review.checklist import (
    backup_answer,
    copies_contract_answer,
    idempotency_answer,
    index_aligned_answer,
    restore_answer,
    runbooks_answer,
    tenant_boundary_answer,
)
from dbtruth.review.evidence import declared_answer, finding_sample, listing, rule_answer
from dbtruth.review.facts import Facts
from dbtruth.review.invariants import OUTSIDE, concurrency_answer
from dbtruth.review.model import Answer, Bullets, Paragraph, Section, Table
from dbtruth.rules.naming import tokens
from dbtruth.words import counted

# The operational settings a reviewer reads first on a live server, and what each guards.
_SETTINGS = {
    "statement_timeout": "runaway queries",
    "lock_timeout": "DDL waiting in the lock queue and blocking everyone behind it",
    "idle_in_transaction_session_timeout": "sessions holding locks and snapshots",
    "log_min_duration_statement": "slow-query logging",
    "data_checksums": "silent corruption detection",
    "archive_mode": "point-in-time recovery",
}
_MONITORING = ("dashboards", "slow_queries", "locks", "replica_lag", "storage", "wal")
_ANSWER_WORD = {
    Answer.YES: "guarded",
    Answer.DECLARED: "guarded (declared)",
    Answer.GUESS: "guarded (guess)",
    Answer.NO: "**exposed**",
    Answer.NA: "n/a",
    Answer.UNKNOWN: "unknown",
}


def _practice_line(facts: Facts, field_name: str, label: str) -> str | None:
    practices = facts.manifest.practices
    declared = facts.declared(getattr(practices, field_name) if practices else None)
    return f"{label}: {declared.describe()}" if declared else None


def migration(facts: Facts) -> Section:
    section = Section(
        10, "Migration and Evolution", "Expand/migrate/contract, backfill, validation, rollback."
    )
    lines = []
    if facts.migration_history:
        section.evidence.append("catalog: migration history table")
        lines.append(f"Migration history kept in {listing(list(facts.migration_history))}.")
    if facts.numbered_sql_files:
        section.evidence.append("target: numbered SQL files")
        lines.append(
            f"{counted(len(facts.numbered_sql_files), 'numbered migration file')} in the target."
        )
    for field_name, label in (
        ("migrations", "Migration tool"),
        ("expand_contract", "Expand/contract"),
        ("backfill", "Backfill"),
        ("migration_checks", "Automated migration checks"),
    ):
        line = _practice_line(facts, field_name, label)
        if line:
            lines.append(line)
    if facts.manifest.practices:
        section.evidence.append("dbtruth.yaml `practices`")
    if facts.ran("I004"):
        section.evidence.append("rule I004 constraint-not-validated")
    unvalidated = facts.findings("I004")
    if unvalidated:
        lines.append(f"Left half-done: {finding_sample(unvalidated)}.")
    elif facts.ran("I004"):
        lines.append("No constraint is left NOT VALID (I004).")
    section.blocks.append(Bullets(tuple(lines)) if lines else Paragraph("No migration evidence."))
    section.blocks.append(
        Paragraph(
            "This review did not lint the migrations: `dbtruth migrate lint` checks each "
            "migration's lock level, rewrite and expand/contract phase statement by statement."
        )
    )
    if not facts.manifest.practices or not facts.manifest.practices.expand_contract:
        section.open_questions.append(
            "Are schema changes made expand → backfill → validate → switch → contract, and "
            "where is that written down?"
        )
    if not facts.manifest.practices or not facts.manifest.practices.backfill:
        section.open_questions.append(
            "How are backfills run: chunked, resumable, idempotent, throttled, validated?"
        )
    section.open_questions.append("What is the rollback or roll-forward plan of a failed change?")
    return section


def operations(facts: Facts) -> Section:
    section = Section(11, "Operations", "Monitoring, backup, restore, capacity, runbook.")
    ops = facts.manifest.operations
    rows = []
    section.evidence.append(
        "dbtruth.yaml `operations`" if ops else "dbtruth.yaml has no `operations` section"
    )
    section.evidence.append("rules O001–O003")
    rows.append(("Backup", *_cell(backup_answer(facts))))
    rows.append(("Restore drill", *_cell(restore_answer(facts))))
    monitored = ops.monitoring if ops else []
    missing = [m for m in _MONITORING if m not in monitored]
    rows.append(
        (
            "Monitoring",
            "declared" if monitored and not missing else ("partly" if monitored else "unknown"),
            (f"declared: {md_text(', '.join(monitored))}" if monitored else "none declared")
            + (f"; missing: {', '.join(missing)}" if monitored and missing else ""),
        )
    )
    rows.append(("Runbooks", *_cell(runbooks_answer(facts))))
    rows.append(
        (
            "Capacity model",
            *_cell(
                declared_answer(
                    facts.declared(ops.capacity_model if ops else None),
                    "not named (operations.capacity_model)",
                )
            ),
        )
    )
    section.blocks.append(Table(("Area", "In place", "Evidence"), tuple(rows)))
    stats = facts.catalog.stats
    if stats is not None and stats.settings:
        # Read as the server configures them for this database and role: dbtruth's own session
        # guards (statement_timeout, lock_timeout, ...) are not the server's settings.
        section.evidence.append("live: pg_settings, the server's configuration (reset values)")
        settings = dict(stats.settings)
        section.blocks.append(
            Table(
                ("Setting", "Value", "Guards against"),
                tuple(
                    (md_code(name), md_text(settings.get(name, "—")), guards)
                    for name, guards in _SETTINGS.items()
                ),
                "Server settings",
            )
        )
    else:
        section.open_questions.append(
            "Are statement_timeout, lock_timeout, slow-query logging, checksums and WAL "
            "archiving set? (a live target shows them)"
        )
    operational = facts.findings("O001", "O002", "O003")
    if operational:
        section.blocks.append(Paragraph(f"Operational findings: {finding_sample(operational)}."))
    health = facts.health.ops
    if health is None:
        section.evidence.append(f"`dbtruth ops`: {facts.health.absent}")
    else:
        section.evidence.append("`dbtruth ops` on the live server (observed, read-only)")
        found = health.result.findings
        section.blocks.append(
            Table(
                ("Rule", "Severity", "Object", "What the server showed"),
                tuple(
                    (
                        f"{f.code} {f.name}",
                        f.severity.label,
                        md_code(f.object.path),
                        md_text(f.message),
                    )
                    for f in found
                ),
                "Readiness and health, as the live server showed them",
            )
            if found
            else Paragraph(
                f"`dbtruth ops` found nothing to report on the live server "
                f"({health.result.rules_run} rules)."
            )
        )
    if ops is None:
        section.open_questions += [
            "How is the database backed up, and when was a restore last tested end to end?",
            "What is monitored (slow queries, locks, replica lag, storage, WAL)?",
            "Which runbooks exist for lock storms, failover and restore?",
        ]
    return section


def _ledger(facts: Facts) -> tuple[Answer, str]:
    answer, text = rule_answer(
        facts,
        ["H004", "I010"],
        "audit tables append-only, invariants kept outside the database have detective queries",
        "history or invariants unguarded",
    )
    # The append-only guard is in the catalog; a detective query is only declared.
    outside = [i for i in facts.manifest.invariants if i.enforcement in OUTSIDE and not i.guess]
    if answer is Answer.YES and not outside and not _audit_tables(facts):
        # nothing was found wanting because there is nothing to guard: no audit table, and no
        # invariant declared to live outside the database
        return Answer.NA, "no table declared or named as an audit log, no invariant kept outside"
    return (Answer.DECLARED if answer is Answer.YES and outside else answer), text


def _audit_tables(facts: Facts) -> list[str]:
    declared = [k for k, r in facts.manifest.truth.items() if r.role == "audit"]
    return declared + [t.qualified for t in facts.tables if "audit" in tokens(t.name)]


def _cell(answer: tuple[Answer, str]) -> tuple[str, str]:
    return answer[0].value, answer[1]


_LOCK_RULES = ("O004", "O005", "O006", "O013")


def _lock_storm(facts: Facts) -> tuple[Answer, str]:
    """Measured only on a live server: sessions blocked, idle in a transaction or long, and
    whether the application's sessions start bounded."""
    health = facts.health.ops
    if health is None:
        return Answer.UNKNOWN, (
            "measured only on a running server (`dbtruth ops`): blocked and idle sessions, "
            "the application role's timeouts"
        )
    exposed = [f for f in health.result.findings if f.code in _LOCK_RULES]
    if exposed:
        return Answer.NO, f"observed: {finding_sample(exposed)}"
    return Answer.YES, (
        "observed: no session blocked, idle in a transaction or long-running, and the "
        "application role's sessions start with timeouts"
    )


def failure_modes(facts: Facts) -> Section:
    section = Section(
        12,
        "Failure Modes",
        "What can fail? How do we detect, contain, recover, and prove recovery?",
    )
    section.evidence.append(
        "the playbook's common failure patterns (§9), each judged by the "
        "checks that show its root cause"
    )
    patterns = (
        ("Query slow", "query shape, index and workload not designed together",
         index_aligned_answer(facts)),
        ("Report numbers differ / search stale", "copies without a freshness or rebuild contract",
         copies_contract_answer(facts)),
        ("Duplicate transaction", "idempotency not designed", idempotency_answer(facts)),
        ("Cross-tenant leak", "tenant boundary not enforced in the data model",
         tenant_boundary_answer(facts)),
        ("Race corrupts an invariant", "invariant kept by the application without a lock",
         concurrency_answer(facts)),
        ("Ledger or audit mismatch", "history can be rewritten; nothing reconciles",
         _ledger(facts)),
        ("Deadlock or lock storm", "lock order or transaction scope broken",
         _lock_storm(facts)),
        ("Restore failed", "restore never treated as a product capability",
         restore_answer(facts)),
    )  # fmt: skip
    section.blocks.append(
        Table(
            ("Failure", "Root cause it comes from", "This database", "Evidence"),
            tuple((name, cause, _ANSWER_WORD[a[0]], a[1]) for name, cause, a in patterns),
        )
    )
    section.open_questions += [
        "For each failure above marked unknown or exposed: how is it detected, contained, "
        "recovered from, and how is recovery proven?",
        "What happens on failover: which writes may be lost, and who checks?",
    ]
    return section
