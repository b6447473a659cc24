"""H003 state-column-without-history."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.grain.status_column_unconstrained import state_columns
from dbtruth.rules.naming import column_ref, fresh_name, own_tables, short_name, tokens
from dbtruth.spec import Settings, rule

HISTORY_WORDS = frozenset(
    [
        "history",
        "histories",
        "transition",
        "transitions",
        "log",
        "logs",
        "event",
        "events",
        "audit",
        "audits",
        "change",
        "changes",
        "journal",
        "timeline",
    ]
)

# from_state / to_state / previous_status describe a transition, not a current state.
_TRANSITION_ENDS = frozenset({"from", "to", "old", "new", "previous", "prev", "next"})


def history_prefixes(catalog: Catalog) -> set[tuple[str, ...]]:
    """Every leading run of words of every history-named table: `case_state_transition` gives
    (case,), (case, state), ... so that "is there a <table>_history?" is one set lookup."""
    prefixes: set[tuple[str, ...]] = set()
    for other in catalog.tables:
        words = tokens(other.name)
        if HISTORY_WORDS.intersection(words):
            prefixes.update(tuple(words[:i]) for i in range(1, len(words)))
    return prefixes


def has_history(catalog: Catalog, table: Table, prefixes: set[tuple[str, ...]]) -> bool:
    """A table that references this one and whose name says it records changes, or one named
    <table>_history / <table>_transition / ..."""
    if any(HISTORY_WORDS.intersection(tokens(fk.table)) for fk in catalog.foreign_keys_to(table)):
        return True
    return tuple(tokens(table.name)) in prefixes


@rule("H003", "state-column-without-history", Severity.INFO)
def state_column_without_history(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables with a state column (`status`, `state`, `*_status`, ...) and no table that
    records its transitions (a history/transition/event/audit table referencing it, or named
    after it).

    ## Why is this bad?
    Overwriting the state loses when, why and by whom it changed: SLA measurement, audit and
    reconstructing the case at a point in time become impossible. The playbook's mini ADR keeps
    the current state for fast reads and every transition in an append-only table (§15,
    Principle 2, Principle 3).

    ## Example
    ```sql
    CREATE TABLE case_file (id bigint PRIMARY KEY, status text NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE case_state_transition (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        case_file_id bigint NOT NULL REFERENCES case_file (id),
        from_state text, to_state text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(), changed_by text NOT NULL, reason text);
    ```

    ## Fix safety
    Creating a new table locks nothing existing. Filling it is the application's write path
    (same transaction as the state change), which the fix cannot add.

    ## References
    Playbook §15 mini ADR, Principle 2, Principle 3 (durable trace of important events).
    """
    prefixes = history_prefixes(catalog)
    for table in own_tables(catalog):
        if HISTORY_WORDS.intersection(tokens(table.name)):
            continue  # the history table itself
        columns = [
            c for c in state_columns(table) if not _TRANSITION_ENDS.intersection(tokens(c.name))
        ]
        if not columns or has_history(catalog, table, prefixes):
            continue
        pk = next((c for c in catalog.constraints_of(table) if c.kind == "primary key"), None)
        sql = None
        if pk is not None and len(pk.columns) == 1 and (key := table.column(pk.columns[0])):
            history = fresh_name(catalog, table.schema, table.name, suffix="state_transition")
            ref = short_name(table.name, pk.columns[0], suffix="ref")[:-4]
            state_type = columns[0].type
            sql = (
                f"CREATE TABLE {qualified(table.schema, history)} (\n"
                "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                f"    {ident(ref)} {key.type} NOT NULL REFERENCES "
                f"{qualified(table.schema, table.name)} ({ident(key.name)}),\n"
                f"    from_state {state_type},\n    to_state {state_type} NOT NULL,\n"
                "    changed_at timestamptz NOT NULL DEFAULT now(),\n"
                "    changed_by text NOT NULL,\n    reason text\n);\n"
                f"CREATE INDEX ON {qualified(table.schema, history)} ({ident(ref)});"
            )
        yield Violation(
            column_ref(table, columns[0].name),
            f"{table.qualified}.{columns[0].name} is overwritten in place and no table records "
            "its transitions",
            Fix(
                "record every transition in an append-only table, written in the same "
                "transaction as the state change",
                sql=sql,
                safe=True,
                note="new table; the write path must fill it",
            ),
        )
