"""H004 mutable-audit-table."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog, Constraint, Table
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.audit import audit_evidence, declared, log_shape
from dbtruth.rules.naming import own_tables, short_name, table_ref, tokens
from dbtruth.spec import Settings, rule

_RAISES = re.compile(r"\braise\s+exception\b", re.IGNORECASE)


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
    Finds audit logs that the database does not keep append-only: UPDATE or DELETE is not
    refused by a guard trigger, UPDATE, DELETE or TRUNCATE is granted to other roles, or a
    foreign key deletes its rows in cascade with a parent, so that a parent's delete erases them.

    A table is an audit log when dbtruth.yaml gives it the role `audit`, when its head noun
    records history (audit, history, transition, ledger, journal, custody, audit_log,
    log_entries), or when its name speaks of a log, events or activity and its columns have a
    log's shape: an actor (`user_id`, `accessed_by`, `actor_*`, `ip_address`), a time, an
    action or target (`action`, `event_type`, a foreign key such as `secret_id`), and no column
    that marks rows as meant to change (`updated_at`, `status`, `processed_at`, `deleted_at`) —
    so `secret_access_logs` is judged and `webhook_events` (a queue) is not. When the only gap
    is the missing trigger (no other role may edit it, no delete cascades into it) the finding
    is info: a hardening step against the owning application's own mistakes.

    ## Why is this bad?
    An audit trail that can be edited is not evidence. The playbook's enforcement table maps
    regulatory evidence to "append-only event + audit proof" (§3.2), and §16 warns against
    assuming an audit log equals regulatory evidence. A cascade from a mutable parent erases
    history when the parent is deleted: deleting a secret erases the record of who read it.

    ## Example
    ```sql
    CREATE TABLE secret_access_logs (id bigint PRIMARY KEY,
        secret_id bigint NOT NULL REFERENCES secret (id) ON DELETE CASCADE,
        accessed_by bigint NOT NULL, action text NOT NULL, accessed_at timestamptz NOT NULL);
    GRANT UPDATE, DELETE ON secret_access_logs TO app;
    ```

    ## Use instead
    ```sql
    CREATE FUNCTION secret_access_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN
        -- the retention purge declared in dbtruth.yaml (keep: 1 year)
        IF TG_OP = 'DELETE' AND OLD.accessed_at < now() - interval '1 year' THEN RETURN OLD; END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END $$;
    CREATE TRIGGER secret_access_logs_append_only BEFORE UPDATE OR DELETE ON secret_access_logs
        FOR EACH ROW EXECUTE FUNCTION secret_access_logs_append_only();
    -- ON DELETE RESTRICT on references to mutable parents; grant INSERT and SELECT only
    ```

    ## Fix safety
    Lock-safe, and it changes behaviour on purpose: edits and deletes are refused from then on.
    The trigger takes SHARE ROW EXCLUSIVE for an instant; a cascading key is re-added ON DELETE
    RESTRICT NOT VALID and validated (writes continue), so the parent can be deleted only once
    its log rows are purged; REVOKE is immediate. The fix keeps the purge paths dbtruth.yaml
    declares working: with a `retention` entry for the log (`keep: 90 days`) the guard admits
    DELETE of rows older than that (by the `time` section's column, else the log's own time
    column) and DELETE stays granted; detaching or dropping partitions of a partitioned log
    fires no row trigger and needs no exception. A cascading key to a parent with its own
    declared retention is dropped rather than restricted (the log outlives the parent; its id
    stays as a recorded fact), and a key whose parent's delete sets it NULL stays allowed to do
    so (only those columns may change).

    ## References
    PostgreSQL manual 43.10 Trigger Functions, 5.8 Privileges, 5.5.5 Foreign Keys; playbook
    §3.2, Principle 3, §16.
    """
    for table in own_tables(catalog):
        recognised = audit_evidence(catalog, table, settings)
        if recognised is None:
            continue
        plan = _Plan(catalog, settings, table)
        if not plan.reasons:
            continue
        # Only the guard missing: no other role may edit it and no delete cascades into it, so
        # what is left is the owning application's own discipline (one hardening step).
        guard_only = plan.unguarded and len(plan.reasons) == 1
        yield Violation(
            table_ref(table),
            f"{table.qualified} is a history/audit table but is not append-only: "
            + "; ".join(plan.reasons)
            + (
                " (no other role may edit it and no delete cascades into it: a hardening step)"
                if guard_only
                else ""
            ),
            Fix(
                "make it append-only in the database",
                sql="\n".join(plan.steps),
                lock_safe=True,
                behaviour_change=True,
                note="brief locks; from then on edits and deletes are refused, except the "
                "purge dbtruth.yaml `retention` declares",
            ),
            evidence=(
                ("recognised by", recognised),
                *(("reason", r) for r in plan.reasons),
                *plan.evidence,
            ),
            severity=Severity.INFO if guard_only else None,
        )


# "90 days", "10 years after closure": the leading amount and unit, as a PostgreSQL interval.
_KEEP = re.compile(r"^\s*(\d{1,6})\s*(year|month|week|day|hour)s?\b", re.IGNORECASE)
_PURGE_TIME_WORDS = ("created", "recorded", "occurred", "inserted", "logged", "accessed", "at")


class _Plan:
    """What keeps one audit log from being append-only, and the SQL that makes it so without
    breaking the purge and delete paths the manifest and the schema declare."""

    def __init__(self, catalog: Catalog, settings: Settings, table: Table) -> None:
        self.catalog, self.settings, self.table = catalog, settings, table
        self.reasons: list[str] = []
        self.steps: list[str] = []
        self.evidence: list[tuple[str, str]] = []
        self.unguarded = False  # no trigger refuses edits
        self.table_sql = qualified(table.schema, table.name)
        retention_key = declared(dict(settings.design.retention), table)
        self.retention = settings.design.retention[retention_key] if retention_key else None
        method = (self.retention.method or "") if self.retention else ""
        # Dropping or detaching a partition fires no row trigger: nothing to let through.
        self.purges_rows = self.retention is not None and not (
            table.kind == "partitioned table" and "partition" in method.lower()
        )
        # What a parent's ON DELETE SET NULL / SET DEFAULT writes into the log: the guard lets
        # exactly that through, or deleting the parent would start failing.
        self.cleared = [
            (_cleared_columns(fk), fk.on_delete == "set null")
            for fk in catalog.constraints_of(table)
            if fk.kind == "foreign key" and fk.on_delete in ("set null", "set default")
        ]
        self._guard()
        self._grants()
        self._cascades()

    def _cascades(self) -> None:
        for fk in self.catalog.constraints_of(self.table):
            if fk.kind != "foreign key" or fk.inherited or fk.on_delete != "cascade":
                continue
            parent = self.catalog.table(fk.ref_qualified or "")
            if parent is not None and audit_evidence(self.catalog, parent, self.settings):
                continue  # one record's parts, kept or purged together
            self.reasons.append(
                f"{fk.name} deletes its rows with {fk.ref_qualified} (ON DELETE CASCADE)"
            )
            drop = f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(fk.name)}"
            parent_retention = parent is not None and declared(
                dict(self.settings.design.retention), parent
            )
            if parent_retention:
                # RESTRICT would stop the parent's own declared purge while log rows remain.
                self.steps.append(f"{drop};")
                self.evidence.append(
                    (fk.name, f"dropped: {parent_retention} has its own retention in dbtruth.yaml")
                )
                continue
            cols = ", ".join(ident(c) for c in fk.columns)
            refs = ", ".join(ident(c) for c in fk.ref_columns)
            self.steps.append(
                f"{drop},\n"
                f"    ADD CONSTRAINT {ident(fk.name)} FOREIGN KEY ({cols}) REFERENCES "
                f"{qualified(fk.ref_schema or '', fk.ref_table or '')} ({refs}) "
                "ON DELETE RESTRICT NOT VALID;\n"
                f"ALTER TABLE {self.table_sql} VALIDATE CONSTRAINT {ident(fk.name)};"
            )

    def _guard(self) -> None:
        missing = {"update", "delete"} - guarded_events(self.catalog, self.table)
        if not missing:
            return
        self.reasons.append(f"no trigger refuses {' or '.join(sorted(missing)).upper()}")
        self.unguarded = True
        table = self.table
        body = ["BEGIN"]
        purge = self._purge_condition()
        if purge:
            body.append(f"    -- the retention purge dbtruth.yaml declares (keep: {purge[1]})")
            body.append(f"    IF TG_OP = 'DELETE' AND {purge[0]} THEN RETURN OLD; END IF;")
        if self.cleared:
            body.append("    -- a parent's ON DELETE SET NULL clears its reference, nothing else")
        for columns, to_null in self.cleared:
            names = ", ".join(_literal(c) for c in columns)
            nulls = "".join(f" AND NEW.{ident(c)} IS NULL" for c in columns) if to_null else ""
            body.append(
                f"    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - ARRAY[{names}] = "
                f"to_jsonb(OLD) - ARRAY[{names}]{nulls} THEN RETURN NEW; END IF;"
            )
        body += ["    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;", "END"]
        text = "\n".join(body)
        tag = "$guard$"
        while tag in text:
            tag = tag[:-1] + "_$"
        function = self._function_name()
        self.steps.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS {tag}\n"
            f"{text}\n{tag};\n"
            f"CREATE TRIGGER {ident(short_name(table.name, suffix='append_only'))} "
            f"BEFORE UPDATE OR DELETE ON {self.table_sql}\n"
            f"    FOR EACH ROW EXECUTE FUNCTION {function}();",
        )

    def _purge_condition(self) -> tuple[str, str] | None:
        """`OLD.<time> < now() - interval '<keep>'` for a log purged row by row."""
        if self.retention is None or not self.purges_rows:
            return None
        keep = _KEEP.match(self.retention.keep)
        column = self._purge_column()
        if keep is None or column is None:
            self.evidence.append(
                (
                    "retention",
                    f"keep '{self.retention.keep}' gives no age by a time column: "
                    "add the purge's condition to the guard",
                )
            )
            return None
        interval = f"{keep.group(1)} {keep.group(2).lower()}s"
        self.evidence.append(("retention", f"guard admits DELETE of rows older than {interval}"))
        return f"OLD.{ident(column)} < now() - interval '{interval}'", interval

    def _purge_column(self) -> str | None:
        time_key = declared(dict(self.settings.design.time), self.table)
        if time_key is not None:
            declared_time = self.settings.design.time[time_key]
            for name in (*declared_time.transaction, *declared_time.event):
                if self.table.column(name) is not None:
                    return name
        candidates = [c for c in self.table.columns if c.type_category == "D"]
        shape = log_shape(self.catalog, self.table, self.settings)
        if shape is not None:
            return shape.time
        for column in sorted(candidates, key=lambda c: not c.not_null):
            if set(tokens(column.name)) & set(_PURGE_TIME_WORDS):
                return column.name
        return candidates[0].name if candidates else None

    def _function_name(self) -> str:
        schema, base = self.table.schema, short_name(self.table.name, suffix="append_only")
        name, counter = base, 1
        while self.catalog.function(f"{schema}.{name}"):
            name = short_name(self.table.name, suffix=f"append_only{counter}")
            counter += 1
        return qualified(schema, name)

    def _grants(self) -> None:
        # A purge that deletes rows keeps DELETE: the guard admits only expired rows.
        revoked = ("UPDATE", "TRUNCATE") if self.purges_rows else ("UPDATE", "DELETE", "TRUNCATE")
        writers = sorted(
            {
                g.grantee
                for g in self.catalog.grants_on(self.table.qualified)
                if g.privilege in revoked
            }
        )
        if not writers:
            return
        self.reasons.append(f"{'/'.join(revoked)} granted to {', '.join(writers)}")
        self.steps.extend(
            f"REVOKE {', '.join(revoked)} ON {self.table_sql} FROM "
            f"{'PUBLIC' if w == 'PUBLIC' else ident(w)};"
            for w in writers
        )


_ACTION_COLUMNS = re.compile(r"ON DELETE SET (?:NULL|DEFAULT) \(([^)]*)\)", re.IGNORECASE)


def _cleared_columns(fk: Constraint) -> tuple[str, ...]:
    """The columns a key's ON DELETE SET NULL/DEFAULT writes: all of its own, or the list
    PostgreSQL 15+ lets it name (`SET NULL (user_id)` keeps a tenant key)."""
    listed = _ACTION_COLUMNS.search(fk.definition)
    if listed is None:
        return fk.columns
    return tuple(part.strip().strip('"') for part in listed.group(1).split(","))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
