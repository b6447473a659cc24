"""D007 adr-revisit-trigger-fired."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object, standing
from dbtruth.spec import Settings, decision_rule


@decision_rule("D007", "adr-revisit-trigger-fired", Severity.WARNING)
def adr_revisit_trigger_fired(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Reads each revisit trigger that carries a threshold (`watch: \\`SELECT …\\` > 1000`) and
    reports the ones crossed, with the value read. The query is one plain SELECT, run
    read-only.

    ## Why is this bad?
    The decision's own authors said it should be looked at again past this point: the
    assumption it rested on no longer holds (playbook §15 Revisit Triggers, §11).

    ## Example
    ```
    - Transitions per case exceed 1,000 — watch: `SELECT max(n) FROM transitions_per_case` > 1000
      (and a case now has 1,450)
    ```

    ## Use instead
    ```
    Revisit the decision: confirm it with a new trigger, or supersede it.
    ```

    ## Fix safety
    None to apply.

    ## References
    Playbook §15, §11.
    """
    for adr in facts.adrs:
        if not standing(adr):
            continue
        for result in facts.watches.get(adr.path, []):
            if result.fired:
                watch = result.watch
                yield (
                    Violation(
                        adr_object(adr),
                        f"{adr.label}'s revisit trigger fired: {watch.trigger} ({result.evidence})",
                        evidence=(("query", watch.query), ("read", result.evidence)),
                        discriminator=str(watch.line),
                    ),
                    adr,
                    watch.line,
                )
