"""`dbtruth review`: the playbook's template filled from evidence, the checklist and the maturity
model, in Markdown and HTML, for the designed example (casefile) and the legacy one after
`dbtruth init`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql as pg_sql

from tests.conftest import Server
from tests.helpers import EXAMPLES, dbtruth, write_files

AS_OF = "2026-11-23"  # the casefile's last restore drill (2026-10-14) is 40 days before
SECTIONS = (
    "Decision Summary", "Context", "Source of Truth", "Critical Invariants", "Workload",
    "Proposed Design", "Transaction and Concurrency", "Index and Query Plan",
    "Security and Privacy", "Migration and Evolution", "Operations", "Failure Modes",
    "Alternatives Considered", "Decision", "Revisit Triggers",
)  # fmt: skip
# Items per checklist part in the playbook (§6.1 … §6.10).
CHECKLIST_ITEMS = (6, 6, 6, 8, 8, 8, 8, 8, 9, 6)


def _review(*argv: str) -> str:
    outcome = dbtruth("review", *argv, "--scratch", "embedded", "--as-of", AS_OF)
    assert outcome.code == 0, outcome.err
    return outcome.out


def _copy(example: str, tmp: Path) -> Path:
    folder = tmp / example
    shutil.copytree(EXAMPLES / example, folder)
    return folder


@pytest.fixture(scope="module")
def casefile() -> str:
    return _review(str(EXAMPLES / "casefile"))


@pytest.fixture(scope="module")
def legacy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _copy("legacy", tmp_path_factory.mktemp("review"))
    outcome = dbtruth("init", str(folder), "--scratch", "embedded")
    assert outcome.code == 0, outcome.err
    return folder


@pytest.fixture(scope="module")
def legacy(legacy_folder: Path) -> str:
    return _review(str(legacy_folder))


def _section(markdown: str, title: str) -> str:
    start = markdown.index(f". {title}\n")
    following = markdown.find("\n## ", start)
    return markdown[start : following if following >= 0 else None]


def _table_rows(markdown: str, header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table whose header starts with `header`, by first cell."""
    lines = markdown[markdown.index(header) :].splitlines()[2:]  # past the header and the rule
    rows: dict[str, list[str]] = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows[cells[0]] = cells
    return rows


def _maturity(markdown: str) -> int:
    match = re.search(r"Maturity level: \*\*(\d)\*\* of 4", markdown)
    assert match, "no maturity level in the header"
    return int(match.group(1))


def _checklist_rows(markdown: str) -> list[tuple[str, str, str]]:
    part = markdown[markdown.index("## Checklist") : markdown.index("## Maturity")]
    rows = re.findall(
        r"^\| (.+?) \| \S+ (yes|declared|guess|no|n/a|unknown) \| (.*) \|$", part, re.M
    )
    return [(q, a, e) for q, a, e in rows]


@pytest.mark.parametrize("which", ["casefile", "legacy"])
def test_all_fifteen_sections_in_order_each_stating_its_evidence(
    which: str, request: pytest.FixtureRequest
) -> None:
    markdown: str = request.getfixturevalue(which)
    headings = re.findall(r"^## (\d+)\. (.+)$", markdown, re.M)
    assert [(int(n), t) for n, t in headings] == list(enumerate(SECTIONS, start=1))
    for title in SECTIONS:
        assert "**Evidence used:**" in _section(markdown, title), title


@pytest.mark.parametrize("which", ["casefile", "legacy"])
def test_checklist_answers_every_playbook_question_with_evidence(
    which: str, request: pytest.FixtureRequest
) -> None:
    markdown: str = request.getfixturevalue(which)
    parts = re.findall(r"^### (6\.\d+) ", markdown, re.M)
    assert parts == [f"6.{n}" for n in range(1, 11)]
    rows = _checklist_rows(markdown)
    assert len(rows) == sum(CHECKLIST_ITEMS)
    assert all(evidence.strip() for _, _, evidence in rows)


def test_casefile_reaches_a_higher_maturity_than_legacy_for_stated_reasons(
    casefile: str, legacy: str
) -> None:
    # casefile declares roles, invariants, workload contracts, operations, ADRs and practices;
    # legacy after `init` has only guesses, and one table without a primary key.
    assert _maturity(casefile) == 3
    assert _maturity(legacy) == 0
    level_1 = legacy[legacy.index("### Level 1") : legacy.index("### Level 2")]
    assert re.search(r"PK/FK/unique constraints in use \| ❌ missed \| 7 of 8 tables", level_1)
    assert "Backups exist | ❔ unknown" in level_1
    level_4 = casefile[casefile.index("### Level 4") :]
    assert "Data contract registry | ❔ unknown" in level_4  # what keeps casefile at 3
    decision = _section(casefile, "Decision")
    assert "to reach level 4: Data contract registry" in decision


def test_answers_follow_the_evidence(casefile: str, legacy: str) -> None:
    def answer(markdown: str, question: str) -> tuple[str, str]:
        return next((a, e) for q, a, e in _checklist_rows(markdown) if q.startswith(question))

    assert answer(casefile, "Is it clear what one row represents")[0] == "yes"
    verdict, evidence = answer(legacy, "Is it clear what one row represents")
    assert verdict == "no" and "public.case_attribute" in evidence  # the EAV table has no PK
    # the drill is a date in dbtruth.yaml: declared, not seen
    verdict, evidence = answer(casefile, "Was a restore tested")
    assert verdict == "declared" and "40 days ago" in evidence
    # nothing recorded is no evidence either way: unknown, not "no"
    verdict, evidence = answer(legacy, "Was a restore tested")
    assert verdict == "unknown" and "no restore drill recorded" in evidence
    # legacy's init draft holds guesses only: the truth is not yet named
    verdict, evidence = answer(legacy, "Is the source of truth named?")
    assert verdict == "guess" and "guessed" in evidence
    assert answer(casefile, "Is the tenant boundary clear and enforced?")[0] == "yes"
    assert answer(legacy, "Is the tenant boundary clear and enforced?")[0] == "no"
    verdict, evidence = answer(casefile, "Are alternatives recorded?")
    assert verdict == "declared" and "1 ADR" in evidence  # a document says so


def test_sections_without_evidence_list_open_questions(casefile: str, legacy: str) -> None:
    assert "**Open questions:**" in _section(legacy, "Decision Summary")
    assert "**Open questions:**" not in _section(casefile, "Decision Summary")
    assert "Approve the casework schema" in _section(casefile, "Decision Summary")
    assert "**Open questions:**" in _section(legacy, "Alternatives Considered")
    # casefile's ADR supplies alternatives and revisit triggers, each citing its file
    assert "0001-append-only-state-transitions.md" in _section(casefile, "Alternatives Considered")
    assert "Transitions per case exceed 1,000" in _section(casefile, "Revisit Triggers")


def test_mermaid_diagram_has_every_table_and_foreign_key(casefile: str) -> None:
    sql = "\n".join(
        line
        for path in sorted((EXAMPLES / "casefile").glob("*.sql"))
        for line in path.read_text().splitlines()
        if not line.lstrip().startswith("--")
    )
    # partitions (CREATE TABLE … PARTITION OF) are drawn as their parent, not as tables
    tables = set(re.findall(r"CREATE TABLE casework\.(\w+) \(", sql))
    references = len(re.findall(r"\bREFERENCES\b", sql))
    block = re.search(r"```mermaid\n(.*?)```", casefile, re.S)
    assert block, "no Mermaid block"
    lines = block.group(1).splitlines()
    assert lines[0] == "erDiagram"
    entities = set(re.findall(r"^    (\w+) \{$", block.group(1), re.M))
    assert entities == tables
    relation = re.compile(r'^    (\w+) (\|\||\|o)--(o\{|o\|) (\w+) : "[^"]+"$')
    relations = [relation.match(line) for line in lines if "--" in line]
    assert all(relations), [line for line in lines if "--" in line]
    assert len(relations) == references
    assert all(m.group(1) in entities and m.group(4) in entities for m in relations if m)
    # from_state is the one nullable reference: drawn as optional on the parent side
    assert any(m.group(2) == "|o" and m.group(4) == "case_state_transition" for m in relations if m)
    attribute = re.compile(r"^        \w+ \w+( PK| FK| UK)?(, (FK|UK))?$")
    attributes = [line for line in lines if line.startswith("        ")]
    assert attributes and all(attribute.match(line) for line in attributes), attributes


def test_a_broken_invariant_shows_in_the_review_and_costs_the_level(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    manifest = folder / "dbtruth.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace("object: casework.uq_one_active_primary_assignment",
                     "object: casework.uq_no_such_index")
    )  # fmt: skip
    markdown = _review(str(folder))
    invariants = _section(markdown, "Critical Invariants")
    assert re.search(r"`one-active-primary` .*\*\*not enforced\*\*", invariants)
    assert _maturity(markdown) == 2  # the invariant catalog criterion (level 3) is missed
    assert "Invariant catalog | ❌ missed" in markdown


def test_an_old_restore_drill_drops_to_level_one(tmp_path: Path) -> None:
    outcome = dbtruth(
        "review", str(EXAMPLES / "casefile"), "--scratch", "embedded", "--as-of", "2027-12-01"
    )
    assert outcome.code == 0, outcome.err
    assert _maturity(outcome.out) == 1
    # 2026-10-14 → 2027-10-14 is 365 days, → 2027-12-01 another 48
    assert re.search(
        r"Restore drill \| ❌ missed \| last restore drill 2026-10-14 is 413 days", outcome.out
    )


def test_missing_files_named_by_the_manifest_are_reported(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    shutil.rmtree(folder / "docs" / "runbooks")
    markdown = _review(str(folder))
    assert "runbooks named but missing: `docs/runbooks/lock-storm.md`" in markdown
    assert "Incident runbooks | ❌ missed" in markdown


def test_review_counts_every_finding_of_check(legacy_folder: Path, legacy: str) -> None:
    outcome = dbtruth("check", str(legacy_folder), "--scratch", "embedded", "--format", "json")
    findings = json.loads(outcome.out)["findings"]
    part = legacy[legacy.index("## Findings by playbook area") :]
    # one headline per finding, or per design decision repeated ("…: 3 tables") with its
    # objects as sub-items
    listed = []
    for code, count in re.findall(
        r"^- [🔴🟠🔵] \*\*([A-Z]\d{3}) [^*]+\*\* \(\w+\)(?:: (\d+) \w+$)?", part, re.M
    ):
        listed += [code] * int(count or 1)
    assert sorted(listed) == sorted(f["code"] for f in findings)
    assert len(re.findall(r"^  - `", part, re.M)) == sum(
        int(n) for n in re.findall(r"^- [🔴🟠🔵] .*\(\w+\): (\d+) \w+$", part, re.M)
    )
    headings = re.findall(r"^### (.+) \((\d+)\)$", part, re.M)
    assert sum(int(n) for _, n in headings) == len(findings)


def test_init_draft_is_not_taken_for_confirmed_design(legacy_folder: Path) -> None:
    drafted = yaml.safe_load((legacy_folder / "dbtruth.yaml").read_text())
    assert all(entry.get("guess") for entry in drafted["truth"].values())


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    # an output folder that does not exist
    missing = tmp_path / "no" / "such" / "review.md"
    outcome = dbtruth(
        "review", str(EXAMPLES / "casefile"), "--scratch", "embedded", "-o", str(missing)
    )
    assert outcome.code == 2
    assert outcome.err.startswith(f"dbtruth: error: {missing}: cannot write the output")
    assert "Traceback" not in outcome.err
    # an unreadable ADR is named in the review and the rest still reads
    folder = _copy("casefile", tmp_path)
    latin1 = b"# ADR 2\n\n## Status\n\nd\xe9cid\xe9\n"
    (folder / "docs" / "adr" / "0002-latin1.md").write_bytes(latin1)
    markdown = _review(str(folder))
    assert "0002-latin1.md: not UTF-8 text (byte" in markdown
    assert "1 ADR" in markdown  # 0001 still read
    # a malformed manifest stops the review before anything is loaded
    (folder / "dbtruth.yaml").write_text("context:\n  sumary: typo\n")
    outcome = dbtruth("review", str(folder), "--scratch", "embedded")
    assert outcome.code == 2
    assert "dbtruth.yaml:2" in outcome.err and "summary" in outcome.err


# --- how each answer is known (ARCHITECTURE: evidence levels) -------------------------------


def _answer(markdown: str, question: str) -> tuple[str, str]:
    return next((a, e) for q, a, e in _checklist_rows(markdown) if q.startswith(question))


def test_yes_only_on_what_the_database_shows(legacy: str) -> None:
    # After `init`, legacy's dbtruth.yaml holds guesses only: roles, and invariants that restate
    # its 16 keys. None of that is evidence, so nothing built on it may read "yes".
    for question in (
        "Is the source of truth named?",
        "Are projections, copies, caches and search indexes named?",
        "Are the illegal states named?",
        "Do the invariants the database enforces hold?",
        "Do consumers of copies have a contract?",
    ):
        verdict, evidence = _answer(legacy, question)
        assert verdict == "guess" and "dbtruth init" in evidence, (question, evidence)
    # init only restated constraints: what the application enforces is simply not said
    assert _answer(legacy, "Is it known which invariants the application enforces?")[0] == (
        "unknown"
    )
    assert _answer(legacy, "Are invariants outside the database monitored")[0] == "unknown"
    # schema.sql has no json column: nothing to contract, not a healthy "yes"
    assert _answer(legacy, "Do JSON columns have a contract?") == ("n/a", "no json/jsonb columns")
    # schema.sql has no row-level security and GRANTs SELECT on cases and audit_log TO PUBLIC
    verdict, evidence = _answer(legacy, "Are export, report and search boundaries safe?")
    assert verdict == "no"
    assert "`public.audit_log`" in evidence and "`public.cases`" in evidence
    assert all("dbtruth init" not in e for _, a, e in _checklist_rows(legacy) if a == "yes")


def test_empty_sets_are_not_applicable(tmp_path: Path) -> None:
    # One table with a primary key and nothing else: no json column, no unique key besides the
    # primary key, no audit table, no status column or enum.
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "schema.sql").write_text("CREATE TABLE note (id bigint PRIMARY KEY, body text);\n")
    markdown = _review(str(folder))
    for question in (
        "Do JSON columns have a contract?",
        "Are natural keys and unique constraints right?",
        "Are audit columns meaningful?",
        "Can enums and statuses evolve?",
    ):
        assert _answer(markdown, question)[0] == "n/a", question
    assert _answer(markdown, "Is it clear what one row represents")[0] == "yes"  # it has a PK


def test_an_info_finding_still_falsifies_a_yes(tmp_path: Path) -> None:
    # A yes says something holds everywhere; an info finding says where it does not, graded
    # down (H001 is info by design; S002's RLS left unforced is info). A blind reviewer found
    # "timestamps carry a time zone: yes" over 70 tables of timestamp without time zone.
    schema = (
        "CREATE TABLE note (id bigint PRIMARY KEY, tenant_id bigint NOT NULL,\n"
        "                   created_at timestamp NOT NULL, amount numeric(12, 2));\n"
        "ALTER TABLE note ENABLE ROW LEVEL SECURITY;\n"
        "CREATE POLICY note_tenant ON note\n"
        "    USING (tenant_id = current_setting('app.tenant_id')::bigint);\n"
    )
    markdown = _review(str(write_files(tmp_path / "stamps", {"schema.sql": schema})))
    verdict, evidence = _answer(markdown, "Do the types fit their meaning?")
    assert verdict == "no" and "graded info" in evidence and "H001" in evidence, evidence
    verdict, evidence = _answer(markdown, "Is RLS in place where it is needed?")
    assert verdict == "no" and "S002" in evidence, evidence


def test_a_prisma_folder_counts_its_migrations(tmp_path: Path) -> None:
    # Prisma keeps each migration as <version>_<name>/migration.sql, and a folder may itself
    # end in .sql: the review counted two such folders as the set's only migration files.
    folder = tmp_path / "migrations"
    for version, sql in (
        ("20240101000000_init", "CREATE TABLE note (id bigint PRIMARY KEY);"),
        ("20240102000000_body.sql", "ALTER TABLE note ADD COLUMN body text;"),
        ("20240103000000_title", "ALTER TABLE note ADD COLUMN title text;"),
    ):
        (folder / version).mkdir(parents=True)
        (folder / version / "migration.sql").write_text(sql + "\n")
    (folder / "migration_lock.toml").write_text('provider = "postgresql"\n')
    markdown = _review(str(folder))
    assert "3 numbered migration files in the target." in markdown


def test_grants_the_files_do_not_hold_are_unknown(tmp_path: Path) -> None:
    # Kratos and Langfuse grant nothing in their migrations: "no PUBLIC writes" there meant
    # only that there was nothing to read, and the review said yes.
    bare = write_files(
        tmp_path / "bare", {"schema.sql": "CREATE TABLE note (id bigint PRIMARY KEY);\n"}
    )
    verdict, evidence = _answer(_review(str(bare)), "Are roles and grants minimal?")
    assert verdict == "unknown" and "grant nothing" in evidence, evidence
    granted = write_files(tmp_path / "granted", {"schema.sql": (
        "CREATE TABLE note (id bigint PRIMARY KEY);\n"
        "GRANT INSERT, UPDATE ON note TO PUBLIC;\n"
    )})  # fmt: skip
    verdict, evidence = _answer(_review(str(granted)), "Are roles and grants minimal?")
    assert verdict == "no" and "S006" in evidence, evidence


def test_personal_data_is_the_value_not_what_names_it(tmp_path: Path) -> None:
    # Kratos' list held identity_recovery_address_id, address_type and the like: a reference
    # to an address, its category or a flag is not the address.
    folder = write_files(tmp_path / "people", {"schema.sql": (
        "CREATE TABLE recovery_address (id bigint PRIMARY KEY, email text, phone_number text,\n"
        "    address_type text, email_verified boolean, recovery_address_id bigint);\n"
    )})  # fmt: skip
    verdict, evidence = _answer(_review(str(folder)), "Are sensitive columns classified?")
    assert verdict == "unknown" and evidence.startswith("2 columns named like personal"), evidence
    assert "`public.recovery_address.email`" in evidence and "phone_number" in evidence
    assert not any(w in evidence for w in ("address_type", "email_verified", "_address_id"))


def test_a_key_most_tables_carry_is_named_as_a_possible_tenant_key(tmp_path: Path) -> None:
    # Kratos partitions every table by `nid` (to networks), a name no tenant-key list holds:
    # the review looked only at organization_id and missed that nid may be NULL on 16 tables.
    tables = "".join(
        f"CREATE TABLE {name} (id bigint PRIMARY KEY, nid uuid {null} REFERENCES networks);\n"
        for name, null in (("identities", ""), ("sessions", ""), ("flows", "NOT NULL"),
                           ("codes", "NOT NULL"), ("devices", "NOT NULL"))
    )  # fmt: skip
    schema = "CREATE TABLE networks (id uuid PRIMARY KEY);\n" + tables
    folder = write_files(tmp_path / "kratos", {"schema.sql": schema})
    markdown = _review(str(folder))
    assert (
        "`nid` references `public.networks` from 5 of 6 tables; it may be NULL on 2 of them"
        in markdown
    )
    (folder / "dbtruth.yaml").write_text("tenancy:\n  key: [nid]\n")
    named = _review(str(folder), "--manifest", str(folder / "dbtruth.yaml"))
    assert "The shape suggests another partition key" not in named


def test_an_empty_down_file_is_no_rollback(tmp_path: Path) -> None:
    # popx (Ory Kratos) writes an empty down file where a migration has no way back: 113 of
    # Kratos' 351 down files hold nothing, and other dialects' down files are not PostgreSQL's.
    # A file that is there but rolls nothing back is not a declared rollback.
    up = "CREATE TABLE note (id bigint PRIMARY KEY);\n"
    only_empty = write_files(tmp_path / "empty", {
        "0001_note.up.sql": up,
        "0001_note.down.sql": "-- nothing to undo\n",
        "0001_note.mysql.down.sql": "DROP TABLE note;\n",
    })  # fmt: skip
    verdict, evidence = _answer(_review(str(only_empty)), "Is rollback or roll-forward clear?")
    assert verdict == "unknown", evidence
    assert evidence.startswith("1 down migration file, none with a statement"), evidence
    mixed = write_files(tmp_path / "mixed", {
        "0001_note.up.sql": up,
        "0001_note.down.sql": "DROP TABLE note;\n",
        "0002_body.up.sql": "ALTER TABLE note ADD COLUMN body text;\n",
        "0002_body.down.sql": "/* no way back */\n",
    })  # fmt: skip
    markdown = _review(str(mixed))
    verdict, evidence = _answer(markdown, "Is rollback or roll-forward clear?")
    assert verdict == "declared", evidence
    # two migrations, not four files: the down files are not migrations the runner applies
    assert "2 numbered migration files in the target." in markdown
    assert "1 down migration file with statements" in evidence, evidence
    assert "1 down file holds no statement" in evidence, evidence


def test_the_title_names_the_design_not_the_folder_it_sits_in(tmp_path: Path) -> None:
    # acme/db/migrations: "migrations" and "db" say where SQL lives, "acme" whose it is
    folder = tmp_path / "acme" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_init.sql").write_text("CREATE TABLE note (id bigint PRIMARY KEY);\n")
    markdown = _review(str(folder))
    assert markdown.startswith("# Database Architecture Review: acme\n")
    # counts read as English: "1 primary key, 0 unique indexes", "0 errors"
    assert "catalog: 1 primary key, 0 unique indexes without a constraint" in markdown
    assert "- Findings: 0 errors, " in markdown


def test_invariant_counts_say_how_each_is_known(legacy: str, casefile: str) -> None:
    # legacy: init restates every key — PRIMARY KEY, UNIQUE and REFERENCES in schema.sql.
    schema = (EXAMPLES / "legacy" / "schema.sql").read_text()
    keys = sum(
        len(re.findall(rf"\b{k}\b", schema)) for k in ("PRIMARY KEY", "UNIQUE", "REFERENCES")
    )
    assert keys == 16
    summary = _section(legacy, "Decision Summary")
    assert f"{keys} invariants: 0 proven" in summary
    assert f"{keys} declared by an existing constraint (guessed by `dbtruth init`" in summary
    assert "held" not in summary
    # casefile: each invariant names an object the catalog has, except the one the
    # application keeps (with a detective query).
    declared = yaml.safe_load((EXAMPLES / "casefile" / "dbtruth.yaml").read_text())["invariants"]
    by_object = sum(
        1 for i in declared if i["enforcement"] not in ("application", "reconciliation")
    )
    # Each kept by an object is proven by its illegal write; the one the application keeps,
    # by racing the write path dbtruth.yaml gives it.
    summary = _section(casefile, "Decision Summary")
    assert f"{len(declared)} invariants: {len(declared)} proven" in summary
    rows = _table_rows(_section(casefile, "Critical Invariants"), "| Id |")
    for invariant in declared:
        status = rows[f"`{invariant['id']}`"][-1]
        assert status.startswith("**proven**: "), status
        if invariant["enforcement"] in ("application", "reconciliation"):
            assert "two sessions" in status, status
        else:
            assert "refused" in status, status
    verdict, evidence = _answer(casefile, "Do the invariants the database enforces hold?")
    assert verdict == "yes" and f"all {by_object} proven" in evidence
    assert "| Invariant catalog | ✅ met |" in casefile


def test_an_invariant_the_database_does_not_keep_is_shown_unenforced(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    sql = folder / "002_case.sql"
    sql.write_text(sql.read_text().replace(  # the guard forgets DELETE
        "BEFORE UPDATE OR DELETE ON casework.case_state_transition",
        "BEFORE UPDATE ON casework.case_state_transition"))  # fmt: skip
    markdown = _review(str(folder))
    rows = _table_rows(_section(markdown, "Critical Invariants"), "| Id |")
    status = rows["`transitions-immutable`"][-1]
    assert status.startswith("**unenforced**: PostgreSQL accepted 1 illegal write"), status
    assert "DELETE of a row of casework.case_state_transition" in status
    verdict, evidence = _answer(markdown, "Do the invariants the database enforces hold?")
    assert (verdict, "`transitions-immutable`" in evidence) == ("no", True)
    assert "| Invariant catalog | ❌ missed |" in markdown


def test_a_review_without_proofs_says_so(casefile: str) -> None:
    markdown = _review(str(EXAMPLES / "casefile"), "--no-prove")
    summary = _section(markdown, "Decision Summary")
    assert "invariants: 0 proven (not proven in this review" in summary
    assert "**proven**" not in markdown
    assert _answer(markdown, "Do the invariants the database enforces hold?")[0] == "declared"


def test_files_present_are_declared_not_seen(casefile: str) -> None:
    # practices.transaction_boundaries and operations.capacity_model name files that exist
    verdict, evidence = _answer(casefile, "Is the commit boundary known?")
    assert verdict == "declared" and "`docs/transactions.md`" in evidence
    assert _answer(casefile, "Is there a capacity model?")[0] == "declared"
    assert "Capacity model | ☑️ declared" in casefile
    assert _answer(casefile, "Is there a runbook?")[0] == "declared"
    # nothing answered yes rests on a document
    assert all("docs/" not in e for _, a, e in _checklist_rows(casefile) if a == "yes")


def _unpartition_audit_events(folder: Path) -> None:
    sql = folder / "004_audit_outbox.sql"
    text = sql.read_text().replace(") PARTITION BY RANGE (occurred_at);", ");")
    text = re.sub(
        r"CREATE TABLE casework\.audit_event_\d+ PARTITION OF .*?;\n", "", text, flags=re.S
    )
    sql.write_text(text)


def test_retention_by_partitions_needs_a_partitioned_table(casefile: str, tmp_path: Path) -> None:
    manifest = yaml.safe_load((EXAMPLES / "casefile" / "dbtruth.yaml").read_text())
    assert "partitions detached" in manifest["retention"]["casework.audit_event"]["method"]
    sql = (EXAMPLES / "casefile" / "004_audit_outbox.sql").read_text()
    partitions = len(re.findall(r"PARTITION OF casework\.audit_event\b", sql))
    assert "PARTITION BY RANGE" in sql and partitions == 2
    verdict, evidence = _answer(casefile, "Is there a deletion/retention path?")
    assert verdict == "declared"
    assert f"partitioned, {partitions} partitions in the catalog" in evidence
    # the same declaration on a table that is not partitioned is refuted, and says why
    folder = _copy("casefile", tmp_path)
    _unpartition_audit_events(folder)
    markdown = _review(str(folder))
    for question in ("Is there a deletion/retention path?", "Is the retention policy executable?"):
        verdict, evidence = _answer(markdown, question)
        assert verdict == "no", question
        assert (
            "`casework.audit_event`: the method works on partitions, but the table is not "
            "partitioned" in evidence
        )
    assert "**contradicted**: the method works on partitions" in _section(
        markdown, "Security and Privacy"
    )


def test_declared_names_are_checked_against_the_catalog(tmp_path: Path) -> None:
    folder = _copy("casefile", tmp_path)
    manifest = folder / "dbtruth.yaml"
    text = manifest.read_text()
    text = text.replace(
        "uses_index: casework.case_file_tenant_state_idx", "uses_index: casework.no_such_idx"
    )
    text = text.replace(
        "  casework.investigator: {role: truth, owner: case-management team}\n",
        "  casework.investigator: {role: truth, owner: case-management team}\n"
        "  casework.no_such_table: {role: truth, owner: case-management team}\n",
    )
    text = text.replace(
        "retention:\n",
        "retention:\n  casework.no_such_log: {keep: 1 year, method: nightly delete}\n",
    )
    manifest.write_text(text)
    markdown = _review(str(folder))
    verdict, evidence = _answer(markdown, "Are indexes aligned with the queries?")
    assert verdict == "no" and "index `casework.no_such_idx` does not exist" in evidence
    verdict, evidence = _answer(markdown, "Is the source of truth named?")
    assert verdict == "no" and "`casework.no_such_table`" in evidence
    verdict, evidence = _answer(markdown, "Is there a deletion/retention path?")
    assert verdict == "no" and "`casework.no_such_log` names no table" in evidence
    # a refuted declaration counts for nothing: workload-first is level 2, the map level 3
    assert "Workload-first indexes | ❌ missed" in markdown
    assert "Data authority map | ❌ missed" in markdown
    assert _maturity(markdown) == 1


def test_review_names_only_commands_that_exist(casefile: str, legacy: str) -> None:
    from dbtruth.cli import cli

    commands = set(cli.commands)  # type: ignore[attr-defined]
    for markdown in (casefile, legacy):
        named = set(re.findall(r"`dbtruth ([a-z][\w-]*)", markdown))
        assert named and named <= commands, named - commands


def test_adr_items_render_whole(casefile: str) -> None:
    # Items the ADR wraps over two lines, read from the ADR file itself.
    adr = EXAMPLES / "casefile" / "docs" / "adr" / "0001-append-only-state-transitions.md"
    text = adr.read_text()

    def items(heading: str) -> list[str]:
        body = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
        return [" ".join(item.split()) for item in re.split(r"^- ", body, flags=re.M)[1:]]

    alternatives, decided = items("Alternatives Considered"), items("Decision")
    assert len(alternatives) == 3 and len(decided) == 3
    assert any(item.count(" ") > 12 for item in alternatives + decided)  # longer than one line
    for item in alternatives:
        assert f"- {item} — *" in _section(casefile, "Alternatives Considered"), item
    for item in decided:
        assert f"- {item}\n" in _section(casefile, "Decision"), item


def test_an_unknown_output_suffix_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "review.pdf"
    outcome = dbtruth(
        "review", str(EXAMPLES / "legacy"), "--scratch", "embedded", "-o", str(target)
    )
    assert outcome.code == 2
    assert outcome.err.strip().splitlines() == [
        f"dbtruth: error: {target}: cannot write a review as '.pdf': use .md or .html, or pass "
        "--format"
    ]
    assert not target.exists()
    # the suffixes it knows, in any case, and --format for any other name
    for name, first in (
        ("r.MD", "# Database Architecture Review"),
        ("r.htm", "<!DOCTYPE html>"),
        ("r.pdf", "# Database Architecture Review"),
    ):
        extra = ("--format", "markdown") if name.endswith(".pdf") else ()
        output = tmp_path / name
        outcome = dbtruth(
            "review", str(EXAMPLES / "legacy"), "--scratch", "embedded", "-o", str(output), *extra
        )
        assert outcome.code == 0, outcome.err
        assert output.read_text().startswith(first), name


def test_live_settings_are_the_servers_not_dbtruths_session(server: Server) -> None:
    # dbtruth's session bounds itself (statement_timeout 60s, lock_timeout 1s, idle 60s); the
    # review must show what the server gives this database: PostgreSQL's defaults (0, off) for
    # what nobody set, and the database's own lock_timeout.
    name = server.create_database()
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute((EXAMPLES / "legacy" / "schema.sql").read_text().encode())
            database = pg_sql.Identifier(name)
            conn.execute(pg_sql.SQL("ALTER DATABASE {} SET lock_timeout = '7s'").format(database))
            defaults = dict(
                conn.execute(
                    "SELECT name, boot_val FROM pg_settings WHERE name IN "
                    "('statement_timeout', 'idle_in_transaction_session_timeout')"
                ).fetchall()
            )
        assert defaults == {"statement_timeout": "0", "idle_in_transaction_session_timeout": "0"}
        outcome = dbtruth("review", server.conninfo(name), "--as-of", AS_OF)
        assert outcome.code == 0, outcome.err
        settings = dict(
            re.findall(r"^\| `(\w+)` \| (\S+) \|", _section(outcome.out, "Operations"), re.M)
        )
        assert settings["statement_timeout"] == "0"
        assert settings["lock_timeout"] == "7000"  # 7 s, in the setting's unit (ms)
        assert settings["idle_in_transaction_session_timeout"] == "0"
        # On a live server the operations section is measured (dbtruth ops), and says so.
        operations = _section(outcome.out, "Operations")
        assert "`dbtruth ops` on the live server (observed, read-only)" in operations
        assert "O007 wal-archiving-off" in operations
        failures = _section(outcome.out, "Failure Modes")
        assert re.search(r"\| Deadlock or lock storm \| .* \| observed: ", failures)
    finally:
        server.drop_database(name)


def test_the_review_plans_the_workload_and_reads_the_contracts_from_the_plans(
    casefile: str, tmp_path: Path
) -> None:
    assert "operations are declared, not measured" in _section(casefile, "Operations")
    assert "measured only on a running server" in _section(casefile, "Failure Modes")
    workload = _section(casefile, "Workload")
    assert "contract kept" in workload and "Index Scan using casework.case_file_tenant_state_idx" \
        in workload  # fmt: skip
    assert "EXPLAIN on the copy of the SQL files" in workload
    # A plan on the copy never makes "yes": it holds none of production's sizes.
    assert re.search(r"Were plans tested with realistic data\? \| ❔ unknown", casefile)
    folder = _copy("casefile", tmp_path)
    manifest = folder / "dbtruth.yaml"
    contract = "contract: {uses_index: casework.case_file_tenant_state_idx,"
    ceiling = contract.replace("{", "{max_cost: 0.001, ")
    manifest.write_text(manifest.read_text().replace(contract, ceiling))
    markdown = _review(str(folder))
    assert "contract broken (X009)" in _section(markdown, "Workload")
    aligned = r"Are indexes aligned with the queries\? \| ❌ no \| the plan breaks"
    assert re.search(aligned, markdown)
    assert "Workload-first indexes | ❌ missed" in markdown
