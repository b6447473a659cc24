"""Evidence kept append-only by privileges (`enforcement: privilege`): the UPDATE, DELETE and
TRUNCATE are tried as the application role dbtruth.yaml names, on the throwaway copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SCRATCH_KINDS, dbtruth, write_files
from tests.test_prove import _by_id, _prove

_SCHEMA = """\
CREATE ROLE app_user;
-- The usual grant for evidence: the application adds and reads rows, nothing else.
CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     amount numeric NOT NULL, note text);
GRANT SELECT, INSERT ON ledger TO app_user;
-- UPDATE granted by mistake.
CREATE TABLE journal (id bigint PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT, UPDATE ON journal TO app_user;
-- DELETE granted without SELECT: the role cannot aim at a row, but may delete them all.
CREATE TABLE receipt (id bigint PRIMARY KEY, body text NOT NULL);
GRANT INSERT, DELETE ON receipt TO app_user;
-- UPDATE granted, and a guard trigger refusing it all the same.
CREATE TABLE custody (id bigint PRIMARY KEY, holder text NOT NULL);
GRANT SELECT, INSERT, UPDATE ON custody TO app_user;
CREATE FUNCTION custody_guard() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'custody is append-only'; END $$;
CREATE TRIGGER custody_guard BEFORE UPDATE ON custody
    FOR EACH ROW EXECUTE FUNCTION custody_guard();
-- DELETE granted behind row-level security: dbtruth's row is hidden, the role's are not.
CREATE TABLE consent (id bigint PRIMARY KEY, tenant_id int NOT NULL, given boolean NOT NULL);
GRANT SELECT, INSERT, DELETE ON consent TO app_user;
ALTER TABLE consent ENABLE ROW LEVEL SECURITY;
CREATE POLICY consent_tenant ON consent
    USING (tenant_id = current_setting('app.tenant', true)::int);
"""


def _evidence(table: str) -> str:
    return (
        f"  - id: {table}-kept\n    statement: {table} rows are never changed\n"
        f"    kind: regulatory-evidence\n    tables: [{table}]\n    enforcement: privilege\n"
    )


def _manifest(role: str | None, tables: tuple[str, ...]) -> str:
    tenancy = f"tenancy:\n  role: {role}\n  exempt: ['*']\n" if role else ""
    return tenancy + "invariants:\n" + "".join(_evidence(t) for t in tables)


_TABLES = ("ledger", "journal", "receipt", "custody", "consent")


def _probes(proof: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"].split(" ")[0]: p for p in proof["probes"]}


@pytest.mark.parametrize("scratch", SCRATCH_KINDS)
def test_the_application_role_is_refused_what_it_was_not_granted(
    tmp_path: Path, scratch: str
) -> None:
    write_files(tmp_path, {"schema.sql": _SCHEMA,
                           "dbtruth.yaml": _manifest("app_user", _TABLES)})  # fmt: skip
    report = _prove(str(tmp_path), code=1, scratch=scratch)
    proofs = _by_id(report)

    ledger = proofs["ledger-kept"]
    assert ledger["status"] == "proven"
    for event in ("UPDATE", "DELETE", "TRUNCATE"):
        probe = _probes(ledger)[event]
        assert probe["name"].endswith("as app_user"), probe
        last = probe["steps"][-1]
        # Refused for want of the privilege itself, by the statement that needs nothing else.
        assert (last["accepted"], last["sqlstate"]) == (False, "42501"), probe
        assert "WHERE false" in last["sql"] or event == "TRUNCATE", probe
        assert any(s["sql"] == 'SET LOCAL ROLE "app_user"' for s in probe["steps"]), probe

    journal = _probes(proofs["journal-kept"])
    assert proofs["journal-kept"]["status"] == "unenforced"
    assert journal["UPDATE"]["status"] == "unenforced"
    assert journal["UPDATE"]["observed"] == "accepted: app_user holds UPDATE on public.journal"
    assert dict(journal["UPDATE"]["accepted_row"])["body"] is not None
    assert journal["DELETE"]["status"] == journal["TRUNCATE"]["status"] == "proven"

    receipt = _probes(proofs["receipt-kept"])
    assert receipt["DELETE"]["status"] == "unenforced"
    assert "without SELECT it cannot pick a row, but may DELETE them all" in (
        receipt["DELETE"]["observed"]
    )
    assert receipt["UPDATE"]["status"] == "proven"

    # The privilege is held, but the guard refuses the row's change: the evidence holds.
    custody = _probes(proofs["custody-kept"])
    assert proofs["custody-kept"]["status"] == "proven"
    assert custody["UPDATE"]["steps"][-1]["sqlstate"] == "P0001"
    assert "custody is append-only" in custody["UPDATE"]["observed"]

    consent = _probes(proofs["consent-kept"])
    assert consent["DELETE"]["status"] == "unenforced"
    assert "row-level security hid dbtruth's row" in consent["DELETE"]["observed"]

    assert any(
        n.startswith("ledger-kept is kept by privileges, so it is probed as app_user")
        and "owner and superusers may still change its rows" in n
        for n in report["notes"]
    )


def test_revoking_the_grant_proves_the_evidence_kept(tmp_path: Path) -> None:
    """What the unenforced proofs say is lacking, done: each grant revoked, every probe of
    those tables is refused for want of the privilege."""
    fixed = _SCHEMA + (
        "REVOKE UPDATE ON journal FROM app_user;\nREVOKE DELETE ON receipt FROM app_user;\n"
        "REVOKE DELETE ON consent FROM app_user;\n"
    )
    write_files(tmp_path, {"schema.sql": fixed, "dbtruth.yaml": _manifest("app_user", _TABLES)})
    proofs = _by_id(_prove(str(tmp_path)))
    for table in ("journal", "receipt", "consent"):
        proof = proofs[f"{table}-kept"]
        assert proof["status"] == "proven", proof
        assert {p["steps"][-1]["sqlstate"] for p in proof["probes"]} == {"42501"}


def test_without_an_application_role_nothing_is_claimed(tmp_path: Path) -> None:
    ledger_only = _SCHEMA.split("-- UPDATE granted by mistake.")[0]
    write_files(tmp_path, {"schema.sql": ledger_only, "dbtruth.yaml": _manifest(None, ("ledger",))})
    proof = _by_id(_prove(str(tmp_path)))["ledger-kept"]
    assert proof["status"] == "not provable" and proof["probes"] == []
    assert "name the role the application connects as in tenancy.role" in proof["reason"]


def test_an_unknown_role_is_not_provable_rather_than_proven(tmp_path: Path) -> None:
    write_files(tmp_path, {"schema.sql": _SCHEMA,
                           "dbtruth.yaml": _manifest("nobody_here", ("ledger",))})  # fmt: skip
    proof = _by_id(_prove(str(tmp_path)))["ledger-kept"]
    assert proof["status"] == "not provable" and proof["probes"] == []
    assert proof["reason"].startswith("cannot act as the application role nobody_here: role")


def test_privilege_keeps_only_evidence(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "schema.sql": _SCHEMA,
        "dbtruth.yaml": "tenancy:\n  role: app_user\ninvariants:\n  - id: one-ledger-row\n"
        "    statement: one row per id\n    kind: uniqueness\n    tables: [ledger]\n"
        "    enforcement: privilege\n",
    })  # fmt: skip
    outcome = dbtruth("prove", str(tmp_path), "--scratch", "embedded")
    assert outcome.code == 2, outcome.err
    (line,) = outcome.err.strip().splitlines()
    assert "dbtruth.yaml:4" in line and "kind regulatory-evidence, not uniqueness" in line
