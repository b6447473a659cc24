"""Foreign keys and indexes the SQL files themselves dropped: the history records a decision
the final schema cannot show, and the rules that would call the absence an oversight say where
it was taken, at info."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtruth.sources import snapshot
from dbtruth.sources.target import LoadOptions, load_target
from tests.helpers import SCRATCH_KINDS, dbtruth

KINDS = SCRATCH_KINDS

FIRST = """\
CREATE TABLE project (id int PRIMARY KEY, owner_email text, budget numeric);
CREATE TABLE network (id int PRIMARY KEY, owner_email text, budget numeric);
CREATE TABLE trace_media (id int PRIMARY KEY,
                          project_id int CONSTRAINT trace_media_project_id_fkey REFERENCES project);
CREATE TABLE credential (id int PRIMARY KEY, nid int REFERENCES network ON DELETE CASCADE);
CREATE INDEX credential_nid_idx ON credential (nid);
CREATE TABLE note (id int PRIMARY KEY,
                   project_id int CONSTRAINT note_project_id_fkey REFERENCES project);
CREATE TABLE session (id int PRIMARY KEY, nid int REFERENCES network ON DELETE CASCADE);
CREATE INDEX session_nid_idx ON session (nid);
CREATE SCHEMA iam;
CREATE TABLE iam.address (id int PRIMARY KEY, nid int, via text NOT NULL, value text NOT NULL,
                          UNIQUE (nid, via, value));
CREATE TABLE device (id int PRIMARY KEY, owner int, kind text NOT NULL, UNIQUE (owner, kind));
CREATE TABLE contact (id int PRIMARY KEY, nid int, email text NOT NULL, UNIQUE (nid, email));
"""
# Line 2 drops the key of trace_media, line 3 the index of credential. note's key is dropped
# and added again with another ON DELETE, session's index dropped and built again: neither is
# a removal. Line 9 drops nothing (IF EXISTS of an index that never was).
SECOND = """\
-- media links: the foreign keys cost too much on the hot link tables
ALTER TABLE trace_media DROP CONSTRAINT trace_media_project_id_fkey;
DROP INDEX credential_nid_idx;
ALTER TABLE note DROP CONSTRAINT note_project_id_fkey;
ALTER TABLE note ADD CONSTRAINT note_project_id_fkey
    FOREIGN KEY (project_id) REFERENCES project ON DELETE CASCADE;
DROP INDEX session_nid_idx;
CREATE INDEX session_nid_idx ON session (nid);
DROP INDEX IF EXISTS never_was_idx;
SET search_path = iam, public;
ALTER TABLE address ALTER COLUMN nid TYPE int, ALTER COLUMN nid DROP NOT NULL;
ALTER TABLE device ALTER COLUMN owner DROP NOT NULL, ALTER COLUMN kind DROP NOT NULL;
ALTER TABLE device ALTER COLUMN kind SET NOT NULL;
"""
# Line 11 declares iam.address.nid nullable (it was already: what a migration generator writes
# for "null: true"), through the search_path; line 12 device.owner (kind is NOT NULL again at
# line 13). contact.nid was never declared nullable.


def _files(tmp_path: Path) -> list[Path]:
    first, second = tmp_path / "001_init.sql", tmp_path / "002_drop_keys.sql"
    first.write_text(FIRST)
    second.write_text(SECOND)
    return [first, second]


@pytest.mark.parametrize("kind", KINDS)
def test_keys_and_indexes_dropped_by_the_files_are_decisions_on_record(
    kind: str, tmp_path: Path
) -> None:
    first, second = _files(tmp_path)
    outcome = dbtruth("check", str(first), str(second), "--scratch", kind, "--format", "json",
                      "--select", "I002,I003", "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    found = {(f["code"], f["object"]["path"]): f for f in json.loads(outcome.out)["findings"]}
    unreferenced = found[("I003", "public.trace_media.project_id")]
    assert unreferenced["severity"] == "info"
    assert f"trace_media_project_id_fkey was dropped at {second}:2" in unreferenced["message"]
    unindexed = found[("I002", "public.credential.credential_nid_fkey")]
    assert unindexed["severity"] == "info"
    assert f"credential_nid_idx on these columns was dropped at {second}:3" in unindexed["message"]
    # A key added again and an index built again leave nothing for either rule to report.
    assert not {path for _, path in found} & {
        "public.note.project_id", "public.session.session_nid_fkey"
    }


@pytest.mark.parametrize("kind", KINDS)
def test_columns_the_files_declare_nullable_are_decisions_on_record(
    kind: str, tmp_path: Path
) -> None:
    first, second = _files(tmp_path)
    outcome = dbtruth("check", str(first), str(second), "--scratch", kind, "--format", "json",
                      "--select", "I007", "--fail-on", "never")  # fmt: skip
    assert outcome.code == 0, outcome.err
    found = {f["object"]["path"]: f for f in json.loads(outcome.out)["findings"]}
    address = found["iam.address.address_nid_via_value_key"]
    assert address["severity"] == "info"
    assert f"declare nullable (DROP NOT NULL) nid at {second}:11" in address["message"]
    device = found["public.device.device_owner_kind_key"]
    assert (device["severity"], device["message"].count(f"{second}:12")) == ("info", 1)
    assert found["public.contact.contact_nid_email_key"]["severity"] == "warning"


def test_removals_survive_a_snapshot(tmp_path: Path) -> None:
    loaded = load_target(tuple(str(p) for p in _files(tmp_path)), LoadOptions(scratch="embedded"))
    removed = {(r.kind, r.table_qualified, r.name, r.columns, r.line)
               for r in loaded.catalog.removed}  # fmt: skip
    assert removed == {
        ("foreign key", "public.trace_media", "trace_media_project_id_fkey", ("project_id",), 2),
        ("index", "public.credential", "credential_nid_idx", ("nid",), 3),
        ("not null", "iam.address", "nid", ("nid",), 11),
        ("not null", "public.device", "owner", ("owner",), 12),
    }
    path = tmp_path / "snapshot.json"
    path.write_text(snapshot.dumps(loaded.catalog))
    assert snapshot.load(path).removed == loaded.catalog.removed
