"""I005 effective-period-without-guard."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import column_ref, fresh_name, own_tables, tokens
from dbtruth.rules.practices import NO_CHECKS, NO_CHECKS_SHORT, avoids_checks
from dbtruth.spec import Settings, rule

_START = {"from", "start", "starts", "begin", "begins", "effective"}
_END = {"to", "end", "ends", "until", "thru", "through", "expires", "expiry"}
_PAIRS = (
    ("valid_from", "valid_to"),
    ("valid_from", "valid_until"),
    ("effective_from", "effective_to"),
    ("effective_from", "effective_until"),
    ("start_date", "end_date"),
    ("start_at", "end_at"),
    ("starts_at", "ends_at"),
    ("start_time", "end_time"),
    ("period_start", "period_end"),
    ("assigned_at", "unassigned_at"),
    ("begin_date", "end_date"),
)
_TEMPORAL = {"date", "timestamp", "timestamptz"}


def period_pairs(table: Table) -> list[tuple[Column, Column]]:
    """Pairs of temporal columns that together bound a period."""
    temporal = {c.name: c for c in table.columns if c.type_name in _TEMPORAL}
    pairs = [(temporal[a], temporal[b]) for a, b in _PAIRS if a in temporal and b in temporal]
    seen = {(a.name, b.name) for a, b in pairs}
    # Generic form: <prefix>_<start word> with <prefix>_<end word>, e.g. coverage_start/_end.
    for column in temporal.values():
        parts = tokens(column.name)
        for i, part in enumerate(parts):
            if part not in _START:
                continue
            for other in temporal.values():
                oparts = tokens(other.name)
                if (
                    len(oparts) == len(parts)
                    and oparts[:i] == parts[:i]
                    and oparts[i + 1 :] == parts[i + 1 :]
                    and oparts[i] in _END
                    and (column.name, other.name) not in seen
                ):
                    pairs.append((column, other))
                    seen.add((column.name, other.name))
    return pairs


@rule("I005", "effective-period-without-guard", Severity.WARNING)
def effective_period_without_guard(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds effective-dated tables — a start/end column pair such as `valid_from`/`valid_to`, or a
    range column — that have neither an exclusion constraint nor a CHECK that the end does not
    come before the start.

    In a schema of 15 tables or more with no CHECK constraint anywhere (value rules kept by the
    application or a data-quality tool) a missing order CHECK is graded info.

    ## Why is this bad?
    Effective time is when a fact holds (§3.4). Without a guard the database accepts periods that
    end before they begin and periods that overlap, and every report that asks "what was true on
    date D" can get two answers or none. The enforcement table maps non-overlap to an exclusion
    constraint and valid range to CHECK (§3.2).

    ## Example
    ```sql
    CREATE TABLE policy_rate (policy_id bigint, rate numeric,
                              valid_from date NOT NULL, valid_to date);
    ```

    ## Use instead
    ```sql
    CREATE TABLE policy_rate (policy_id bigint, rate numeric,
                              valid_from date NOT NULL, valid_to date,
                              CHECK (valid_to IS NULL OR valid_to >= valid_from),
                              EXCLUDE USING gist (policy_id WITH =,
                                  daterange(valid_from, valid_to) WITH &&));
    ```

    ## Fix safety
    The fix adds the CHECK NOT VALID (brief lock, no scan) and validates it (SHARE UPDATE
    EXCLUSIVE, writes continue). An exclusion constraint needs the grouping key, which only the
    designer knows, and btree_gist for scalar columns; add it once overlaps are repaired.
    Lock-safe, but it changes behaviour: writes with a reversed period are refused.

    ## References
    PostgreSQL manual 5.5.6 Exclusion Constraints, 8.17 Range Types; playbook §3.2, §3.4.
    """
    no_checks = avoids_checks(catalog)
    for table in own_tables(catalog):
        constraints = catalog.constraints_of(table)
        if any(c.kind == "exclusion" for c in constraints):
            continue
        for start, end in period_pairs(table):
            if any(
                c.kind == "check" and start.name in c.columns and end.name in c.columns
                for c in constraints
            ):
                continue
            name = fresh_name(catalog, table.schema, table.name, end.name, suffix="check")
            table_sql = qualified(table.schema, table.name)
            s, e = ident(start.name), ident(end.name)
            sql = (
                f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} "
                f"CHECK ({e} IS NULL OR {e} >= {s}) NOT VALID;\n"
                f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)};"
            )
            yield Violation(
                column_ref(table, end.name),
                f"{table.qualified} has the period {start.name} .. {end.name} with no CHECK "
                "that it ends after it starts and no exclusion constraint against overlaps"
                + (NO_CHECKS_SHORT if no_checks else ""),
                Fix(
                    "guard the period order (and add an exclusion constraint for non-overlap)",
                    sql=sql,
                    lock_safe=True,
                    behaviour_change=True,  # writes with a reversed period are refused
                    note="NOT VALID then VALIDATE: writes continue",
                ),
                evidence=(
                    ("period", f"{start.name} ({start.type}) .. {end.name} ({end.type})"),
                    *((("design", NO_CHECKS),) if no_checks else ()),
                ),
                discriminator=start.name,
                severity=Severity.INFO if no_checks else None,
            )
        for column in table.columns:
            if column.type_category == "R" and column.type_name.endswith("range"):
                yield Violation(
                    column_ref(table, column.name),
                    f"{table.qualified}.{column.name} is a {column.type} period with no "
                    "exclusion constraint against overlapping periods",
                    Fix(
                        "add an exclusion constraint over the grouping key and the range, e.g. "
                        f"EXCLUDE USING gist (<key> WITH =, {ident(column.name)} WITH &&)"
                    ),
                    evidence=(("type", column.type),),
                )
