"""D001 adr-missing-section."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object
from dbtruth.spec import Settings, decision_rule

# The sections every ADR needs, whatever its shape, and how the finding names them.
REQUIRED = (("status", "Status"), ("context", "Context"), ("decision", "Decision"),
            ("tradeoffs", "Consequences"))  # fmt: skip


@decision_rule("D001", "adr-missing-section", Severity.WARNING)
def adr_missing_section(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds an ADR without one of the sections every decision record needs: Status, Context,
    Decision, Consequences (MADR's Decision Outcome and front-matter status count, as do
    synonyms such as Trade-offs).

    ## Why is this bad?
    A decision without its context cannot be re-judged when the context changes, one without
    consequences hides what was given up, and one without a status cannot be told from a
    proposal (playbook §5 Principle 10: every important choice is defensible).

    ## Example
    ```
    # 7. Use a queue table
    ## Decision
    Jobs go into a queue table.
    ```

    ## Use instead
    ```
    # 7. Use a queue table
    ## Status
    Accepted
    ## Context
    …
    ## Decision
    …
    ## Consequences
    …
    ```

    ## Fix safety
    Documentation only; `dbtruth adr new` writes every section.

    ## References
    Playbook §15 (mini ADR template); M. Nygard, "Documenting Architecture Decisions"; MADR 4.
    """
    for adr in facts.adrs:
        missing = [label for part, label in REQUIRED if not adr.has(part)]
        if missing:
            yield (
                Violation(
                    adr_object(adr),
                    f"{adr.label} has no {', '.join(missing)} section",
                    evidence=(("sections found", ", ".join(sorted(adr.parts)) or "none"),),
                ),
                adr,
                1,
            )
