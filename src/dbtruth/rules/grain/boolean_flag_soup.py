"""G001 boolean-flag-soup."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.naming import own_tables, table_ref, tokens
from dbtruth.spec import Settings, rule

# Words that name a stage of a lifecycle, not a property of the thing.
LIFECYCLE_WORDS = frozenset(
    [
        "active",
        "inactive",
        "deleted",
        "pending",
        "approved",
        "rejected",
        "escalated",
        "archived",
        "closed",
        "open",
        "opened",
        "cancelled",
        "canceled",
        "completed",
        "complete",
        "done",
        "paid",
        "published",
        "draft",
        "suspended",
        "blocked",
        "verified",
        "confirmed",
        "expired",
        "resolved",
        "locked",
        "disabled",
        "enabled",
        "submitted",
        "processed",
        "sent",
        "failed",
        "reviewed",
        "assigned",
        "accepted",
        "declined",
        "finished",
        "started",
        "reopened",
        "revoked",
        "banned",
        "valid",
        "invalid",
        "deactivated",
        "activated",
        "removed",
        "hidden",
        "on",
        "hold",
    ]
)


def lifecycle_flags(columns: list[str]) -> list[str]:
    flags = []
    for name in columns:
        parts = tokens(name)
        if parts and parts[0] in ("is", "has", "was"):
            parts = parts[1:]
        if parts and parts[-1] in LIFECYCLE_WORDS:
            flags.append(name)
    return flags


@rule("G001", "boolean-flag-soup", Severity.WARNING)
def boolean_flag_soup(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with several boolean columns that each name a lifecycle stage (`is_active`,
    `is_deleted`, `is_approved`, `is_escalated`, ...).

    ## Why is this bad?
    Each flag is a separate yes/no, so the table can store combinations no lifecycle allows
    (approved and rejected, deleted and active), and adding a stage means another flag and
    another set of impossible states. Principle 2: prefer an explicit lifecycle — one state
    column, a transition history, transition rules — over boolean flags.

    ## Example
    ```sql
    CREATE TABLE case_activity (id bigint PRIMARY KEY, is_active boolean, is_approved boolean,
                                is_rejected boolean, is_escalated boolean);
    ```

    ## Use instead
    ```sql
    CREATE TYPE case_state AS ENUM ('open', 'approved', 'rejected', 'escalated', 'closed');
    CREATE TABLE case_file (id bigint PRIMARY KEY, current_state case_state NOT NULL);
    CREATE TABLE case_state_transition (...);  -- append-only history
    ```

    ## Fix safety
    No SQL fix: replacing flags with a state is an expand/backfill/contract migration whose
    mapping only the domain owner can write.

    ## References
    Playbook Principle 2 (explicit lifecycle over boolean flags), §3.3 status soup.
    """
    for table in own_tables(catalog):
        booleans = [c.name for c in table.columns if c.type_name == "bool"]
        flags = lifecycle_flags(booleans)
        if len(flags) < settings.boolean_flag_soup_min:
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} encodes its lifecycle in {len(flags)} boolean flags "
            f"({', '.join(flags)}); combinations no lifecycle allows can be stored",
            Fix(
                "replace the flags with one state column (enum or lookup FK) and an append-only "
                "transition history"
            ),
            evidence=(("lifecycle flags", ", ".join(flags)),),
        )
