"""H005 declared-period-without-overlap-guard."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import column_ref
from dbtruth.spec import Settings, rule


@rule("H005", "declared-period-without-overlap-guard", Severity.WARNING)
def declared_period_without_overlap_guard(
    catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    For every table whose effective period `dbtruth.yaml` declares under `time`, finds those
    with no exclusion constraint — nothing stops two periods from overlapping — and declared
    columns the table does not have.

    ## Why is this bad?
    Declaring an effective period says "at any instant, one version of this fact holds".
    Overlapping periods make "what was true on date D" return two answers. The enforcement
    table maps non-overlap to an exclusion constraint or a transactional guard (3.2, 3.4).
    I005 asks the same of tables that merely look effective-dated; this rule holds declared
    ones to what the manifest says.

    ## Example
    ```yaml
    time:
      billing.price: {effective: {from: valid_from, to: valid_to}}
    ```

    ## Use instead
    ```sql
    ALTER TABLE billing.price ADD CONSTRAINT price_no_overlap EXCLUDE USING gist
        (product_id WITH =, tstzrange(valid_from, valid_to) WITH &&);
    ```

    ## Fix safety
    No SQL fix: the grouping key of the exclusion (which rows may not overlap) is the
    designer's. Adding it scans the table under SHARE ROW EXCLUSIVE and fails on existing
    overlaps; scalar keys need the btree_gist extension.

    ## References
    PostgreSQL manual 5.5.6 Exclusion Constraints; playbook 3.2, 3.4.
    """
    for name, columns in settings.design.time.items():
        period = columns.effective
        table = catalog.table(name)
        if period is None or table is None:
            continue
        absent = [c for c in (period.from_, period.to) if table.column(c) is None]
        if absent:
            yield Violation(
                column_ref(table, absent[0]),
                f"{table.qualified} has no column {', '.join(absent)} for its declared "
                "effective period",
                Fix("correct the time section of dbtruth.yaml"),
                discriminator="missing",
            )
            continue
        if any(c.kind == "exclusion" for c in catalog.constraints_of(table)):
            continue
        yield Violation(
            column_ref(table, period.to),
            f"{table.qualified} declares the effective period {period.from_} .. {period.to} but "
            "no exclusion constraint stops periods from overlapping",
            Fix(
                "add an exclusion constraint over the grouping key and the period: EXCLUDE "
                f"USING gist (<key> WITH =, tstzrange({ident(period.from_)}, "
                f"{ident(period.to)}) WITH &&) on {qualified(table.schema, table.name)}"
            ),
            evidence=(("period", f"{period.from_} .. {period.to}"),),
        )
