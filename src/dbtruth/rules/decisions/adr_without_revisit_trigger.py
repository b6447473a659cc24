"""D003 adr-without-revisit-trigger."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object, standing
from dbtruth.spec import Settings, decision_rule


@decision_rule("D003", "adr-without-revisit-trigger", Severity.WARNING)
def adr_without_revisit_trigger(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds a standing ADR with no Revisit Triggers: nothing says when the decision should be
    looked at again.

    ## Why is this bad?
    Every decision holds under assumptions (volumes, rates, a team, a single writer). Without
    a trigger, the day an assumption breaks passes unnoticed and the decision outlives its
    reasons (playbook §15: revisit triggers; §11 maturity: decisions revisited on evidence).
    A trigger can carry a threshold dbtruth reads live: `watch: \\`SELECT …\\` > 1000`.

    ## Example
    ```
    ## Decision
    One PostgreSQL primary for all tenants.
    ```

    ## Use instead
    ```
    ## Revisit Triggers
    - A tenant exceeds 50 M cases — watch: `SELECT max(n) FROM tenant_sizes` > 50000000
    ```

    ## Fix safety
    Documentation only.

    ## References
    Playbook §15 (Revisit Triggers), §11.
    """
    for adr in facts.adrs:
        if standing(adr) and not adr.items("revisit"):
            yield (
                Violation(adr_object(adr), f"{adr.label} says nothing of when to revisit it"),
                adr,
                adr.line("revisit") if adr.has("revisit") else 1,
            )
