"""H004 mutable-audit-table."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import own_tables, short_name, table_ref, tokens
from dbtruth.spec import Settings, rule

APPEND_ONLY_WORDS = frozenset(
    [
        "audit",
        "audits",
        "ledger",
        "journal",
        "transition",
        "transitions",
        "history",
        "histories",
        "custody",
    ]
)
_RAISES = re.compile(r"\braise\s+exception\b", re.IGNORECASE)


# Two-word heads that name a record of what happened.
_APPEND_ONLY_PAIRS = (
    ("audit", "log"),
    ("audit", "logs"),
    ("event", "log"),
    ("audit", "event"),
    ("audit", "events"),
    ("audit", "trail"),
    ("log", "entries"),
    ("ledger", "entry"),
    ("ledger", "entries"),
    ("journal", "entry"),
    ("journal", "entries"),
)


def is_append_only_by_name(table: Table) -> bool:
    """The table's head noun (its last word) says it records history: `case_audit`,
    `case_state_transition`, `audit_log_entries` — but not `history_tasks` or `history_node`,
    where "history" only qualifies the thing the table holds."""
    parts = tokens(table.name)
    return bool(parts) and (parts[-1] in APPEND_ONLY_WORDS or parts[-2:] in _APPEND_ONLY_PAIRS)


def guarded_events(catalog: Catalog, table: Table) -> set[str]:
    """UPDATE/DELETE events a BEFORE trigger refuses by raising an exception."""
    guarded: set[str] = set()
    for trigger in catalog.triggers_of(table):
        if not trigger.enabled or trigger.timing != "before":
            continue
        if any(_RAISES.search(f.body) for f in catalog.function(trigger.function)):
            guarded.update(e for e in trigger.events if e in ("update", "delete"))
    return guarded


@rule("H004", "mutable-audit-table", Severity.WARNING)
def mutable_audit_table(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds audit, history, transition, ledger and journal tables (by name) that the database does
    not keep append-only: UPDATE or DELETE is not refused by a guard trigger, UPDATE, DELETE or
    TRUNCATE is granted to other roles, or a foreign key deletes its rows in cascade with a
    parent.

    ## Why is this bad?
    An audit trail that can be edited is not evidence. The playbook's enforcement table maps
    regulatory evidence to "append-only event + audit proof" (§3.2), and §16 warns against
    assuming an audit log equals regulatory evidence. A cascade from a mutable parent erases
    history when the parent is deleted.

    ## Example
    ```sql
    CREATE TABLE case_audit (id bigint PRIMARY KEY,
        case_id bigint REFERENCES case_file (id) ON DELETE CASCADE, detail text);
    GRANT UPDATE, DELETE ON case_audit TO app;
    ```

    ## Use instead
    ```sql
    CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
    CREATE TRIGGER case_audit_append_only BEFORE UPDATE OR DELETE ON case_audit
        FOR EACH ROW EXECUTE FUNCTION forbid_change();
    -- and ON DELETE RESTRICT on references to mutable parents; grant INSERT and SELECT only
    ```

    ## Fix safety
    The trigger takes SHARE ROW EXCLUSIVE for an instant. Replacing a cascading foreign key
    re-adds it NOT VALID and validates it (writes continue). REVOKE is immediate. Retention
    purges then need an explicit, audited path (e.g. a SECURITY DEFINER function that disables
    the guard for its own transaction).

    ## References
    PostgreSQL manual 43.10 Trigger Functions, 5.8 Privileges; playbook §3.2, Principle 3, §16.
    """
    for table in own_tables(catalog):
        if not is_append_only_by_name(table):
            continue
        reasons: list[str] = []
        steps: list[str] = []
        table_sql = qualified(table.schema, table.name)
        missing = {"update", "delete"} - guarded_events(catalog, table)
        if missing:
            reasons.append(f"no trigger refuses {' or '.join(sorted(missing)).upper()}")
            function = qualified(table.schema, "forbid_change")
            steps.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS\n"
                "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;\n"
                f"CREATE TRIGGER {ident(short_name(table.name, suffix='append_only'))} "
                f"BEFORE UPDATE OR DELETE ON {table_sql}\n"
                f"    FOR EACH ROW EXECUTE FUNCTION {function}();"
            )
        writers = sorted(
            {
                g.grantee
                for g in catalog.grants_on(table.qualified)
                if g.privilege in ("UPDATE", "DELETE", "TRUNCATE")
            }
        )
        if writers:
            reasons.append(f"UPDATE/DELETE/TRUNCATE granted to {', '.join(writers)}")
            steps.extend(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {table_sql} FROM "
                f"{'PUBLIC' if w == 'PUBLIC' else ident(w)};"
                for w in writers
            )
        for fk in catalog.constraints_of(table):
            if fk.kind != "foreign key" or fk.on_delete != "cascade" or fk.inherited:
                continue
            parent = catalog.table(fk.ref_qualified or "")
            if parent is not None and is_append_only_by_name(parent):
                continue
            reasons.append(
                f"{fk.name} deletes its rows with {fk.ref_qualified} (ON DELETE CASCADE)"
            )
            cols = ", ".join(ident(c) for c in fk.columns)
            refs = ", ".join(ident(c) for c in fk.ref_columns)
            steps.append(
                f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(fk.name)},\n"
                f"    ADD CONSTRAINT {ident(fk.name)} FOREIGN KEY ({cols}) REFERENCES "
                f"{qualified(fk.ref_schema or '', fk.ref_table or '')} ({refs}) "
                "ON DELETE RESTRICT NOT VALID;\n"
                f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(fk.name)};"
            )
        if not reasons:
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} is a history/audit table but is not append-only: "
            + "; ".join(reasons),
            Fix(
                "make it append-only in the database",
                sql="\n".join(steps),
                safe=True,
                note="brief locks; FK re-added NOT VALID then validated",
            ),
            evidence=tuple(("reason", r) for r in reasons),
        )
