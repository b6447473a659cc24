"""M016 mixed-migration-phases."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.migration import MigrationState, MigrationStatement
from dbtruth.rules.migration_locks import migration_name
from dbtruth.spec import Settings, migration_rule


@migration_rule("M016", "mixed-migration-phases", Severity.INFO)
def mixed_migration_phases(
    statement: MigrationStatement, state: MigrationState, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds a migration that both expands (or backfills) and contracts an existing schema: it
    adds and drops, or fills and drops, in one step. Reported once per migration, at the
    statement that mixes the phases. Every migration's phase is also listed in the output.

    ## Why is this bad?
    Between deploying the migration and deploying the code, old and new code run side by
    side. A migration that only expands is safe for old code; one that only contracts is
    safe once no code uses what it removes. One that does both is safe for neither: it needs
    a big-bang deploy, and cannot be rolled back by redeploying the old code (§3.8).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN amount_cents bigint;
    UPDATE orders SET amount_cents = amount * 100;
    ALTER TABLE orders DROP COLUMN amount;
    ```

    ## Use instead
    Three migrations, each deployed with the code that fits it: expand, backfill (a job),
    contract.

    ## Fix safety
    No automatic fix.

    ## References
    Playbook §3.8 (expand → deploy → backfill → validate → switch → contract), Principle 7.
    """
    phase = state.phase
    earlier = state.file_phases
    mixes = (phase == "contract" and earlier & {"expand", "backfill"}) or (
        phase in ("expand", "backfill") and "contract" in earlier
    )
    key = f"M016:{statement.file}"
    if not mixes or key in state.reported:
        return
    state.reported.add(key)
    name = migration_name(statement.file)
    yield Violation(
        ObjectRef("migration", "", name),
        f"migration {name} both {'expands' if 'expand' in earlier | {phase} else 'backfills'} "
        "and contracts: old and new code cannot both run against it",
        Fix("split it: expand, backfill, then contract, each with its own deploy"),
        discriminator=name,
    )
