"""D006 adr-contradicted-by-schema."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object, standing
from dbtruth.spec import Settings, decision_rule


@decision_rule("D006", "adr-contradicted-by-schema", Severity.ERROR)
def adr_contradicted_by_schema(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Runs each standing ADR's confirmations and reports those that fail: a dbtruth rule that
    must stay quiet and fires (`check: I002 casework.case_note`), a declared invariant that
    must be proven and is not (`invariant: note-history-append-only`), a workload contract
    that must hold and breaks (`workload: notes-of-a-case`). A Proposed ADR is not judged:
    what it proposes is not expected in the schema yet (its confirmations are still shown).

    ## Why is this bad?
    The ADR says the system works one way; the database now works another. Whoever trusts
    the ADR — a reviewer, an auditor, the next engineer — is misled, and the decision was
    changed without a decision (playbook §5 Principle 10; §15).

    ## Example
    ```
    ## Confirmation
    - invariant: transition-history-append-only     (and the trigger was dropped)
    ```

    ## Use instead
    ```
    Restore what the decision relies on, or write the ADR that supersedes it.
    ```

    ## Fix safety
    None to apply: the finding names the failed confirmation and what dbtruth saw.

    ## References
    Playbook §5 Principle 10, §15; MADR 4 "Confirmation".
    """
    for adr in facts.adrs:
        if not standing(adr) or adr.proposed:
            continue
        for result in facts.confirmations.get(adr.path, []):
            if result.verdict != "fails":
                continue
            c = result.confirmation
            yield (
                Violation(
                    adr_object(adr),
                    f"{adr.label} is contradicted by the schema: {c.text} — {result.evidence}",
                    evidence=(("confirmation", c.text), ("seen", result.evidence)),
                    discriminator=str(c.line),
                ),
                adr,
                c.line,
            )
