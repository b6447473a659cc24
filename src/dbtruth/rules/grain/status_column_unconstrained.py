"""G002 status-column-unconstrained."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Column, Table
from dbtruth.rules.naming import column_ref, own_tables, tokens
from dbtruth.rules.practices import NO_CHECKS, NO_CHECKS_SHORT, avoids_checks, large_schema
from dbtruth.spec import Settings, rule

STATE_WORDS = ("status", "state")
# From this many state columns, all of them unconstrained is a practice rather than a slip.
_CONSISTENT_MIN = 3


_ADDRESS_WORDS = frozenset(
    {"city", "country", "zip", "postal", "postcode", "province", "address", "county"}
)


def state_columns(table: Table) -> list[Column]:
    """Columns that name a lifecycle state: status, state, *_status, *_state, currentState.
    `state` beside `city` or `country` is part of an address, not a lifecycle."""
    found = [
        (c, parts)
        for c in table.columns
        if (parts := tokens(c.name))
        and parts[-1] in STATE_WORDS
        and c.type_category in ("S", "N", "E")
        and c.type_name != "bool"
        and "http" not in parts  # an HTTP status code is a measurement, not a lifecycle
    ]
    if not any(parts[-1] == "state" for _, parts in found):
        return [c for c, _ in found]
    # only then: is it an address? (asked of every table, this was most of the rule's time)
    address = any(_ADDRESS_WORDS.intersection(tokens(c.name)) for c in table.columns)
    return [c for c, parts in found if not (address and parts[-1] == "state")]


def is_constrained(catalog: Catalog, table: Table, column: Column) -> bool:
    if column.is_enum or column.domain is not None:
        return True
    return any(
        column.name in c.columns and c.kind in ("check", "foreign key")
        for c in catalog.constraints_of(table)
    )


@rule("G002", "status-column-unconstrained", Severity.WARNING)
def status_column_unconstrained(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds state columns (`status`, `state`, `*_status`, `*_state`) of a text or numeric type
    that no CHECK constraint, enum type, domain or foreign key to a lookup table constrains.

    Graded info for numeric codes (they cannot drift by spelling), and in a schema of 15 tables
    or more that has no CHECK constraint anywhere or constrains none of its (three or more)
    state columns: the value sets live in the code by design, one decision on record.

    ## Why is this bad?
    The set of legal states is the heart of a lifecycle. Unconstrained, the column accepts
    'Closed', 'closed ', 'CLOSD' and 7 alike; reports group by typos and code paths disagree on
    what exists. "Enum/status evolvable?" is a schema question (§6.4); valid range belongs in a
    CHECK (§3.2).

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY, status text NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_state (code text PRIMARY KEY);
    CREATE TABLE case_file (id bigint PRIMARY KEY,
                            status text NOT NULL REFERENCES case_state (code));
    ```

    ## Fix safety
    No SQL fix: only the domain owner knows the legal values. Add the CHECK or FK NOT VALID,
    repair rows, then VALIDATE — writes continue during validation.

    ## References
    PostgreSQL manual 5.5.1 Check Constraints, 8.7 Enumerated Types; playbook §3.2, §6.4.
    """
    states = [(t, c) for t in own_tables(catalog) for c in state_columns(t)]
    unconstrained = [(t, c) for t, c in states if not is_constrained(catalog, t, c)]
    # None of the schema's states constrained, in a schema of some size: the value sets live
    # in the code by design (one decision); some constrained and some not is the
    # inconsistency worth a warning.
    design: tuple[str, str] | None = None
    if avoids_checks(catalog):
        design = (NO_CHECKS_SHORT, NO_CHECKS)
    elif large_schema(catalog) and len(unconstrained) == len(states) >= _CONSISTENT_MIN:
        design = (
            f"; none of the schema's {len(states)} state columns is constrained, a design decision",
            f"none of the schema's {len(states)} state columns is constrained: the value sets "
            "live in the code; graded info as one design decision",
        )
    for table, column in unconstrained:
        # numeric codes cannot drift by spelling ('Closed', 'closed '): the code's enum owns
        # them, and an unknown number is a smaller risk than free text
        numeric = column.type_category == "N"
        why = (("codes", "numeric: no spelling variants"),) if numeric else ()
        yield Violation(
            column_ref(table, column.name),
            f"{table.qualified}.{column.name} ({column.type}) holds a state but nothing "
            "constrains which states exist"
            + ("; numeric codes cannot drift by spelling" if numeric else "")
            + (design[0] if design else ""),
            Fix(
                "constrain the states: CHECK (... IN (...)), an enum, or an FK to a lookup "
                "table; add it NOT VALID, repair rows, then VALIDATE"
            ),
            evidence=(("type", column.type), *why, *((("design", design[1]),) if design else ())),
            severity=Severity.INFO if (design or numeric) else None,
        )
