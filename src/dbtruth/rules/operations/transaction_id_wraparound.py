"""O016 transaction-id-wraparound."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import qualified
from dbtruth.spec import Settings, ops_rule

# PostgreSQL stops assigning transaction IDs about 2^31 transactions after the oldest unfrozen
# one, to avoid wraparound; the same limit holds for multixact IDs.
LIMIT = 2**31
_ERROR_SHARE = 0.75  # well past autovacuum_freeze_max_age: anti-wraparound vacuums are losing
_TABLES_SHOWN = 5


@ops_rule("O016", "transaction-id-wraparound", Severity.WARNING)
def transaction_id_wraparound(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports the database when its oldest unfrozen transaction ID (age of datfrozenxid) or
    multixact ID has used more than `wraparound_share` (default 0.4) of the ~2.1 billion IDs
    PostgreSQL allows before it stops accepting writes; past 75% it is an error. The evidence
    names the tables holding the age back.

    ## Why is this bad?
    At the limit the server refuses every write until a VACUUM freezes the old rows — an outage
    measured in the hours a full-table freeze takes on the largest tables. Anti-wraparound
    autovacuum is meant to prevent it; a long transaction (O006), an idle one (O005), an
    abandoned slot (O009) or a prepared transaction holding the horizon defeats it (§6.9).

    ## Example
    ```
    age(datfrozenxid) = 1,400,000,000   -- 65% of the way
    ```

    ## Use instead
    ```sql
    VACUUM (FREEZE, VERBOSE) the_oldest_table;   -- after removing what holds the horizon back
    ```

    ## Fix safety
    VACUUM takes SHARE UPDATE EXCLUSIVE: reads and writes continue; it reads the whole table
    and writes every page it freezes (I/O and WAL proportional to the table).

    ## References
    PostgreSQL manual 24.1.5 Preventing Transaction ID Wraparound Failures, 24.1.5.1 Multixacts
    and Wraparound; playbook §6.9.
    """
    share = settings.ops.wraparound_share
    for kind, age, column in (
        ("transaction", facts.database_xid_age, "xid_age"),
        ("multixact", facts.database_mxid_age, "mxid_age"),
    ):
        if age < share * LIMIT:
            continue
        oldest = sorted(facts.tables, key=lambda t: -getattr(t, column))[:_TABLES_SHOWN]
        worst = oldest[0] if oldest else None
        fix = None
        if worst is not None:
            fix = Fix(
                "freeze the oldest tables, once whatever holds the horizon is gone",
                sql="\n".join(
                    f"VACUUM (FREEZE, VERBOSE) {qualified(t.schema, t.name)};" for t in oldest
                ),
                lock_safe=True,
                note="reads every page; writes WAL for every page it freezes",
            )
        yield Violation(
            ObjectRef("database", "", facts.database),
            f"database {facts.database} has used {age / LIMIT:.0%} of its {kind} IDs before "
            "wraparound (PostgreSQL stops accepting writes at the limit)",
            fix,
            evidence=(
                (f"{kind} ID age", f"{age:,} of about {LIMIT:,}"),
                *((f"{t.schema}.{t.name}", f"age {getattr(t, column):,}") for t in oldest),
            ),
            discriminator=kind,
            severity=Severity.ERROR if age >= _ERROR_SHARE * LIMIT else None,
        )
