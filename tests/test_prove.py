"""dbtruth prove: every invariant kind of this first version proven on schemas written here,
the examples, an invariant declared but not enforced, what cannot be synthesised, hostile
input, and a live target that is only ever read."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.conftest import Server
from tests.helpers import EXAMPLES, SCRATCH_KINDS, dbtruth, table_writes, write_files


def _prove(*argv: str, code: int = 0, scratch: str = "embedded") -> dict[str, Any]:
    outcome = dbtruth("prove", *argv, "--scratch", scratch, "--format", "json")
    assert outcome.code == code, outcome.err + outcome.out[-2000:]
    return json.loads(outcome.out)  # type: ignore[no-any-return]


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {proof["id"]: proof for proof in report["invariants"]}


def _refused(probe: dict[str, Any], sqlstate: str, constraint: str | None = None) -> None:
    """The illegal write was refused with `sqlstate` (by `constraint`), after its legal twin
    was accepted."""
    assert probe["status"] == "proven", probe
    last = probe["steps"][-1]
    assert last["purpose"] == "probe" and not last["accepted"], probe
    assert last["sqlstate"] == sqlstate, probe
    if constraint is not None:
        assert last["constraint"] == constraint, probe
    assert probe["accepted_row"] is None


BOOKINGS = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE TABLE account (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    mood       mood NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE booking (
    id         serial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES account (id),
    seats      int NOT NULL CHECK (seats BETWEEN 1 AND 8),
    status     text NOT NULL CHECK (status IN ('held', 'paid', 'void')),
    price      numeric(10,2) NOT NULL CONSTRAINT price_positive CHECK (price > 0),
    starts_at  date NOT NULL,
    ends_at    date,
    CONSTRAINT booking_period CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CONSTRAINT booking_status_short CHECK (length(status) < 10)
);
CREATE UNIQUE INDEX one_held_booking ON booking (account_id) WHERE status = 'held';
CREATE TABLE ledger (id bigint PRIMARY KEY, amount int NOT NULL);
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only';
END $$;
CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
"""


@pytest.fixture(scope="module")
def bookings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = write_files(tmp_path_factory.mktemp("bookings"), {"schema.sql": BOOKINGS})
    return _by_id(_prove(str(folder)))


def test_every_not_null_column_is_proven_with_enum_identity_serial_and_defaults(
    bookings: dict[str, dict[str, Any]],
) -> None:
    not_null = {
        "account": ("id", "email", "mood", "created_at"),
        "booking": ("id", "account_id", "seats", "status", "price", "starts_at"),
        "ledger": ("id", "amount"),
    }
    for table, columns in not_null.items():
        for column in columns:
            proof = bookings[f"public.{table}.{column} not null"]
            assert proof["status"] == "proven" and proof["evidence"] == "proven"
            (probe,) = proof["probes"]
            _refused(probe, "23502")
            assert probe["steps"][-1]["column"] == column
            # The legal twin, identical but for the NULL, was accepted first.
            control = [s for s in probe["steps"] if s["purpose"] == "control"]
            assert len(control) == 1 and control[0]["accepted"]
    # A nullable column states no invariant of existence.
    assert "public.booking.ends_at not null" not in bookings


def test_a_foreign_key_refuses_an_orphan_whose_parent_was_synthesised(
    bookings: dict[str, dict[str, Any]],
) -> None:
    (probe,) = bookings["public.booking_account_id_fkey"]["probes"]
    _refused(probe, "23503", "booking_account_id_fkey")
    setup = [s for s in probe["steps"] if s["purpose"] == "setup"]
    assert any(s["sql"].startswith('INSERT INTO "public"."account"') for s in setup)


def test_unique_and_partial_unique_indexes(bookings: dict[str, dict[str, Any]]) -> None:
    (email,) = bookings["public.account_email_key"]["probes"]
    _refused(email, "23505", "account_email_key")
    held = bookings["public.one_held_booking"]
    assert held["status"] == "proven"
    duplicate, outside = held["probes"]
    _refused(duplicate, "23505", "one_held_booking")
    assert duplicate["steps"][-1]["sql"].count("'held'::text") == 1
    # A second booking of the same account that is not held is legal beside the index.
    assert outside["expected"] == "accepted" and outside["status"] == "proven"
    accepted = outside["steps"][-1]
    assert accepted["accepted"] and accepted["row"]["status"] in ("paid", "void")


def test_check_constraints_are_probed_just_outside_their_bounds(
    bookings: dict[str, dict[str, Any]],
) -> None:
    seats = bookings["public.booking_seats_check"]
    assert seats["status"] == "proven"
    below, above = seats["probes"]  # BETWEEN 1 AND 8: 0 and 9
    for probe, value in ((below, "'0'::integer"), (above, "'9'::integer")):
        _refused(probe, "23514", "booking_seats_check")
        assert value in probe["sql"]
    (status,) = bookings["public.booking_status_check"]["probes"]
    _refused(status, "23514", "booking_status_check")
    assert not any(f"'{v}'::text" in status["sql"] for v in ("held", "paid", "void"))
    (price,) = bookings["public.price_positive"]["probes"]
    _refused(price, "23514", "price_positive")
    assert "'0'::numeric(10,2)" in price["sql"]
    (period,) = bookings["public.booking_period"]["probes"]
    _refused(period, "23514", "booking_period")
    short = bookings["public.booking_status_short"]
    assert short["status"] == "not provable" and short["evidence"] == "unknown"
    assert short["reason"].startswith("CHECK shape not understood: CHECK ((length(status)")


def test_a_guard_trigger_refuses_update_and_delete(bookings: dict[str, dict[str, Any]]) -> None:
    guard = bookings["public.ledger_guard"]
    assert guard["kind"] == "append-only" and guard["status"] == "proven"
    update, delete = guard["probes"]
    for probe, verb in ((update, "UPDATE"), (delete, "DELETE")):
        _refused(probe, "P0001")
        assert probe["sql"].startswith(verb)
        assert probe["steps"][-1]["message"] == "ledger is append-only"


def test_what_cannot_be_synthesised_is_not_provable_and_says_why(tmp_path: Path) -> None:
    write_files(tmp_path, {"schema.sql": """
        CREATE DOMAIN sku AS text CHECK (VALUE ~ '^[A-Z]{3}-[0-9]{4}$');
        CREATE TABLE product (id int PRIMARY KEY, code sku NOT NULL);
        CREATE TABLE node (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES node (id));
    """})  # fmt: skip
    proofs = _by_id(_prove(str(tmp_path)))
    for key in ("public.product.id not null", "public.product_pkey"):
        assert proofs[key]["status"] == "not provable"
        assert "sku_check" in proofs[key]["reason"], proofs[key]
    for key in ("public.node.id not null", "public.node_parent_id_fkey", "public.node_pkey"):
        assert proofs[key]["status"] == "not provable"
        assert "cycle" in proofs[key]["reason"], proofs[key]
    assert all(p["reason"] for p in proofs.values() if p["status"] == "not provable")


def test_shapes_of_real_schemas(tmp_path: Path) -> None:
    """A trigger that fills a NOT NULL column, a trigger that guards some rows only, a guard
    raising its own SQLSTATE, and a table partitioned on a past year whose partition declares
    its own reference."""
    write_files(tmp_path, {"schema.sql": """
        CREATE TABLE doc (id int PRIMARY KEY, body text, search tsvector NOT NULL);
        CREATE FUNCTION fill_search() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.search := to_tsvector('simple', coalesce(NEW.body, '')); RETURN NEW; END $$;
        CREATE TRIGGER doc_search BEFORE INSERT OR UPDATE ON doc
            FOR EACH ROW EXECUTE FUNCTION fill_search();

        CREATE TABLE item (id int PRIMARY KEY, state text NOT NULL);
        CREATE FUNCTION keep_closed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.state = 'closed' THEN RAISE EXCEPTION 'closed items are frozen'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER item_frozen BEFORE UPDATE ON item
            FOR EACH ROW EXECUTE FUNCTION keep_closed();

        CREATE TABLE vault (id int PRIMARY KEY);
        CREATE FUNCTION deny() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'use the API' USING ERRCODE = '42501'; END $$;
        CREATE TRIGGER vault_no_delete BEFORE DELETE ON vault
            FOR EACH ROW EXECUTE FUNCTION deny();

        CREATE TABLE device (id int PRIMARY KEY);
        CREATE TABLE reading (taken_on date NOT NULL, device_id int NOT NULL, value int)
            PARTITION BY RANGE (taken_on);
        CREATE TABLE reading_2020 PARTITION OF reading
            FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
        ALTER TABLE reading_2020 ADD CONSTRAINT reading_2020_device_fkey
            FOREIGN KEY (device_id) REFERENCES device (id);

        CREATE TABLE "Account" (id int PRIMARY KEY, "providerId" text NOT NULL,
                                "accountKey" text NOT NULL, UNIQUE ("providerId", "accountKey"));
        CREATE TABLE person (id int PRIMARY KEY);
        CREATE TABLE saved_view (id int PRIMARY KEY, project text NOT NULL, name text NOT NULL,
                                 person_id int REFERENCES person (id),
                                 external_ref text DEFAULT NULL);
        CREATE UNIQUE INDEX saved_view_shared ON saved_view (project, name)
            WHERE person_id IS NULL;
        CREATE UNIQUE INDEX saved_view_external ON saved_view (project, external_ref)
            WHERE external_ref IS NOT NULL;

        CREATE TABLE stay (room int NOT NULL, during daterange NOT NULL,
                           CONSTRAINT stay_no_overlap EXCLUDE USING gist (during WITH &&));
        CREATE EXTENSION btree_gist;
        CREATE TABLE shift (nurse int NOT NULL, starts_on date NOT NULL, ends_on date NOT NULL,
                            CONSTRAINT shift_apart EXCLUDE USING gist
                                (nurse WITH =, daterange(starts_on, ends_on, '[]') WITH &&));
        CREATE TABLE lease (car int NOT NULL, active boolean NOT NULL,
                            during tstzrange NOT NULL,
                            CONSTRAINT lease_active EXCLUDE USING gist
                                (car WITH =, during WITH &&) WHERE (active),
                            CONSTRAINT lease_other_car EXCLUDE USING gist
                                (car WITH <>, during WITH &&));
    """})  # fmt: skip
    proofs = _by_id(_prove(str(tmp_path)))
    (filled,) = proofs["public.doc.search not null"]["probes"]
    assert filled["status"] == "proven" and "a trigger replaced the NULL" in filled["observed"]
    assert filled["steps"][-1]["accepted"] and filled["steps"][-1]["row"]["search"] is not None
    frozen = proofs["public.item_frozen"]
    assert frozen["status"] == "not provable" and frozen["kind"] == "append-only"
    assert "may guard some rows only" in frozen["probes"][0]["reason"]
    (delete,) = proofs["public.vault_no_delete"]["probes"]
    _refused(delete, "42501")
    assert "at RAISE" in delete["steps"][-1]["context"]
    for column in ("taken_on", "device_id"):
        (probe,) = proofs[f"public.reading.{column} not null"]["probes"]
        _refused(probe, "23502")
        # The legal twin lands in the 2020 partition, the one partition there is.
        (control,) = [s for s in probe["steps"] if s["purpose"] == "control"]
        assert "'2020-01-01'::date" in control["sql"] and control["accepted"]
    (reference,) = proofs["public.reading_2020_device_fkey"]["probes"]
    _refused(reference, "23503", "reading_2020_device_fkey")
    (mixed_case,) = proofs["public.Account_providerId_accountKey_key"]["probes"]
    _refused(mixed_case, "23505", "Account_providerId_accountKey_key")
    # Outside "person_id IS NULL" a view belongs to a person, who is made first.
    duplicate, personal = proofs["public.saved_view_shared"]["probes"]
    _refused(duplicate, "23505", "saved_view_shared")
    assert personal["status"] == "proven" and personal["steps"][-1]["row"]["person_id"]
    assert any(s["sql"].startswith('INSERT INTO "public"."person"') for s in personal["steps"])
    # A key column is the only way out of "external_ref IS NOT NULL": no outside row to try;
    # its DEFAULT NULL does not leave the key empty.
    (external,) = proofs["public.saved_view_external"]["probes"]
    _refused(external, "23505", "saved_view_external")
    # Overlapping periods are refused; one starting where the first ends (half-open) is not.
    overlapping, adjacent = proofs["public.stay_no_overlap"]["probes"]
    _refused(overlapping, "23P01", "stay_no_overlap")
    assert adjacent["status"] == "proven" and adjacent["steps"][-1]["accepted"]
    # Closed periods that meet overlap: the legal row is one apart, and the same nurse's
    # overlapping shift is refused.
    overlapping, apart = proofs["public.shift_apart"]["probes"]
    _refused(overlapping, "23P01", "shift_apart")
    assert "is apart from the first one's" in apart["name"] and apart["status"] == "proven"
    # A partial constraint keeps apart the rows its WHERE holds: the rows are made active.
    overlapping, adjacent = proofs["public.lease_active"]["probes"]
    _refused(overlapping, "23P01", "lease_active")
    assert overlapping["steps"][-1]["sql"].count("'true'::boolean") == 1
    # A shape not probed is listed with the reason, not left out.
    other = proofs["public.lease_other_car"]
    assert other["status"] == "not provable" and "compares an element WITH <>" in other["reason"]


def test_a_trigger_that_lifts_the_timeout_and_waits_is_cancelled(tmp_path: Path) -> None:
    """The parent row's trigger sets statement_timeout to 0 for the rest of the probe (any
    role may), the child row's trigger then waits for an hour: dbtruth's watchdog cancels it,
    and the child's invariants are not provable, saying so."""
    write_files(tmp_path, {"schema.sql": """
        CREATE FUNCTION lift() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM set_config('statement_timeout', '0', false); RETURN NEW; END $$;
        CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('statement_timeout') = '0' THEN PERFORM pg_sleep(3600); END IF;
            RETURN NEW;
        END $$;
        CREATE TABLE parent (id int PRIMARY KEY);
        CREATE TRIGGER lift BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION lift();
        CREATE TABLE child (parent_id int NOT NULL REFERENCES parent (id));
        CREATE TRIGGER stall BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION stall();
    """})  # fmt: skip
    proofs = _by_id(_prove(str(tmp_path), "--probe-timeout", "100ms"))
    assert proofs["public.parent_pkey"]["status"] == "proven"
    for key in ("public.child.parent_id not null", "public.child_parent_id_fkey"):
        assert proofs[key]["status"] == "not provable"
        assert "57014" in proofs[key]["reason"], proofs[key]
    assert dbtruth("prove", str(tmp_path), "--probe-timeout", "0").code == 2


def test_casefile_proves_every_declared_invariant_of_the_kinds_probed_today() -> None:
    report = _prove(str(EXAMPLES / "casefile"))
    proofs = _by_id(report)
    primary = proofs["one-active-primary"]
    assert primary["source"] == "dbtruth.yaml" and primary["status"] == "proven"
    _refused(primary["probes"][0], "23505", "uq_one_active_primary_assignment")
    assert primary["probes"][1]["status"] == "proven"  # an ended or secondary row is accepted
    (interval,) = proofs["assignment-interval"]["probes"]
    _refused(interval, "23514", "chk_assignment_interval")
    (tenant,) = proofs["same-tenant-references"]["probes"]
    _refused(tenant, "23503", "case_state_transition_tenant_id_case_file_id_fkey")
    for probe in proofs["transitions-immutable"]["probes"]:
        _refused(probe, "P0001")
    # Two sessions assigning a primary at once: the second waits for the first's row in the
    # partial unique index, then is refused; no interleaving leaves two active primaries.
    race = primary["probes"][2]
    assert race["status"] == "proven" and "READ COMMITTED" in race["name"]
    refused = [s for s in race["steps"] if not s["accepted"]]
    assert refused and refused[0]["constraint"] == "uq_one_active_primary_assignment"
    assert refused[0]["message"].startswith("waited for a lock the other session held")
    overlapping, adjacent = proofs["no-overlapping-assignment"]["probes"]
    _refused(overlapping, "23P01", "no_overlapping_assignment")
    assert adjacent["status"] == "proven"  # an assignment starting as the last one ends
    # Two sessions moving one case at once: the path locks the case row before it reads the
    # state, so the history's latest transition always matches the case's state.
    history = proofs["current-state-matches-history"]
    (race,) = history["probes"]
    assert history["status"] == "proven" and race["race"]
    held = "waited for a lock the other session held"
    waited = [s for s in race["steps"] if s["message"] == held]
    assert waited and "FOR UPDATE" in waited[0]["sql"]
    # Objects the manifest names are proven once, under the manifest's id.
    assert "casework.uq_one_active_primary_assignment" not in proofs
    assert "casework.chk_assignment_interval" not in proofs
    # Every invariant the catalog states holds: the append-only audit log's partitioned key
    # too, and a key holding the primary key is refused through it.
    derived = [p for p in proofs.values() if p["source"] == "catalog"]
    assert all(p["status"] == "proven" for p in derived), [
        (p["id"], p["reason"]) for p in derived if p["status"] != "proven"
    ]
    assert proofs["casework.audit_event_append_only"]["status"] == "proven"
    (pair,) = proofs["casework.case_file_tenant_id_id_key"]["probes"]
    assert pair["steps"][-1]["constraint"] in ("case_file_tenant_id_id_key", "case_file_pkey")
    assert report["summary"]["unenforced"] == 0
    # Tenant isolation, as the owner the policies are forced on, tenant set in app.tenant_id:
    # every table and the view hold, and keys carrying the tenant refuse cross references.
    tenant = {k: p for k, p in proofs.items() if p["kind"] == "tenant isolation"}
    assert set(tenant) == {f"tenant-isolation:casework.{t}" for t in (
        "investigator", "case_file", "case_state_transition", "case_assignment", "audit_event",
        "outbox_event", "open_case")}  # fmt: skip
    assert all(p["status"] == "proven" for p in tenant.values()), tenant
    probes = {p["name"]: p for p in tenant["tenant-isolation:casework.case_file"]["probes"]}
    _refused(probes["tenant A writes a row in tenant B's name"], "42501")
    _refused(
        probes["tenant A's casework.case_assignment references tenant B's row "
               "(case_assignment_tenant_id_case_file_id_fkey)"],
        "23503",
    )  # fmt: skip
    assert any("app.tenant_id (the policies read it" in n for n in report["notes"])


LEGACY_TABLES_WITH_SERIAL_ID = (
    "organization", "users", "cases", "case_activity", "comment", "audit_log", "case_assignment",
)  # fmt: skip
LEGACY_REFERENCES = (
    "users_org_id_fkey", "cases_org_id_fkey", "case_activity_case_id_fkey",
    "case_attribute_case_id_fkey", "audit_log_case_id_fkey", "case_assignment_case_id_fkey",
    "case_assignment_user_id_fkey",
)  # fmt: skip


def test_legacy_without_a_manifest_proves_what_its_few_constraints_state() -> None:
    report = _prove(str(EXAMPLES / "legacy"))
    proofs = _by_id(report)
    expected = (
        {f"public.{t}.id not null" for t in LEGACY_TABLES_WITH_SERIAL_ID}
        | {f"public.{t}_pkey" for t in LEGACY_TABLES_WITH_SERIAL_ID}
        | {f"public.{fk}" for fk in LEGACY_REFERENCES}
        | {"public.users_email_key", "public.case_assignment_org_id_case_id_key"}
    )
    assert set(proofs) == expected
    assert {p["status"] for p in proofs.values()} == {"proven"}
    # org_id alone, no row-level security and no tenancy described: not probed, and said so.
    assert any(n.startswith("tenant isolation not probed") for n in report["notes"])


def test_legacy_leaks_every_tenant_s_rows_to_every_other(tmp_path: Path) -> None:
    """org_id on four tables and no row-level security, the tenancy described: tenant A reads,
    changes and deletes tenant B's rows, writes in B's name, and points its own rows at B's
    through keys that do not carry the tenant."""
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "dbtruth.yaml").write_text("tenancy:\n  key: org_id\n")
    proofs = _by_id(_prove(str(tmp_path), code=1))
    # No table enables row-level security: one proof, shown on cases (most keys point there).
    (tenant,) = [p for p in proofs.values() if p["kind"] == "tenant isolation"]
    assert tenant["id"] == "tenant-isolation" and tenant["table"] == "public.cases"
    assert "holds alike for all 4 tenant tables" in tenant["statement"]
    assert tenant["status"] == "unenforced"
    probes = {p["name"]: p for p in tenant["probes"]}
    read = probes["tenant A reads tenant B's row"]
    assert "row-level security is not enabled" in read["observed"]
    assert read["accepted_row"] == {"visible": "1"}
    for name in ("tenant A changes tenant B's row", "tenant A deletes tenant B's row",
                 "tenant A writes a row in tenant B's name",
                 "tenant A's public.case_activity references tenant B's row "
                 "(case_activity_case_id_fkey)"):  # fmt: skip
        assert probes[name]["status"] == "unenforced", probes[name]
        assert probes[name]["steps"][-1]["accepted"]


def test_an_invariant_declared_but_not_enforced_is_unenforced_with_the_accepted_row(
    tmp_path: Path,
) -> None:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "dbtruth.yaml").write_text("""
invariants:
  - id: case-has-title
    statement: every case has a title
    kind: existence
    tables: [cases]
    columns: [title]
    enforcement: application
  - id: audit-log-immutable
    statement: audit entries are never edited or deleted
    kind: regulatory-evidence
    tables: [audit_log]
    enforcement: trigger
    object: public.audit_log_append_only
  - id: one-assignment-per-case
    statement: a case has one assignment per organisation
    kind: uniqueness
    tables: [case_assignment]
    columns: [org_id, case_id]
    enforcement: constraint
    object: public.case_assignment_org_id_case_id_key
  - id: invoices-numbered
    statement: invoice numbers never repeat
    kind: uniqueness
    tables: [invoice]
    columns: [number]
    enforcement: application
""")
    outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 1, outcome.err
    assert "unenforced   case-has-title" in outcome.out
    assert "accepted row: " in outcome.out and "title=NULL" in outcome.out
    proofs = _by_id(_prove(str(tmp_path), code=1))
    title = proofs["case-has-title"]
    assert title["status"] == "unenforced" and title["evidence"] == "proven"
    (probe,) = title["probes"]
    assert probe["accepted_row"]["title"] is None and probe["accepted_row"]["id"]
    assert probe["sql"].startswith('INSERT INTO "public"."cases"')
    audit = proofs["audit-log-immutable"]
    assert audit["status"] == "unenforced"
    assert [p["status"] for p in audit["probes"]] == ["unenforced", "unenforced"]
    assert all(p["accepted_row"] for p in audit["probes"])
    assignment = proofs["one-assignment-per-case"]
    assert assignment["status"] == "proven"
    _refused(assignment["probes"][0], "23505", "case_assignment_org_id_case_id_key")
    # The unique constraint the declaration names is proven once, under the declared id.
    assert "public.case_assignment_org_id_case_id_key" not in proofs
    missing = proofs["invoices-numbered"]
    assert missing["status"] == "not provable" and missing["probes"] == []
    assert missing["reason"] == "the table public.invoice is not in the schema"


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"schema.sql": "CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABLE u (id REFERENCES;\n"},
         ("schema.sql:2",)),
        ({"schema.sql": "CREATE TABLE t (id int);\n",
          "dbtruth.yaml": "invariants:\n  - id: x\n    statement: nothing\n    kind: existence\n"
                          "    tables: [t]\n    enforcement: trigger\n"},
         ("dbtruth.yaml", "object")),
    ],
)  # fmt: skip
def test_hostile_input_is_one_line_and_exit_2(
    tmp_path: Path, files: dict[str, str], words: tuple[str, ...]
) -> None:
    write_files(tmp_path, files)
    outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 2, outcome.out + outcome.err
    line = outcome.err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert all(word in line for word in words), line


def test_a_predicate_nested_beyond_reason_is_not_understood(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "dbtruth.yaml").write_text(
        "invariants:\n  - id: deep\n    statement: nested beyond reason\n"
        "    kind: uniqueness\n    tables: [users]\n    columns: [email]\n"
        f"    enforcement: application\n    predicate: \"{'NOT ' * 3000}(id > 0)\"\n"
    )
    proof = _by_id(_prove(str(tmp_path)))["deep"]
    assert proof["status"] == "not provable"
    assert proof["reason"].startswith("predicate shape not understood: NOT NOT")


def test_a_snapshot_or_a_bad_timeout_is_refused_before_anything_runs(tmp_path: Path) -> None:
    snapshot = Path(__file__).parent / "data" / "legacy.snapshot.json"
    outcome = dbtruth("prove", str(snapshot))
    assert outcome.code == 2 and "snapshot holds no schema" in outcome.err
    outcome = dbtruth("prove", str(EXAMPLES / "legacy"), "--probe-timeout", "5s; DROP TABLE x")
    assert outcome.code == 2 and "--probe-timeout" in outcome.err


def _state(server: Server, name: str) -> tuple[Any, ...]:
    """The live database's catalog and rows, as one comparable value."""
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        catalog = conn.execute("""
            SELECT array_agg(c.relname || ':' || c.relkind::text || ':' || c.relfilenode
                             ORDER BY c.relname),
                   (SELECT array_agg(conname || ':' || convalidated ORDER BY conname)
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
                   (SELECT array_agg(tgname || ':' || tgenabled::text ORDER BY tgname)
                      FROM pg_trigger WHERE NOT tgisinternal)
              FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
        """).fetchone()
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child),"
            " (SELECT string_agg(id || ':' || coalesce(note, '-'), ',' ORDER BY id) FROM child)"
        ).fetchone()
    return (catalog, rows)


@pytest.fixture
def live(server: Server) -> Iterator[tuple[Server, str]]:
    """A database on each server version this machine has."""
    name = server.create_database()
    yield server, name
    server.drop_database(name)


def test_a_live_target_is_copied_and_never_written(
    live: tuple[Server, str], tmp_path: Path
) -> None:
    server, name = live
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE parent (id int PRIMARY KEY, label text NOT NULL);
            CREATE TABLE child (
                id int PRIMARY KEY,
                parent_id int NOT NULL REFERENCES parent (id),
                note text
            );
            INSERT INTO parent VALUES (1, 'one'), (2, 'two');
            INSERT INTO child VALUES (1, 1, NULL), (2, 2, 'kept');
        """)
    (tmp_path / "dbtruth.yaml").write_text(
        "invariants:\n  - id: child-has-note\n    statement: every child carries a note\n"
        "    kind: existence\n    tables: [child]\n    columns: [note]\n"
        "    enforcement: application\n"
    )
    before, counters = _state(server, name), table_writes(server.conninfo(name))
    # Left to choose, the copy goes to a scratch server of the target's major version.
    report = _prove(server.conninfo(name), "--manifest", str(tmp_path / "dbtruth.yaml"), code=1,
                    scratch="auto")  # fmt: skip
    assert f"PostgreSQL {server.version_num // 10000}." in report["clone"]["description"]
    assert report["server_version"].startswith(f"{server.version_num // 10000}.")
    assert _state(server, name) == before
    assert table_writes(server.conninfo(name)) == counters
    # The probes ran, and wrote, on the throwaway copy that pg_dump made.
    clone = report["clone"]
    assert clone["database"].startswith("dbtruth_scratch_") and clone["database"] != name
    assert "pg_dump" in clone["description"] and f"/{name}" in clone["description"]
    proofs = _by_id(report)
    note = proofs["child-has-note"]
    assert note["status"] == "unenforced" and note["probes"][0]["accepted_row"]["note"] is None
    (orphan,) = proofs["public.child_parent_id_fkey"]["probes"]
    _refused(orphan, "23503", "child_parent_id_fkey")
    assert proofs["public.parent.label not null"]["status"] == "proven"


_TENANTS = """\
CREATE TABLE account (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE note (id int PRIMARY KEY, tenant_id int NOT NULL REFERENCES account, body text);
CREATE TABLE memo (id int PRIMARY KEY, tenant_id int NOT NULL REFERENCES account, body text);
ALTER TABLE note ENABLE ROW LEVEL SECURITY;
CREATE POLICY note_tenant ON note USING (tenant_id = current_setting('app.tenant')::int)
    WITH CHECK (tenant_id = current_setting('app.tenant')::int);
ALTER TABLE memo ENABLE ROW LEVEL SECURITY;
CREATE ROLE app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON note, memo TO app_user;
CREATE VIEW note_view AS SELECT * FROM note;
GRANT SELECT ON note_view TO app_user;
"""


def test_the_owner_bypasses_policies_rls_does_not_force(tmp_path: Path) -> None:
    write_files(tmp_path, {"schema.sql": _TENANTS})
    proofs = _by_id(_prove(str(tmp_path / "schema.sql"), code=1))
    note = proofs["tenant-isolation:public.note"]
    assert note["status"] == "unenforced"
    assert "the owner bypasses policies RLS does not force" in note["probes"][0]["observed"]


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_as_the_declared_role_policies_hold_and_a_view_with_owner_rights_leaks(
    tmp_path: Path, scratch: str
) -> None:
    write_files(tmp_path, {"schema.sql": _TENANTS,
                           "dbtruth.yaml": "tenancy:\n  role: app_user\n"})  # fmt: skip
    report = _prove(str(tmp_path / "schema.sql"), code=1, scratch=scratch)
    proofs = _by_id(report)
    note = proofs["tenant-isolation:public.note"]
    assert note["status"] == "proven", note
    names = {p["name"]: p for p in note["probes"]}
    _refused(names["tenant A writes a row in tenant B's name"], "42501")
    assert names["tenant A reads tenant B's row"]["observed"] == "nothing found"
    # RLS without a policy hides every row, tenant B's own included: nothing is proven.
    memo = proofs["tenant-isolation:public.memo"]
    assert memo["status"] == "not provable"
    assert "no policy admits it" in memo["probes"][0]["reason"]
    # The view runs with its owner's rights, and RLS is not forced on its owner.
    view = proofs["tenant-isolation:public.note_view"]
    assert view["status"] == "unenforced"
    assert "no security_invoker" in view["probes"][0]["observed"]
    assert any("probed as app_user" in n and "app.tenant" in n for n in report["notes"])


def test_markdown_junit_and_sarif_carry_the_leak(tmp_path: Path) -> None:
    """The same proofs for a pull request, a CI test report and code scanning: the leak fails
    (JUnit failure, SARIF error, Markdown's unenforced section with its SQL); the proven
    invariants pass."""
    from tests.test_ci_formats import JUNIT_XSD

    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "dbtruth.yaml").write_text("tenancy:\n  key: org_id\n")
    outputs = {}
    for fmt in ("markdown", "junit", "sarif"):
        outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded", "--format", fmt)
        assert outcome.code == 1, outcome.err
        outputs[fmt] = outcome.out
    markdown = outputs["markdown"]
    assert "## Unenforced: the database accepted the illegal write (1)" in markdown
    assert "### `tenant-isolation`" in markdown
    assert 'SELECT count(*) AS visible FROM "public"."cases"' in markdown
    assert "## Proven: the database refused the illegal write (23)" in markdown
    # casefile's cross-row invariant without the race that proves it: a skipped test case.
    casefile = tmp_path / "casefile"
    shutil.copytree(EXAMPLES / "casefile", casefile)
    manifest = yaml.safe_load((casefile / "dbtruth.yaml").read_text())
    for invariant in manifest["invariants"]:
        invariant.pop("race", None)
    (casefile / "dbtruth.yaml").write_text(yaml.safe_dump(manifest))
    skipping = dbtruth("prove", str(casefile), "--scratch", "embedded", "--format", "junit")
    assert skipping.code == 0, skipping.err
    if JUNIT_XSD.exists():
        import xmlschema

        schema = xmlschema.XMLSchema(str(JUNIT_XSD))
        schema.validate(outputs["junit"])
        schema.validate(skipping.out)
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(outputs["junit"]).find("testsuite")
    assert suite is not None and suite.get("tests") == "24" and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["tenant-isolation"]
    cases = ET.fromstring(skipping.out).iter("testcase")
    skipped = {c.get("name"): c.findtext("skipped") for c in cases if c.find("skipped") is not None}
    reason = "a cross-row invariant is probed through the race dbtruth.yaml gives it"
    assert skipped["current-state-matches-history"].startswith(reason)
    sarif = json.loads(outputs["sarif"])
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "prove/tenant-isolation" and result["level"] == "error"
    assert "row-level security is not enabled" in result["message"]["text"]
    assert sarif["runs"][0]["properties"]["proven"] == 23


LEGACY_RACE = """\
invariants:
  - id: one-active-assignment
    statement: a case has at most one active assignment
    kind: cross-row
    tables: [public.case_assignment]
    enforcement: application
    detective_query: >-
      SELECT case_id FROM case_assignment WHERE valid_to IS NULL
       GROUP BY case_id HAVING count(*) > 1
    race:
      isolation: {isolation}
      setup: |
        INSERT INTO users (id, email) VALUES (1, 'a@example.org'), (2, 'b@example.org');
        INSERT INTO cases (id, title) VALUES (1, 'case');
      steps:
        - SELECT count(*) FROM case_assignment WHERE case_id = 1 AND valid_to IS NULL
        - >-
          INSERT INTO case_assignment (case_id, user_id, valid_from)
          SELECT 1, $session, now() WHERE NOT EXISTS
            (SELECT 1 FROM case_assignment WHERE case_id = 1 AND valid_to IS NULL)
"""


def _legacy_race(tmp_path: Path, isolation: str) -> dict[str, Any]:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "dbtruth.yaml").write_text(LEGACY_RACE.format(isolation=isolation))
    report = _prove(str(tmp_path), code=1 if isolation == "read committed" else 0)
    return _by_id(report)["one-active-assignment"]  # type: ignore[no-any-return]


def test_check_then_insert_at_read_committed_loses_the_race(tmp_path: Path) -> None:
    """legacy's case_assignment has no key on active assignments: two sessions that each check
    for one and insert leave two, in the interleavings where both check before either
    commits — G2 over a predicate. Serial runs do not break it."""
    proof = _legacy_race(tmp_path, "read committed")
    (race,) = proof["probes"]
    assert proof["status"] == "unenforced" == race["status"]
    assert "G2, write skew over a predicate" in race["observed"]
    assert "case_id = 1" in race["observed"]  # the violating row, as the check returned it
    sessions = [s["purpose"][-1] for s in race["steps"] if s["purpose"].startswith("session")]
    # Minimal: both sessions' reads come before either commits, with the fewest switches.
    assert sessions.index("B") < len(sessions) - sessions[::-1].index("A") - 1
    assert sum(1 for a, b in itertools.pairwise(sessions) if a != b) == 2
    check = race["steps"][-1]
    assert check["purpose"] == "check" and check["message"] == "1 row"
    assert race["sql"].startswith("-- setup\nINSERT INTO users")  # the replayable script
    assert "-- session B\nBEGIN ISOLATION LEVEL READ COMMITTED" in race["sql"]


def test_the_same_path_at_serializable_holds(tmp_path: Path) -> None:
    proof = _legacy_race(tmp_path, "serializable")
    (race,) = proof["probes"]
    assert proof["status"] == "proven" and "refused (40001)" in race["observed"]
    refused = [s for s in race["steps"] if not s["accepted"]]
    assert refused[0]["sqlstate"] == "40001" and refused[0]["sql"] == "COMMIT"


def test_a_race_whose_setup_or_check_fails_is_not_provable(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    manifest = LEGACY_RACE.format(isolation="read committed").replace(
        "INSERT INTO cases (id, title)", "INSERT INTO no_such_table (id, title)"
    )
    (tmp_path / "dbtruth.yaml").write_text(manifest)
    proof = _by_id(_prove(str(tmp_path)))["one-active-assignment"]
    assert proof["status"] == "not provable"
    assert 'the race\'s setup failed: relation "no_such_table" does not exist' in (
        proof["probes"][0]["reason"]
    )
    # A race with nothing to count violations by is a manifest error at its line.
    text = LEGACY_RACE.format(isolation="read committed")
    start = text.index("    detective_query")
    (tmp_path / "dbtruth.yaml").write_text(text[:start] + text[text.index("    race:"):])
    outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 2 and "race.check' or 'detective_query'" in outcome.err
    assert f"{tmp_path / 'dbtruth.yaml'}:" in outcome.err and "Traceback" not in outcome.err


SHOP = """\
CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, total numeric,
                     note text);
CREATE TABLE payments (id int PRIMARY KEY, order_id int, amount numeric NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.org', 'name ' || (g % 7)
  FROM generate_series(1, 120) g;
INSERT INTO orders SELECT g, 1 + g % 120, (ARRAY['new', 'paid', 'void'])[1 + g % 3], g * 10,
                          CASE WHEN g % 2 = 0 THEN 'x' END
  FROM generate_series(1, 60) g;
INSERT INTO payments SELECT g, CASE WHEN g = 5 THEN 999 ELSE g END, g
  FROM generate_series(1, 30) g;
"""
SHOP_MANIFEST = """\
invariants:
  - id: paid-orders-have-payments
    statement: a paid order has a payment
    kind: cross-row
    tables: [public.orders]
    enforcement: application
    detective_query: >-
      SELECT o.id FROM orders o WHERE o.status = 'paid'
         AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)
"""


def _data(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["kind"], f["subject"]): f for f in report["data"]["findings"]}


def test_data_counts_violations_and_proposes_what_every_row_keeps(tmp_path: Path) -> None:
    """Paid orders 31, 34, … have no payment (orders 1-30 are paid for, order 5's payment
    points at 999); every customer_id exists; email, name, customer_id, status and total never
    hold NULL (note does); emails are unique; status takes three values."""
    write_files(tmp_path, {"schema.sql": SHOP, "dbtruth.yaml": SHOP_MANIFEST})
    report = _prove(str(tmp_path), "--data", code=1)  # a declared invariant is broken
    found = _data(report)
    # status is ARRAY['new', 'paid', 'void'][1 + id % 3]; payments exist for orders 1-30 but 5
    unpaid = [g for g in range(1, 61) if 1 + g % 3 == 2 and (g > 30 or g == 5)]
    violation = found[("violation", "paid-orders-have-payments")]
    assert violation["count"] == len(unpaid)
    assert len(violation["sample_keys"]) == 3
    assert set(violation["sample_keys"]) <= {str(g) for g in unpaid}
    orphans = found[("orphans", "public.payments.order_id")]
    assert (orphans["count"], orphans["sample_keys"]) == (1, ["999"])
    assert ("reference", "public.payments.order_id") not in found
    reference = found[("reference", "public.orders.customer_id")]
    assert "NOT VALID" in reference["safe_form"] and reference["evidence"] == "observed"
    not_null = {s for k, s in found if k == "not null"}
    assert not_null == {"public.customers.email", "public.customers.name",
                        "public.orders.customer_id", "public.orders.status",
                        "public.orders.total", "public.payments.order_id"}  # fmt: skip
    assert {s for k, s in found if k == "unique"} == {"public.customers.email"}
    value_set = found[("value set", "public.orders.status")]
    assert "IN ('new', 'paid', 'void')" in value_set["proposal"]
    # Applied in their migration-safe form, every proposal holds and is proposed no more.
    fixes = "\n".join(f["safe_form"] for f in found.values() if f["safe_form"])
    write_files(tmp_path, {"zz_constraints.sql": fixes})
    after = _data(_prove(str(tmp_path), "--data", code=1))
    assert not [key for key, f in after.items() if f["proposal"]], after.keys()
    assert after[("violation", "paid-orders-have-payments")]["count"] == violation["count"]


def _shop_state(server: Server, name: str) -> tuple[Any, ...]:
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        row = conn.execute("""
            SELECT (SELECT array_agg(conname ORDER BY conname) FROM pg_constraint
                     WHERE connamespace = 'public'::regnamespace),
                   (SELECT array_agg(relname || ':' || relfilenode ORDER BY relname)
                      FROM pg_class WHERE relnamespace = 'public'::regnamespace),
                   (SELECT md5(string_agg(o::text, ',' ORDER BY o.id)) FROM orders o),
                   (SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) FROM payments p)
        """).fetchone()
    assert row is not None
    return tuple(row)


def test_data_on_a_live_target_only_reads(live: tuple[Server, str], tmp_path: Path) -> None:
    server, name = live
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute(SHOP.encode())
        # Analysed now, so that autovacuum has no ANALYZE to run (its pg_statistic writes
        # count in the database's counters) while dbtruth reads.
        conn.execute("ANALYZE")
    (tmp_path / "dbtruth.yaml").write_text(SHOP_MANIFEST)
    before, counters = _shop_state(server, name), table_writes(server.conninfo(name))
    report = _prove(server.conninfo(name), "--manifest", str(tmp_path / "dbtruth.yaml"),
                    "--data", code=1)  # fmt: skip
    assert _shop_state(server, name) == before
    assert table_writes(server.conninfo(name)) == counters
    assert report["data"]["source"].endswith(", read-only")
    found = _data(report)
    assert found[("violation", "paid-orders-have-payments")]["count"] > 0
    assert ("unique", "public.customers.email") in found
    # A detective query that fails is reported, not skipped.
    (tmp_path / "dbtruth.yaml").write_text(SHOP_MANIFEST.replace("FROM orders o", "FROM nope o"))
    broken = _data(_prove(server.conninfo(name), "--manifest", str(tmp_path / "dbtruth.yaml"),
                          "--data"))[("violation", "paid-orders-have-payments")]  # fmt: skip
    assert 'relation "nope" does not exist' in broken["error"]
    assert broken["evidence"] == "unknown"


@pytest.mark.parametrize(
    "query, cause",
    [
        ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
         "it calls pg_terminate_backend(), which acts on the server beyond reading rows"),
        ("WITH gone AS (DELETE FROM orders RETURNING id) SELECT id FROM gone",
         "a data-modifying WITH writes"),
        ("SELECT id FROM orders FOR UPDATE", "a locking clause (FOR UPDATE, FOR SHARE)"),
        ("SELECT 1; DROP TABLE orders", "a detective query is one SELECT statement"),
        ("SELECT lo_import('/etc/passwd')", "it calls lo_import()"),
    ],
)  # fmt: skip
def test_a_detective_query_that_would_act_on_the_server_is_refused_at_its_line(
    tmp_path: Path, query: str, cause: str
) -> None:
    manifest = SHOP_MANIFEST.split("    detective_query:")[0] + f"    detective_query: {query}\n"
    write_files(tmp_path, {"schema.sql": SHOP, "dbtruth.yaml": manifest})
    outcome = dbtruth("prove", str(tmp_path), "--data", "--scratch", "embedded")
    line = manifest.splitlines().index(f"    detective_query: {query}") + 1
    assert outcome.code == 2 and outcome.out == "", outcome.err
    assert f"{tmp_path / 'dbtruth.yaml'}:{line}" in outcome.err and cause in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


def test_a_race_setup_that_would_run_forever_is_cancelled(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    manifest = LEGACY_RACE.format(isolation="read committed").replace(
        "      setup: |\n",
        "      setup: |\n        SET statement_timeout = 0;\n        SELECT pg_sleep(3600);\n",
    )
    (tmp_path / "dbtruth.yaml").write_text(manifest)
    proof = _by_id(_prove(str(tmp_path), "--probe-timeout", "100ms"))["one-active-assignment"]
    assert proof["status"] == "not provable"
    assert "the race's setup failed: canceling statement" in proof["probes"][0]["reason"]


@pytest.mark.parametrize(
    "hostile",
    ["DO $$ BEGIN LOOP END LOOP; END $$", "SET statement_timeout = 0; SELECT pg_sleep(3600)"],
)
def test_a_race_step_or_check_that_would_run_forever_ends_the_race(
    tmp_path: Path, hostile: str
) -> None:
    """SQL from a pull request in the write path or the check: the first run that runs out of
    time ends the race as not provable, rather than every interleaving waiting as long."""
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    racing = LEGACY_RACE.format(isolation="read committed")
    in_step = racing.replace("      steps:\n", f"      steps:\n        - {hostile}\n", 1)
    assert in_step != racing
    (tmp_path / "dbtruth.yaml").write_text(in_step)
    proof = _by_id(_prove(str(tmp_path), "--probe-timeout", "200ms"))["one-active-assignment"]
    (race,) = proof["probes"]
    assert proof["status"] == "not provable"
    assert race["reason"].startswith(f"a step ran out of time ({hostile}"), race
    # One interleaving ran: each session's first step once at most.
    assert 1 <= sum(hostile in s["sql"] for s in race["steps"]) <= 2
    query = racing[racing.index("    detective_query:") : racing.index("    race:")]
    checked = racing.replace(query, f"    detective_query: '{hostile}'\n")
    (tmp_path / "dbtruth.yaml").write_text(checked)
    proof = _by_id(_prove(str(tmp_path), "--probe-timeout", "200ms"))["one-active-assignment"]
    assert proof["status"] == "not provable"
    assert "the race's check failed: canceling statement" in proof["probes"][0]["reason"]


def test_the_transition_path_without_its_row_lock_breaks_the_history(tmp_path: Path) -> None:
    """Without FOR UPDATE both sessions read the state before either writes: the one that
    writes last started its transaction first, so its transition (changed_at = now(), its
    transaction's start) is not the latest, and the case's state disagrees with its history."""
    casefile = tmp_path / "casefile"
    shutil.copytree(EXAMPLES / "casefile", casefile)
    text = (casefile / "dbtruth.yaml").read_text()
    locked = "WHERE tenant_id = 1 AND id = 1 FOR UPDATE"
    assert text.count(locked) == 1
    (casefile / "dbtruth.yaml").write_text(text.replace(locked, "WHERE tenant_id = 1 AND id = 1"))
    history = _by_id(_prove(str(casefile), code=1))["current-state-matches-history"]
    (race,) = history["probes"]
    assert history["status"] == "unenforced"
    assert "a lost update (P4) or write skew (G2-item)" in race["observed"]
    order = [s["purpose"][-1] for s in race["steps"] if s["purpose"].startswith("session")]
    assert order[:2] in (["A", "B"], ["B", "A"])  # both read before either writes


LEGACY_ROWS = """\
INSERT INTO organization (id, name) SELECT g, 'org ' || g FROM generate_series(201, 206) g;
INSERT INTO users (id, org_id, email, name)
  SELECT g, 201 + g % 6, 'u' || g || '@example.org', 'user ' || g
    FROM generate_series(101, 120) g;
INSERT INTO cases (id, org_id, title, status, priority, assignee_id)
  SELECT g, 201 + g % 6, 'case ' || g, (ARRAY['open', 'closed', 'pending'])[1 + g % 3], g % 4,
         101 + g % 20
    FROM generate_series(1, 40) g;
INSERT INTO case_activity (org_id, case_id, activity_type, assigned_user_id)
  SELECT 201 + g % 6, 1 + g % 40, 'note', 101 + g % 20 FROM generate_series(1, 60) g;
INSERT INTO audit_log (case_id, user_id, action)
  SELECT 1 + g % 40, 101 + g % 20, 'viewed' FROM generate_series(1, 50) g;
"""


def test_legacy_rows_show_the_references_its_schema_leaves_out(tmp_path: Path) -> None:
    """legacy keeps assignee_id, assigned_user_id and case_activity.org_id without foreign keys,
    and their names do not say which table they mean; the rows do: every value exists in one
    table's key and no other (organizations 201-206, users 101-120, cases 1-40). audit_log's
    user_id is matched by its name."""
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    (tmp_path / "seed.sql").write_text(LEGACY_ROWS)
    found = _data(_prove(str(tmp_path), "--data"))
    inferred = {
        subject: f for (kind, subject), f in found.items() if kind == "reference"
    }
    expected = {
        "public.cases.assignee_id": "public.users.id",
        "public.case_activity.assigned_user_id": "public.users.id",
        "public.case_activity.org_id": "public.organization.id",
        "public.audit_log.user_id": "public.users.id",
    }
    assert set(inferred) == set(expected)
    for subject, parent in expected.items():
        assert f"exists in {parent}" in inferred[subject]["statement"]
    assert inferred["public.cases.assignee_id"]["evidence"] == "guessed"  # from values alone
    assert inferred["public.audit_log.user_id"]["evidence"] == "observed"  # its name says it
    fixes = "\n".join(f["safe_form"] for f in inferred.values())
    (tmp_path / "zz_keys.sql").write_text(fixes)
    after = _data(_prove(str(tmp_path), "--data"))
    assert not [s for k, s in after if k == "reference"]


def _casefile_without(tmp_path: Path, trigger: str) -> Path:
    """A copy of examples/casefile whose 002_case.sql does not create `trigger`."""
    casefile = tmp_path / "casefile"
    shutil.copytree(EXAMPLES / "casefile", casefile)
    sql = casefile / "002_case.sql"
    text = sql.read_text()
    guard = text.index(f"CREATE TRIGGER {trigger}")
    sql.write_text(text[:guard] + text[text.index(";", guard) + 1 :])
    return casefile


def test_evidence_that_truncate_can_empty_is_unenforced(tmp_path: Path) -> None:
    """A guard BEFORE UPDATE OR DELETE fires on no TRUNCATE: without casefile's statement
    trigger, the whole history can be emptied at once."""
    casefile = _casefile_without(tmp_path, "case_state_transition_no_truncate")
    proof = _by_id(_prove(str(casefile), code=1))["transitions-immutable"]
    update, delete, truncate = proof["probes"]
    _refused(update, "P0001")
    _refused(delete, "P0001")
    assert truncate["name"] == "TRUNCATE of casework.case_state_transition"
    assert truncate["status"] == "unenforced" and proof["status"] == "unenforced"
    assert truncate["sql"] == 'TRUNCATE "casework"."case_state_transition" CASCADE'


def test_a_race_of_too_many_steps_is_an_error_at_its_line(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "legacy" / "schema.sql", tmp_path / "schema.sql")
    steps = "".join(f"        - SELECT {n}\n" for n in range(7))
    manifest = LEGACY_RACE.format(isolation="read committed")
    start = manifest.index("      steps:\n")
    (tmp_path / "dbtruth.yaml").write_text(manifest[:start] + "      steps:\n" + steps)
    outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 2 and "at most 6" in outcome.err, outcome.err
    assert f"{tmp_path / 'dbtruth.yaml'}:" in outcome.err and "Traceback" not in outcome.err


def test_the_case_state_machine_refuses_what_it_does_not_declare(tmp_path: Path) -> None:
    """casefile declares OPEN <-> REVIEW, either to CLOSED, nothing out of CLOSED: each
    declared move from a row in each state is accepted, each other one refused by its guard
    trigger. Without the guard, the first illegal move is accepted."""
    manifest = yaml.safe_load((EXAMPLES / "casefile" / "dbtruth.yaml").read_text())
    declared = next(i for i in manifest["invariants"] if i["id"] == "case-state-machine")
    allowed = declared["transitions"]
    states = set(allowed)
    proof = _by_id(_prove(str(EXAMPLES / "casefile")))["case-state-machine"]
    assert proof["status"] == "proven"
    seen = {}
    for probe in proof["probes"]:
        move = probe["name"].split(": ", 1)[1].split(" (")[0]
        seen[move] = probe
    expected = {f"{a} -> {b}" for a in states for b in states if a != b}
    assert set(seen) == expected
    for move, probe in seen.items():
        start, to = move.split(" -> ")
        if to in allowed[start]:
            assert probe["steps"][-1]["accepted"], probe
        else:
            _refused(probe, "P0001")
    casefile = _casefile_without(tmp_path, "case_file_state_guard")
    unguarded = _by_id(_prove(str(casefile), code=1))["case-state-machine"]
    assert unguarded["status"] == "unenforced"
    accepted = [p for p in unguarded["probes"] if p["status"] == "unenforced"]
    assert {p["name"].split(": ", 1)[1].split(" (")[0] for p in accepted} == {
        "CLOSED -> OPEN", "CLOSED -> REVIEW"
    }


PRICES = """\
CREATE TABLE price (product_id int NOT NULL, valid_from date NOT NULL, valid_to date,
                    amount numeric NOT NULL, UNIQUE (product_id, valid_from));
CREATE TABLE rate (plan_id int NOT NULL, starts timestamptz NOT NULL, ends timestamptz,
                   UNIQUE (plan_id, starts));
CREATE TABLE note (id int PRIMARY KEY, valid_from date, valid_to date);
CREATE EXTENSION btree_gist;
CREATE TABLE booking (room int NOT NULL, starts date NOT NULL, ends date,
                      EXCLUDE USING gist (room WITH =, daterange(starts, ends) WITH &&));
INSERT INTO price VALUES (1, '2026-01-01', '2026-02-01', 10), (1, '2026-01-15', NULL, 12),
                         (2, '2026-01-01', '2026-02-01', 5), (2, '2026-02-01', NULL, 6);
INSERT INTO rate SELECT g % 5, timestamptz '2026-01-01' + g * interval '1 day',
                        timestamptz '2026-01-01' + (g + 5) * interval '1 day'
                   FROM generate_series(0, 29) g;
"""
PRICES_MANIFEST = """\
time:
  price: {effective: {from: valid_from, to: valid_to}}
  rate: {effective: {from: starts, to: ends}}
  note: {effective: {from: valid_from, to: valid_to}}
  booking: {effective: {from: starts, to: ends}}
"""


def test_data_counts_overlapping_periods_of_one_timeline(tmp_path: Path) -> None:
    """Product 1's prices overlap from 2026-01-15 (its first has not ended); product 2's meet
    at 2026-02-01, half-open, and do not. Each plan's rates, five days apart and five days
    long, meet without overlapping: the exclusion constraint is proposed, and holds once
    applied. note's periods share no timeline a key names: not read, and said so."""
    write_files(tmp_path, {"schema.sql": PRICES, "dbtruth.yaml": PRICES_MANIFEST})
    found = _data(_prove(str(tmp_path), "--data"))
    overlaps = found[("overlaps", "public.price (valid_from, valid_to)")]
    assert (overlaps["count"], overlaps["sample_keys"]) == (1, ["1"])
    latent = found[("non-overlap", "public.rate (starts, ends)")]
    assert "EXCLUDE USING gist (plan_id WITH =, tstzrange(starts, ends) WITH &&)" in latent[
        "proposal"
    ]
    # booking's exclusion constraint keeps its periods apart: prove probes that, --data
    # has nothing to count.
    assert not [key for key in found if key[1].startswith("public.booking")]
    note = found[("overlaps", "public.note (valid_from, valid_to)")]
    assert note["evidence"] == "unknown" and "no unique key" in note["error"]
    (tmp_path / "zz_exclusion.sql").write_text(latent["safe_form"])
    after = _data(_prove(str(tmp_path), "--data"))
    assert ("non-overlap", "public.rate (starts, ends)") not in after


def test_data_in_junit_and_sarif(tmp_path: Path) -> None:
    """The rows in CI formats: the broken declared invariant and the orphans fail their JUnit
    test cases and are SARIF results (error, warning); latent invariants are proposals and
    appear in neither."""
    from tests.test_ci_formats import JUNIT_XSD

    write_files(tmp_path, {"schema.sql": SHOP, "dbtruth.yaml": SHOP_MANIFEST})
    junit = dbtruth("prove", str(tmp_path), "--data", "--scratch", "embedded", "--format", "junit")
    sarif = dbtruth("prove", str(tmp_path), "--data", "--scratch", "embedded", "--format", "sarif")
    assert junit.code == sarif.code == 1, junit.err + sarif.err
    if JUNIT_XSD.exists():
        import xmlschema

        xmlschema.XMLSchema(str(JUNIT_XSD)).validate(junit.out)
    import xml.etree.ElementTree as ET

    suites = ET.fromstring(junit.out).findall("testsuite")
    rows = suites[-1]
    failed = {c.get("name") for c in rows.iter("testcase") if c.find("failure") is not None}
    assert failed == {"paid-orders-have-payments", "public.payments.order_id"}
    assert rows.get("failures") == "2" and rows.get("tests") == "2"
    results = json.loads(sarif.out)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results if r["ruleId"].startswith("prove-data/")}
    assert by_rule["prove-data/violation"]["level"] == "error"
    assert by_rule["prove-data/orphans"]["level"] == "warning"
    assert by_rule["prove-data/orphans"]["properties"]["sampleKeys"] == ["999"]
    assert not any("not-null" in rule or "value-set" in rule for rule in by_rule)


def test_legacy_shows_its_race_and_its_tenant_leak() -> None:
    """The command the README gives: the legacy application's assign path loses its race at
    READ COMMITTED, and nothing keeps one organization's rows from another."""
    legacy = EXAMPLES / "legacy"
    report = _prove(str(legacy), "--manifest", str(legacy / "invariants.yaml"), code=1)
    proofs = _by_id(report)
    raced = proofs["one-active-primary-investigator"]
    assert raced["status"] == "unenforced"
    (race,) = raced["probes"]
    assert "G2, write skew over a predicate" in race["observed"]
    leak = proofs["tenant-isolation"]
    assert leak["status"] == "unenforced"
    assert "row-level security is not enabled" in leak["probes"][0]["observed"]
