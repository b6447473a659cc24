"""The two example projects: the playbook's design is nearly silent, the anti-pattern version is
loud about exactly the anti-patterns it was written to show."""

from __future__ import annotations

import json

import pytest

from tests.helpers import EXAMPLES, dbtruth


@pytest.fixture(scope="module")
def legacy() -> dict[str, object]:
    outcome = dbtruth("check", str(EXAMPLES / "legacy"), "--scratch", "embedded",
                      "--format", "json")
    assert outcome.code == 1, outcome.err
    return json.loads(outcome.out)  # type: ignore[no-any-return]


def _hits(report: dict[str, object]) -> set[tuple[str, str]]:
    return {(f["code"], f["object"]["path"]) for f in report["findings"]}  # type: ignore[attr-defined, index]


def test_legacy_shows_the_playbook_anti_patterns(legacy: dict[str, object]) -> None:
    hits = _hits(legacy)
    # Each line is an anti-pattern legacy/schema.sql was written to contain (see its comments).
    expected = {
        ("G001", "public.cases"),  # is_active/is_closed/is_escalated/is_deleted
        ("G001", "public.case_activity"),  # is_approved/is_rejected/is_pending
        ("G002", "public.cases.status"),  # status soup
        ("G002", "public.case_activity.status"),
        ("G004", "public.case_activity"),  # one table for tasks, notes, decisions, emails
        ("G005", "public.case_attribute"),  # entity-attribute-value
        ("G003", "public.comment.commentable_id"),  # polymorphic association
        ("H004", "public.audit_log"),  # editable, cascading audit
        ("H001", "public.cases"),  # naive timestamps
        ("I001", "public.case_attribute"),  # no primary key
        ("I003", "public.audit_log.user_id"),  # reference without FK
        ("I005", "public.case_assignment.valid_to"),  # effective period unguarded
        ("I008", "public.case_assignment.case_assignment_case_id_fkey"),  # bigint -> integer
        ("S001", "public.cases"),  # org_id without RLS
        ("S004", "public.case_assignment.case_assignment_user_id_fkey"),  # cross-tenant FK
        ("S005", "public.users.users_email_key"),  # email unique across tenants
        ("S006", "public.audit_log"),  # UPDATE/DELETE granted to PUBLIC
        ("S007", "public.close_case(case_id integer)"),  # SECURITY DEFINER, no search_path
        ("X001", "public.cases.cases_status_idx2"),  # duplicate index
        ("G006", "public.case_activity.amount"),  # money as double precision
    }
    assert expected <= hits, expected - hits


def test_legacy_findings_name_their_file_and_line(legacy: dict[str, object]) -> None:
    for finding in legacy["findings"]:  # type: ignore[attr-defined]
        if finding["object"]["kind"] != "function":
            assert finding["location"]["file"].endswith("schema.sql"), finding
            assert finding["location"]["line"] >= 1


def test_casefile_is_silent_and_says_what_it_suppressed() -> None:
    outcome = dbtruth("check", str(EXAMPLES / "casefile"), "--scratch", "embedded",
                      "--format", "json")
    assert outcome.code == 0, outcome.out + outcome.err
    report = json.loads(outcome.out)
    assert report["findings"] == []
    # Only the three documented reference-table keys are suppressed, each with its reason.
    assert sorted(s["code"] for s in report["suppressed"]) == ["I002", "I002", "I002"]
    assert all("reference" in s["reason"] for s in report["suppressed"])
    assert report["unused_ignores"] == []
