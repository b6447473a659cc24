"""D005 adr-duplicate-number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from dbtruth.findings import Severity, Violation
from dbtruth.model.decisions import Adr, DecisionFacts
from dbtruth.rules.decisions import adr_object
from dbtruth.spec import Settings, decision_rule


@decision_rule("D005", "adr-duplicate-number", Severity.ERROR)
def adr_duplicate_number(
    facts: DecisionFacts, settings: Settings
) -> Iterator[tuple[Violation, Adr, int]]:
    """
    ## What it does
    Finds two ADRs with the same number (from their file names, or their titles).

    ## Why is this bad?
    ADRs are cited by number — in code comments, other ADRs' supersession links, reviews. Two
    records behind one number make every citation ambiguous; it happens when two branches
    each add "the next" ADR and both merge.

    ## Example
    ```
    docs/adr/0007-use-a-queue-table.md
    docs/adr/0007-partition-audit-log.md
    ```

    ## Use instead
    ```
    docs/adr/0007-use-a-queue-table.md
    docs/adr/0008-partition-audit-log.md
    ```

    ## Fix safety
    Renumbering changes citations: update the links that name the renumbered ADR.

    ## References
    adr-tools numbering; playbook §15.
    """
    numbered: dict[int, list[Adr]] = defaultdict(list)
    for adr in facts.adrs:
        if adr.number is not None:
            numbered[adr.number].append(adr)
    for number, adrs in sorted(numbered.items()):
        for adr in adrs[1:]:
            yield (
                Violation(
                    adr_object(adr),
                    f"ADR number {number} is taken by {adrs[0].path.name} too",
                    evidence=(("files", ", ".join(a.path.name for a in adrs)),),
                ),
                adr,
                1,
            )
