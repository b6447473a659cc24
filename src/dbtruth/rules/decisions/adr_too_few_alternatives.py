"""D002 adr-too-few-alternatives."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object, standing
from dbtruth.spec import Settings, decision_rule
from dbtruth.words import counted


def alternatives(adr: Adr) -> int:
    """Alternatives considered besides the decision. MADR lists the chosen option among its
    Considered Options; the other shapes list only the ones not taken."""
    items = len(adr.items("alternatives"))
    return max(items - 1, 0) if adr.shape == "madr" else items


@decision_rule("D002", "adr-too-few-alternatives", Severity.WARNING)
def adr_too_few_alternatives(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds a standing ADR (not superseded, deprecated or rejected) that records fewer than two
    alternatives to what it decided.

    ## Why is this bad?
    A decision with one option or a straw man was not a choice: nobody can tell later whether
    the alternatives were weighed or never seen, nor re-open the choice when a revisit
    trigger fires (playbook §5 Principle 10, §8: compare options against requirements).

    ## Example
    ```
    ## Alternatives Considered
    - Do nothing.
    ```

    ## Use instead
    ```
    ## Alternatives Considered
    - Only a current_state column: loses who and why.
    - Event sourcing: a rebuild per read, and a projection to run anyway.
    ```

    ## Fix safety
    Documentation only.

    ## References
    Playbook §5 Principle 10, §8, §15; MADR 4 "Considered Options".
    """
    for adr in facts.adrs:
        if not standing(adr):
            continue
        count = alternatives(adr)
        if count < 2:
            yield (
                Violation(
                    adr_object(adr),
                    f"{adr.label} records {counted(count, 'alternative')} to its decision; two or "
                    "more show it was a choice",
                    evidence=(("alternatives", str(count)),),
                ),
                adr,
                adr.line("alternatives") if adr.has("alternatives") else 1,
            )
