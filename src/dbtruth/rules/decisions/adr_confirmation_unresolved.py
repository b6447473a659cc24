"""D008 adr-confirmation-unresolved."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object
from dbtruth.spec import Settings, decision_rule


@decision_rule("D008", "adr-confirmation-unresolved", Severity.ERROR)
def adr_confirmation_unresolved(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds a confirmation that names nothing dbtruth knows: a rule code or name that does not
    exist, an invariant id dbtruth.yaml does not declare, a workload query it does not name,
    or a watch query dbtruth will not run (not one plain SELECT).

    ## Why is this bad?
    A confirmation that resolves to nothing is never checked, so the ADR reads as confirmed
    while nothing confirms it — a typo turns a guard into decoration.

    ## Example
    ```
    ## Confirmation
    - invariant: transition-histroy-append-only
    ```

    ## Use instead
    ```
    ## Confirmation
    - invariant: transition-history-append-only
    ```

    ## Fix safety
    Documentation only.

    ## References
    Playbook §15; MADR 4 "Confirmation".
    """
    for adr in facts.adrs:
        for result in facts.confirmations.get(adr.path, []):
            if result.verdict == "unknown":
                c = result.confirmation
                yield (
                    Violation(
                        adr_object(adr),
                        f"{adr.label}'s confirmation '{c.text}' names nothing dbtruth knows: "
                        f"{result.evidence}",
                        discriminator=str(c.line),
                    ),
                    adr,
                    c.line,
                )
        for seen in facts.watches.get(adr.path, []):
            if seen.value is None and seen.evidence.startswith("refused"):
                yield (
                    Violation(adr_object(adr), f"{adr.label}'s watch query is not run: "
                              f"{seen.evidence}", discriminator=f"w{seen.watch.line}"),
                    adr,
                    seen.watch.line,
                )  # fmt: skip
